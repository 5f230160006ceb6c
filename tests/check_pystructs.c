/*
 * Unit tests for pystructs/: object decoders and the thread/frame walker,
 * run over fake memory images built with the layouts of real versions.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "common/addrset.h"
#include "model/native.h"
#include "pystructs/code.h"
#include "pystructs/object.h"
#include "pystructs/threads.h"
#include "pystructs/reader.h"
#include "tests/image.h"

static struct image im;
static struct py_proc P;
static struct mem_reader *reader;

static void setup_version(unsigned minor)
{
	const struct py_layout *L = layout_builtin(3, minor);

	ck_assert_ptr_nonnull(L);
	image_init(&im, L);
}

/* Freeze the image and point a py_proc at it. */
static void start(uint64_t runtime)
{
	reader = image_reader(&im);
	memset(&P, 0, sizeof(P));
	P.mem = reader;
	P.L = *im.L;
	P.runtime = runtime;
	P.pthread_tid_offset = -1;
}

static void finish(void)
{
	py_proc_release(&P);
	mem_reader_free(reader);
	image_release(&im);
}

/* ---- strings ------------------------------------------------------ */

static void check_str(uint64_t obj, const char *want)
{
	char *s = NULL;
	size_t len;
	struct err e;

	ck_assert_int_eq(py_str_read(&P, obj, 1000, &s, &len, &e), 0);
	ck_assert_str_eq(s, want);
	ck_assert_uint_eq(len, strlen(want));
	free(s);
}

START_TEST(test_strings)
{
	static const unsigned minors[] = { 8, 10, 11, 12, 13 };
	unsigned minor = minors[_i];
	uint32_t latin[] = { 'c', 'a', 'f', 0xe9 };
	uint32_t cyr[] = { 0x41f, 0x440, 0x438 };
	uint32_t emoji[] = { 'a', 0x1f600 };
	uint32_t lone[] = { 0xdc80 };
	uint32_t nul[] = { 'a', 0, 0x42f, 'z' };
	uint64_t a, b, c, d, f, g, bad, notstr;
	char *s;
	struct err e;

	setup_version(minor);
	a = image_str(&im, "hello");
	b = image_str_kind(&im, latin, 4, 1);
	c = image_str_kind(&im, cyr, 3, 2);
	d = image_str_kind(&im, emoji, 2, 4);
	f = image_str_kind(&im, lone, 1, 2);
	g = image_str_kind(&im, nul, 4, 2);
	bad = image_str(&im, "x");
	image_put64(&im, bad + (uint64_t)im.L->unicode.length, 1ULL << 40);
	notstr = image_bytes(&im, "abc", 3);
	start(0);
	check_str(a, "hello");
	check_str(b, "caf\xc3\xa9");
	check_str(c, "\xd0\x9f\xd1\x80\xd0\xb8");
	check_str(d, "a\xf0\x9f\x98\x80");
	/* A lone surrogate is carried in its WTF-8 form (see escape.h). */
	check_str(f, "\xed\xb2\x80");
	/* A NUL is kept (as C0 80); a cut string ends in "...". */
	check_str(g, "a\xc0\x80\xd0\xafz");
	ck_assert_int_eq(py_str_read(&P, a, 4, &s, NULL, &e), 0);
	ck_assert_str_eq(s, "hell...");
	free(s);
	ck_assert_int_eq(py_str_read(&P, a, 5, &s, NULL, &e), 0);
	ck_assert_str_eq(s, "hello");
	free(s);
	ck_assert_int_eq(py_str_read(&P, bad, 10, &s, NULL, &e), SS_ECORRUPT);
	ck_assert_int_eq(py_str_read(&P, notstr, 10, &s, NULL, &e), SS_ECORRUPT);
	ck_assert_int_eq(py_str_read(&P, 0, 10, &s, NULL, &e), SS_ECORRUPT);
	ck_assert_int_eq(py_str_read(&P, IMAGE_BASE + IMAGE_SIZE + 64, 10, &s,
				     NULL, &e), SS_EREAD);
	finish();
}
END_TEST

/* An int with the given 30-bit digits, in the version's representation. */
static uint64_t make_int(const uint32_t *digits, size_t n)
{
	const struct py_layout *L = im.L;
	uint64_t o = image_alloc(&im, 64);

	image_put64(&im, o + (uint64_t)L->object.ob_type, im.type_int);
	if (L->pylong.kind == LAYOUT_LONG_LV_TAG)
		image_put64(&im, o + (uint64_t)L->pylong.tag,
			    n ? (uint64_t)n << 3 : 1);
	else
		image_put64(&im, o + (uint64_t)L->pylong.tag, n);
	for (size_t i = 0; i < n; i++)
		image_put32(&im, o + (uint64_t)L->pylong.digits + 4 * i, digits[i]);
	return o;
}

START_TEST(test_ints)
{
	unsigned minor = _i ? 12 : 10;
	uint32_t small[] = { 42 };
	/* 140213456789504 = a typical pthread_t */
	uint64_t want = 140213456789504ULL;
	uint32_t big[] = { (uint32_t)(want & 0x3fffffff),
			   (uint32_t)((want >> 30) & 0x3fffffff),
			   (uint32_t)(want >> 60) };
	uint32_t huge[] = { 1, 1, 1, 1 };
	uint64_t a, b, z, h, v;
	struct err e;

	setup_version(minor);
	a = make_int(small, 1);
	b = make_int(big, 3);
	z = make_int(NULL, 0);
	h = make_int(huge, 4);
	start(0);
	ck_assert_int_eq(py_long_read_u64(&P, a, &v, &e), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(py_long_read_u64(&P, b, &v, &e), 0);
	ck_assert_uint_eq(v, want);
	ck_assert_int_eq(py_long_read_u64(&P, z, &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(py_long_read_u64(&P, h, &v, &e), SS_ELIMIT);
	finish();
}
END_TEST

/* ---- threads and frames ------------------------------------------- */

/* 3.11+ location table: one "line only" entry (code 13) covering 8 code
 * units, line = firstlineno + 2. */
static const uint8_t loc_table[] = { 0x80 | (13 << 3) | 7, 0x04 };
/* 3.10 table: bytes [0,16) -> firstlineno + 1. */
static const uint8_t table_310[] = { 16, 1 };

/* A 3.11+ interpreter frame running 'code' at code unit idx. */
static uint64_t iframe(uint64_t code, int idx, uint64_t previous, int owner)
{
	const struct py_layout *L = im.L;
	uint64_t f = image_alloc(&im, (size_t)L->frame.localsplus + 64);

	image_put64(&im, f + (uint64_t)L->frame.code, code);
	image_put64(&im, f + (uint64_t)L->frame.back, previous);
	image_put64(&im, f + (uint64_t)L->frame.instr_ptr,
		    code + (uint64_t)L->code.code_adaptive + 2 * (uint64_t)idx);
	image_put8(&im, f + (uint64_t)L->frame.owner, (uint8_t)owner);
	return f;
}

static struct snapshot *read_all(int want_rc)
{
	struct snapshot *s = snap_new();
	struct err e;

	err_clear(&e);
	ck_assert_int_eq(py_read_threads(&P, NULL, s, &e), want_rc);
	return s;
}

START_TEST(test_walk_interp_frames)
{
	static const unsigned minors[] = { 11, 12, 13 };
	struct image_runtime r;
	uint64_t outer, inner, f_outer, shim, f_inner, gil;
	struct snapshot *s;

	setup_version(minors[_i]);
	r = image_runtime(&im);
	outer = image_code(&im, "outer", "/app/main.py", 10, loc_table,
			   sizeof(loc_table), 8);
	inner = image_code(&im, "Worker.inner", "/app/worker.py", 40,
			   loc_table, sizeof(loc_table), 8);
	f_outer = iframe(outer, 3, 0, 0);
	/* 3.12+ puts C-stack shim frames in the chain; they are skipped. */
	shim = im.L->frame.owner_skip != LAYOUT_NONE ?
	       iframe(0, 0, f_outer, im.L->frame.owner_skip) : f_outer;
	f_inner = iframe(inner, 5, shim, 0);
	image_set_top_frame(&im, r.ts[0], f_inner);
	/* ts[1] holds the GIL. */
	if (im.L->interp.ceval_gil != LAYOUT_NONE) {
		gil = image_alloc(&im, 256);
		image_put64(&im, r.interp + (uint64_t)im.L->interp.ceval_gil, gil);
		image_put32(&im, gil + (uint64_t)im.L->gil.locked, 1);
		image_put64(&im, gil + (uint64_t)im.L->gil.last_holder, r.ts[1]);
	} else {
		image_put64(&im, r.runtime + (uint64_t)im.L->runtime.tstate_current,
			    r.ts[1]);
	}
	start(r.runtime);
	s = read_all(0);
	ck_assert_uint_eq(s->nthreads, 2);
	/* Creation order: ts[0] first. */
	ck_assert_uint_eq(s->threads[0].thread_id, 0x7f0000001000ULL);
	ck_assert_int_eq(s->threads[0].native_id, 1000);
	ck_assert(!s->threads[0].holds_gil);
	ck_assert(s->threads[1].holds_gil);
	ck_assert_ptr_null(s->threads[0].error);
	ck_assert_uint_eq(s->threads[0].nframes, 2);
	ck_assert_str_eq(s->threads[0].frames[0].function, "Worker.inner");
	ck_assert_str_eq(s->threads[0].frames[0].filename, "/app/worker.py");
	ck_assert_int_eq(s->threads[0].frames[0].line, 42);
	ck_assert_str_eq(s->threads[0].frames[1].function, "outer");
	ck_assert_int_eq(s->threads[0].frames[1].line, 12);
	ck_assert_uint_eq(s->threads[1].nframes, 0);
	snap_free(s);
	finish();
}
END_TEST

/* <=3.10: heap frame objects linked by f_back. */
static uint64_t oframe(uint64_t code, int lasti, uint64_t back)
{
	const struct py_layout *L = im.L;
	uint64_t f = image_alloc(&im, (size_t)L->frame.localsplus + 64);

	image_put64(&im, f + (uint64_t)L->frame.code, code);
	image_put64(&im, f + (uint64_t)L->frame.back, back);
	image_put32(&im, f + (uint64_t)L->frame.lasti, (uint32_t)lasti);
	return f;
}

START_TEST(test_walk_frame_objects)
{
	struct image_runtime r;
	uint64_t code, f1, f2;
	struct snapshot *s;

	setup_version(10);
	r = image_runtime(&im);
	code = image_code(&im, "handler", "/srv/h.py", 7, table_310,
			  sizeof(table_310), 0);
	f1 = oframe(code, 2, 0);
	f2 = oframe(code, 4, f1);
	image_set_top_frame(&im, r.ts[1], f2);
	start(r.runtime);
	s = read_all(0);
	ck_assert_uint_eq(s->threads[1].nframes, 2);
	ck_assert_str_eq(s->threads[1].frames[0].function, "handler");
	ck_assert_int_eq(s->threads[1].frames[0].line, 8);
	ck_assert_int_eq(s->threads[1].native_id, -1);
	snap_free(s);
	finish();
}
END_TEST

START_TEST(test_frame_cycle_is_cut)
{
	struct image_runtime r;
	uint64_t code, f1, f2;
	struct snapshot *s;

	setup_version(12);
	r = image_runtime(&im);
	code = image_code(&im, "spin", "/x.py", 1, loc_table, sizeof(loc_table), 8);
	f1 = iframe(code, 0, 0, 0);
	f2 = iframe(code, 1, f1, 0);
	image_put64(&im, f1 + (uint64_t)im.L->frame.back, f2); /* loop */
	image_set_top_frame(&im, r.ts[0], f2);
	start(r.runtime);
	s = read_all(0);
	ck_assert_uint_eq(s->threads[0].nframes, 2);
	ck_assert_ptr_nonnull(s->threads[0].error);
	snap_free(s);
	finish();
}
END_TEST

START_TEST(test_thread_list_cycle_is_an_error)
{
	struct image_runtime r;
	struct snapshot *s;

	setup_version(12);
	r = image_runtime(&im);
	image_put64(&im, r.ts[0] + (uint64_t)im.L->tstate.next, r.ts[1]);
	start(r.runtime);
	s = read_all(SS_ECORRUPT);
	snap_free(s);
	finish();
}
END_TEST

/* A thread list as long as many threads: the walk's bound comes from
 * the process's task count (with slack), and a list going on past it is
 * cut and said so; with no count, the hard bound only. */
START_TEST(test_thread_list_bound_from_tids)
{
	enum { EXTRA = 1100 };
	const pid_t tids[2] = { 1000, 1001 };
	struct py_read_opts o = { 0 };
	struct image_runtime r;
	struct snapshot *s;
	uint64_t next;
	struct err e;

	setup_version(12);
	r = image_runtime(&im);
	/* EXTRA more thread states before the two, newest first. */
	next = r.ts[1];
	for (int i = 0; i < EXTRA; i++) {
		uint64_t ts = image_alloc(&im, (size_t)im.L->tstate.size);

		image_put64(&im, ts + (uint64_t)im.L->tstate.interp, r.interp);
		image_put64(&im, ts + (uint64_t)im.L->tstate.thread_id,
			    0x7f0000100000ULL + (uint64_t)i);
		image_put64(&im, ts + (uint64_t)im.L->tstate.next, next);
		next = ts;
	}
	image_put64(&im, r.interp + (uint64_t)im.L->interp.threads_head, next);
	start(r.runtime);

	s = read_all(0);
	ck_assert_uint_eq(s->nthreads, EXTRA + 2);
	ck_assert_ptr_null(s->threads_note);
	snap_free(s);

	o.tids = tids;
	o.ntids = 2;
	ck_assert_uint_lt(py_threads_bound(2), EXTRA + 2);
	s = snap_new();
	err_clear(&e);
	ck_assert_int_eq(py_read_threads(&P, &o, s, &e), 0);
	ck_assert_uint_eq(s->nthreads, py_threads_bound(2));
	ck_assert_ptr_nonnull(s->threads_note);
	ck_assert_ptr_nonnull(strstr(s->threads_note, "left out"));
	snap_free(s);

	o.ntids = 0;
	ck_assert_uint_eq(py_threads_bound(0), PY_THREADS_HARD_MAX);
	finish();
}
END_TEST

START_TEST(test_garbage_pointers)
{
	struct image_runtime r;
	uint64_t f;
	struct snapshot *s;

	setup_version(13);
	r = image_runtime(&im);
	/* A frame whose code pointer is junk, then a previous outside the
	 * image: one unknown frame, an error note, no crash. */
	f = iframe(0x12345678, 0, 0xdeadbeef000ULL, 0);
	image_set_top_frame(&im, r.ts[0], f);
	start(r.runtime);
	s = read_all(0);
	ck_assert_uint_le(s->threads[0].nframes, 1);
	ck_assert_ptr_nonnull(s->threads[0].error);
	snap_free(s);
	finish();
}
END_TEST

/* ---- the one frame walker ------------------------------------------ */

struct walk_log {
	uint64_t code[16];
	unsigned activation[16];
	size_t n;
};

static enum py_walk_step log_frame(void *arg, const struct py_walk_frame *f)
{
	struct walk_log *l = arg;

	if (l->n < 16) {
		l->code[l->n] = f->code;
		l->activation[l->n] = f->activation;
	}
	l->n++;
	return PY_WALK_KEEP;
}

/* Both modes: shim frames skipped (closing an activation), loops cut
 * (Brent's method alone within two turns, with a seen set at once), a
 * junk code pointer shown (dump) or breaking the chain (sampling). */
START_TEST(test_frame_walker_modes)
{
	struct image_runtime r;
	uint64_t outer, inner, f_outer, shim, f_inner, f1, f2, junk;
	struct py_walker w;
	struct walk_log l;
	struct addrset seen;
	struct err e;

	setup_version(12);
	r = image_runtime(&im);
	outer = image_code(&im, "outer", "/a.py", 1, loc_table,
			   sizeof(loc_table), 8);
	inner = image_code(&im, "inner", "/a.py", 9, loc_table,
			   sizeof(loc_table), 8);
	f_outer = iframe(outer, 0, 0, 0);
	shim = iframe(0, 0, f_outer, im.L->frame.owner_skip);
	f_inner = iframe(inner, 1, shim, 0);
	f1 = iframe(outer, 0, 0, 0);
	f2 = iframe(inner, 0, f1, 0);
	image_put64(&im, f1 + (uint64_t)im.L->frame.back, f2); /* loop */
	junk = iframe(0x1234567b, 0, 0, 0); /* not a pointer */
	start(r.runtime);
	addrset_init(&seen);
	for (int sampling = 0; sampling < 2; sampling++) {
		memset(&w, 0, sizeof(w));
		w.p = &P;
		w.sampling = sampling;
		memset(&l, 0, sizeof(l));
		err_clear(&e);
		ck_assert_int_eq(py_frames_walk(&w, f_inner, log_frame, &l, &e),
				 PY_WALK_DONE);
		ck_assert_uint_eq(l.n, 2);
		ck_assert_uint_eq(l.code[0], inner);
		ck_assert_uint_eq(l.code[1], outer);
		ck_assert_uint_eq(l.activation[0], 0);
		ck_assert_uint_eq(l.activation[1], 1);

		memset(&l, 0, sizeof(l));
		ck_assert_int_eq(py_frames_walk(&w, f2, log_frame, &l, &e),
				 PY_WALK_BROKEN);
		ck_assert_uint_ge(l.n, 2);
		ck_assert_uint_le(l.n, 4);
		w.seen = &seen;
		memset(&l, 0, sizeof(l));
		ck_assert_int_eq(py_frames_walk(&w, f2, log_frame, &l, &e),
				 PY_WALK_BROKEN);
		ck_assert_uint_eq(l.n, 2);
		ck_assert_int_eq(e.code, SS_ECORRUPT);
		w.seen = NULL;

		memset(&l, 0, sizeof(l));
		ck_assert_int_eq(py_frames_walk(&w, junk, log_frame, &l, NULL),
				 (sampling ? PY_WALK_BROKEN : PY_WALK_DONE));
		ck_assert_uint_eq(l.n, (sampling ? 0 : 1));
	}
	addrset_release(&seen);
	finish();
}
END_TEST

/* ---- the one code cache ------------------------------------------- */

/* A code object a dump decoded is taken over by the sampler; its name
 * rewritten in place (the same pointers, other text) is seen by the next
 * check, which drops it; the next lookup decodes it again; a sweep drops
 * what was not checked since. */
START_TEST(test_code_cache_shared)
{
	uint64_t code;
	const struct py_code *d;
	struct py_code *c;

	setup_version(12);
	code = image_code(&im, "first", "/a.py", 1, loc_table,
			  sizeof(loc_table), 8);
	start(0);
	d = py_code_get(&P, code, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->name, "first");
	c = py_code_get_checked(&P, code, 1);
	ck_assert_ptr_eq(c, d);
	c->key = 7;
	ck_assert_uint_eq(py_code_count(&P), 1);

	/* Unchanged: the check keeps it. */
	py_code_check(&P, &code, 1, 2);
	ck_assert_ptr_eq(py_code_get_checked(&P, code, 2), c);

	/* "first" -> "fizzz" in place: dropped, decoded again. */
	image_putbytes(&im, py_rd64(im.buf + (code - IMAGE_BASE),
				    im.L->code.qualname) +
		       (uint64_t)im.L->unicode.ascii_data, "fizzz", 5);
	mem_reader_free(reader);
	reader = image_reader(&im);
	P.mem = reader;
	py_code_check(&P, &code, 1, 3);
	c = py_code_get_checked(&P, code, 3);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->name, "fizzz");
	ck_assert_uint_eq(c->key, 0);
	/* Checked at most once per sample. */
	py_code_check(&P, &code, 1, 3);
	ck_assert_ptr_eq(py_code_get_checked(&P, code, 3), c);

	py_code_sweep(&P, 4);
	ck_assert_uint_eq(py_code_count(&P), 0);
	d = py_code_get(&P, code, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->name, "fizzz");
	finish();
}
END_TEST

/* ---- Python 2.7 objects ------------------------------------------- */

static uint64_t py2_obj(const char *type_name, size_t size, uint64_t *type)
{
	uint64_t o = image_alloc(&im, size);

	if (!*type)
		*type = image_type(&im, type_name);
	image_put64(&im, o + (uint64_t)im.L->object.ob_type, *type);
	return o;
}

/* 'str' is a byte string; 'unicode' points at UCS-4 (this build) data. */
START_TEST(test_py27_objects)
{
	const struct py_layout *L = layout_builtin(2, 7);
	uint64_t t_str = 0, t_uni = 0, t_int = 0, t_dict = 0;
	uint64_t s, u, data, i, d, table, k1, k2, v;
	uint32_t ucs[] = { 'w', 0xe9, 0x1f600 };
	char *out;
	uint64_t n;
	struct err e;

	ck_assert_ptr_nonnull(L);
	ck_assert_int_eq(L->unicode.kind, LAYOUT_STR_PY2);
	ck_assert_int_eq(L->unicode.char_size, 4);
	image_init(&im, L);
	t_str = im.type_str;
	s = py2_obj("str", (size_t)L->bytes.data + 8, &t_str);
	image_put64(&im, s + (uint64_t)L->bytes.size, 5);
	image_putbytes(&im, s + (uint64_t)L->bytes.data, "w\xc3\xa9r\xff", 6);
	u = py2_obj("unicode", 64, &t_uni);
	data = image_alloc(&im, sizeof(ucs));
	image_putbytes(&im, data, ucs, sizeof(ucs));
	image_put64(&im, u + (uint64_t)L->unicode.length, 3);
	image_put64(&im, u + (uint64_t)L->unicode.compact_data, data);
	i = py2_obj("int", 32, &t_int);
	image_put64(&im, i + (uint64_t)L->pylong.int_value, 140000000000001ULL);

	/* A dict of 8 slots: "a" -> int, a deleted slot, "b" -> str. */
	k1 = py2_obj("str", (size_t)L->bytes.data + 8, &t_str);
	image_put64(&im, k1 + (uint64_t)L->bytes.size, 1);
	image_putbytes(&im, k1 + (uint64_t)L->bytes.data, "a", 2);
	k2 = py2_obj("str", (size_t)L->bytes.data + 8, &t_str);
	image_put64(&im, k2 + (uint64_t)L->bytes.size, 1);
	image_putbytes(&im, k2 + (uint64_t)L->bytes.data, "b", 2);
	d = py2_obj("dict", 256, &t_dict);
	table = image_alloc(&im, 8 * 24);
	image_put64(&im, d + (uint64_t)L->dict.ma_mask, 7);
	image_put64(&im, d + (uint64_t)L->dict.ma_table, table);
	image_put64(&im, table + 1 * 24 + 8, k1);
	image_put64(&im, table + 1 * 24 + 16, i);
	image_put64(&im, table + 4 * 24 + 8, k2); /* deleted: no value */
	image_put64(&im, table + 6 * 24 + 8, k2);
	image_put64(&im, table + 6 * 24 + 16, s);
	start(0);

	/* Bytes pass through as they are (the writers escape bad UTF-8). */
	ck_assert_int_eq(py_str_read(&P, s, 100, &out, NULL, &e), 0);
	ck_assert_str_eq(out, "w\xc3\xa9r\xff");
	free(out);
	ck_assert_int_eq(py_str_read(&P, u, 100, &out, NULL, &e), 0);
	ck_assert_str_eq(out, "w\xc3\xa9\xf0\x9f\x98\x80");
	free(out);
	ck_assert_int_eq(py_long_read_u64(&P, i, &n, &e), 0);
	ck_assert_uint_eq(n, 140000000000001ULL);
	ck_assert_int_eq(py_dict_get_str(&P, d, "a", &v, &e), 0);
	ck_assert_uint_eq(v, i);
	ck_assert_int_eq(py_dict_get_str(&P, d, "b", &v, &e), 0);
	ck_assert_uint_eq(v, s);
	ck_assert_int_eq(py_dict_get_str(&P, d, "c", &v, &e), SS_ECORRUPT);
	finish();
}
END_TEST

/* 3.7.0-3.7.3 keep gilstate.tstate_current 88 bytes earlier. */
START_TEST(test_patch_release_fix)
{
	struct py_runtime_info info;
	struct py_proc p;
	struct err e;

	setup_version(7);
	memset(&info, 0, sizeof(info));
	info.runtime_kind = LAYOUT_RUNTIME_STRUCT;
	info.runtime = image_alloc(&im, 4096);
	info.major = 3;
	info.minor = 7;
	reader = image_reader(&im);
	snprintf(info.version_text, sizeof(info.version_text), "3.7.3");
	ck_assert_int_eq(py_proc_open(&p, reader, &info, &e), 0);
	ck_assert_int_eq(p.L.runtime.tstate_current, 1392);
	ck_assert_str_eq(p.version, "3.7.3");
	py_proc_release(&p);
	snprintf(info.version_text, sizeof(info.version_text), "3.7.4");
	ck_assert_int_eq(py_proc_open(&p, reader, &info, &e), 0);
	ck_assert_int_eq(p.L.runtime.tstate_current, 1480);
	py_proc_release(&p);
	/* A layout kind that does not match what was found is refused. */
	info.runtime_kind = LAYOUT_RUNTIME_GLOBALS;
	ck_assert_int_eq(py_proc_open(&p, reader, &info, &e), SS_EBADBUILD);
	/* So is a debug build before 3.13. */
	info.runtime_kind = LAYOUT_RUNTIME_STRUCT;
	info.debug_build = true;
	ck_assert_int_eq(py_proc_open(&p, reader, &info, &e), SS_EUNSUPPORTED);
	mem_reader_free(reader);
	image_release(&im);
}
END_TEST

/* A native frame entry for the merge tests. */
static void add_c(struct snap_thread *t, const char *fn, bool internal)
{
	struct snap_native *n = snap_add_native(t);

	n->kind = SNAP_STACK_NATIVE;
	n->function = fn ? strdup(fn) : NULL;
	n->internal = internal;
}

static void add_c_at(struct snap_thread *t, const char *fn, bool internal,
		     uint64_t sp)
{
	add_c(t, fn, internal);
	t->native[t->nnative - 1].sp = sp;
}

static void add_py(struct snap_thread *t, const char *fn, unsigned act)
{
	struct snap_frame *f = snap_add_frame(t);

	f->function = strdup(fn);
	f->filename = strdup("x.py");
	f->activation = act;
}

/* The shown entries as "C name" / "py name" / "--", joined by ' '. */
static void shown(const struct snap_thread *t, bool all, char *out,
		  size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->nnative; i++) {
		const struct snap_native *n = &t->native[i];
		size_t len = strlen(out);

		if (!py_native_shown(t, i, all))
			continue;
		snprintf(out + len, size - len, "%s%s", len ? " " : "",
			 n->kind == SNAP_STACK_PYTHON ? t->frames[n->py].function :
			 n->kind == SNAP_STACK_MARK ? "--" :
			 n->function ? n->function : "??");
	}
}

START_TEST(test_native_merge)
{
	struct snapshot *s = snap_new();
	struct snap_thread *t = snap_add_thread(s);
	char got[512];

	/* 3.12-style: two activations, the inner one called back from C. */
	add_py(t, "inner", 0);
	add_py(t, "cb", 0);
	add_py(t, "outer", 1);
	add_py(t, "main", 1);
	add_c(t, "futex_wait", false);
	add_c(t, "ext_block", false);
	add_c(t, "cfunction_call", true);
	add_c(t, "_PyEval_EvalFrameDefault", true);
	add_c(t, "PyObject_Call", true);
	add_c(t, "ext_call", false);
	add_c(t, "_PyEval_EvalFrameDefault.cold", true);
	add_c(t, "start_thread", false);
	py_native_merge(3, 12, t, NULL);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "futex_wait ext_block inner cb ext_call outer "
			 "main start_thread");
	shown(t, true, got, sizeof(got));
	ck_assert_str_eq(got, "futex_wait ext_block cfunction_call inner cb "
			 "_PyEval_EvalFrameDefault PyObject_Call ext_call outer "
			 "main _PyEval_EvalFrameDefault.cold start_thread");
	ck_assert(t->native[3].eval == false);

	/* Unwinding stopped early: what was unwound, the reason, then the
	 * Python frames not placed. */
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_py(t, "g", 1);
	add_c(t, "nanosleep", false);
	add_c(t, "PyEval_EvalFrameEx", true);
	add_c(t, NULL, true);
	py_native_merge(2, 7, t, "unwinding stopped: no unwind info");
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "nanosleep f -- g");

	/* No evaluation-loop symbol: a note, then every Python frame. */
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_c(t, "clock_nanosleep", false);
	add_c(t, NULL, true);
	py_native_merge(3, 15, t, NULL);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "clock_nanosleep -- f");
	/* Stripped: no name for the loop; each activation found by where it
	 * keeps its entry frame, inside the C frame's stack range. */
	t = snap_add_thread(s);
	add_py(t, "inner", 0);
	add_py(t, "cb", 0);
	add_py(t, "outer", 1);
	add_py(t, "main", 1);
	add_c_at(t, "futex_wait", false, 0x1000);
	add_c_at(t, "ext_block", false, 0x1100);
	add_c_at(t, NULL, true, 0x1200);
	add_c_at(t, NULL, true, 0x1300);
	add_c_at(t, NULL, true, 0x1400);
	add_c_at(t, "ext_call", false, 0x1500);
	add_c_at(t, NULL, true, 0x1600);
	add_c_at(t, "start_thread", false, 0x1700);
	t->eval_at = calloc(2, sizeof(*t->eval_at));
	t->eval_at[0] = 0x1350;
	t->eval_at[1] = 0x1600;
	t->neval_at = 2;
	py_native_merge(3, 15, t, NULL);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "futex_wait ext_block inner cb ext_call outer "
			 "main start_thread");
	shown(t, true, got, sizeof(got));
	ck_assert_str_eq(got, "futex_wait ext_block ?? inner cb ?? ?? ext_call "
			 "outer main ?? start_thread");
	ck_assert(t->native[5].eval && t->native[10].eval);
	ck_assert(!t->native[2].eval && !t->native[6].eval);

	/* An activation whose entry frame lies in no C frame: its Python
	 * frames go with the next one found; none found: the names, then
	 * the note. */
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_py(t, "g", 1);
	add_c_at(t, "nanosleep", false, 0x1000);
	add_c_at(t, NULL, true, 0x1100);
	add_c_at(t, "main", false, 0x1200);
	t->eval_at = calloc(2, sizeof(*t->eval_at));
	t->eval_at[0] = 0x10;
	t->eval_at[1] = 0x1180;
	t->neval_at = 2;
	py_native_merge_by(3, 12, t, NULL, PY_EVAL_FIND_STACK);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "nanosleep f g main");
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_c_at(t, "nanosleep", false, 0x1000);
	add_c_at(t, "_PyEval_EvalFrameDefault", true, 0x1100);
	py_native_merge_by(3, 12, t, NULL, PY_EVAL_FIND_STACK);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "nanosleep -- f");

	/* Unwinding stopped early (JIT code with no way past it): nothing
	 * is known above the last frame's locals, so it runs no activation
	 * however far up the entry frame lies. */
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_c_at(t, "nanosleep", false, 0x1000);
	add_c_at(t, NULL, false, 0x1100);
	t->eval_at = calloc(1, sizeof(*t->eval_at));
	t->eval_at[0] = 0x1800;
	t->neval_at = 1;
	py_native_merge(3, 14, t, "unwinding stopped: no unwind information");
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "nanosleep ?? -- f");
	/* Unwound to its end, the outermost frame holds the rest. */
	t = snap_add_thread(s);
	add_py(t, "f", 0);
	add_c_at(t, "nanosleep", false, 0x1000);
	add_c_at(t, NULL, true, 0x1100);
	t->eval_at = calloc(1, sizeof(*t->eval_at));
	t->eval_at[0] = 0x1800;
	t->neval_at = 1;
	py_native_merge(3, 14, t, NULL);
	shown(t, false, got, sizeof(got));
	ck_assert_str_eq(got, "nanosleep f");

	/* A name that only starts like the loop's is not it. */
	ck_assert(!py_is_eval_function("_PyEval_EvalFrameDefault",
				       "_PyEval_EvalFrameDefaultX"));
	ck_assert(py_is_eval_function("_PyEval_EvalFrameDefault",
				      "_PyEval_EvalFrameDefault.lto_priv.0"));
	snap_free(s);
}
END_TEST

static Suite *pystructs_suite(void)
{
	Suite *s = suite_create("pystructs");
	TCase *tc = tcase_create("decoders");

	tcase_add_loop_test(tc, test_strings, 0, 5);
	tcase_add_loop_test(tc, test_ints, 0, 2);
	tcase_add_loop_test(tc, test_walk_interp_frames, 0, 3);
	tcase_add_test(tc, test_walk_frame_objects);
	tcase_add_test(tc, test_frame_cycle_is_cut);
	tcase_add_test(tc, test_thread_list_cycle_is_an_error);
	tcase_add_test(tc, test_thread_list_bound_from_tids);
	tcase_add_test(tc, test_garbage_pointers);
	tcase_add_test(tc, test_frame_walker_modes);
	tcase_add_test(tc, test_code_cache_shared);
	tcase_add_test(tc, test_py27_objects);
	tcase_add_test(tc, test_patch_release_fix);
	tcase_add_test(tc, test_native_merge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(pystructs_suite());
}
