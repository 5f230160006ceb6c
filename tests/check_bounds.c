/*
 * Unit tests: every walk over target data ends, promptly and with bounded
 * output, however the data loops or whatever length it claims - a frame
 * chain pointing to itself, thread and interpreter lists that loop, a
 * task list that loops without coming back to its head, and str, bytes,
 * int, tuple, list, dict and set objects claiming 2^63, 2^63-1 or -1
 * items.  Also the regressions the fuzz targets (fuzz/) found.
 *
 * "Promptly" is counted, not timed: the image is read through a reader
 * that counts reads.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "common/xalloc.h"
#include "pystructs/asyncio.h"
#include "pystructs/code.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/locals.h"
#include "pystructs/object.h"
#include "pystructs/repr.h"
#include "pystructs/sampler.h"
#include "pystructs/threads.h"
#include "pystructs/reader.h"
#include "tests/image.h"

/* More reads than any of these small images needs when walked once. */
#define READS_MAX 20000

static const struct {
	unsigned major, minor;
} versions[] = {
	{ 2, 7 }, { 3, 6 }, { 3, 10 }, { 3, 11 }, { 3, 12 }, { 3, 13 },
	{ 3, 14 }, { 3, 15 },
};
#define NVERSIONS (int)(sizeof(versions) / sizeof(versions[0]))

/* ---- a reader that counts reads ----------------------------------- */

struct counter {
	struct mem_reader *inner;
	size_t reads;
};

static int count_read(void *priv, uint64_t addr, void *buf, size_t len,
		      struct err *e)
{
	struct counter *c = priv;

	c->reads++;
	return mem_read(c->inner, addr, buf, len, e);
}

static void count_free(void *priv)
{
	struct counter *c = priv;

	mem_reader_free(c->inner);
	free(c);
}

static const struct mem_ops count_ops = {
	.read = count_read,
	.free = count_free,
};

/* ---- fixture ------------------------------------------------------ */

static struct image im;
static struct py_proc P;
static struct mem_reader *reader;
static struct counter *counter;

static void setup_version(unsigned major, unsigned minor)
{
	const struct py_layout *L = layout_builtin(major, minor);

	ck_assert_ptr_nonnull(L);
	image_init(&im, L);
}

/* Freeze the image and point a py_proc at it. */
static void start(uint64_t runtime)
{
	counter = xcalloc(1, sizeof(*counter));
	counter->inner = image_reader(&im);
	reader = mem_reader_new(&count_ops, counter);
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

static uint64_t object(uint64_t type, size_t size)
{
	uint64_t o = image_alloc(&im, size);

	image_put64(&im, o + (uint64_t)im.L->object.ob_type, type);
	return o;
}

/* A frame of either kind running code at its first instruction. */
static uint64_t make_frame(uint64_t code, uint64_t back)
{
	const struct py_layout *L = im.L;
	uint64_t f = image_alloc(&im, (size_t)L->frame.localsplus + 64);

	image_put64(&im, f + (uint64_t)L->frame.code, code);
	image_put64(&im, f + (uint64_t)L->frame.back, back);
	if (L->frame.kind == LAYOUT_FRAME_INTERP)
		image_put64(&im, f + (uint64_t)L->frame.instr_ptr,
			    code + (uint64_t)L->code.code_adaptive);
	return f;
}

static const uint8_t loc_table[] = { 0x80 | (13 << 3) | 7, 0x04 };

/* A code object; on 2.7 (whose strings image.c does not make) one
 * without names, which the walkers show as an unknown frame. */
static uint64_t make_code(const char *name)
{
	if (im.L->unicode.kind == LAYOUT_STR_PY2)
		return object(im.type_code, (size_t)im.L->code.size);
	return image_code(&im, name, "/x.py", 1, loc_table, sizeof(loc_table),
			  8);
}

/* Take two samples; every thread's stack must stay small. */
static void check_sampler(size_t max_frames)
{
	struct py_sampler_opts so = { 0 };
	struct py_sampler *smp = py_sampler_new(&P, &so);
	struct sample sample = { 0 };

	for (int i = 0; i < 2; i++) {
		py_sampler_take(smp, 1 + (uint64_t)i * 2000000000ULL, &sample,
				NULL);
		ck_assert_uint_le(sample.nthreads, 2);
		for (size_t t = 0; t < sample.nthreads; t++)
			ck_assert_uint_le(sample.threads[t].nframes, max_frames);
	}
	sample_release(&sample);
	py_sampler_free(smp);
}

/* ---- loops -------------------------------------------------------- */

START_TEST(test_frame_points_to_itself)
{
	struct image_runtime r;
	struct snapshot *s;
	struct err e;
	uint64_t code, f;

	setup_version(versions[_i].major, versions[_i].minor);
	r = image_runtime(&im);
	code = make_code("spin");
	f = make_frame(code, 0);
	image_put64(&im, f + (uint64_t)im.L->frame.back, f);
	image_set_top_frame(&im, r.ts[0], f);
	start(r.runtime);
	s = snap_new();
	err_clear(&e);
	ck_assert_int_eq(py_read_threads(&P, NULL, s, &e), 0);
	ck_assert_uint_eq(s->nthreads, 2);
	ck_assert_uint_eq(s->threads[0].nframes, 1);
	if (im.L->unicode.kind != LAYOUT_STR_PY2)
		ck_assert_uint_eq(s->threads[0].frames[0].code, code);
	ck_assert_ptr_nonnull(s->threads[0].error);
	snap_free(s);
	check_sampler(1);
	ck_assert_uint_lt(counter->reads, READS_MAX);
	finish();
}
END_TEST

START_TEST(test_thread_list_loops)
{
	struct image_runtime r;
	struct snapshot *s;
	struct err e;

	for (int shape = 0; shape < 2; shape++) {
		setup_version(versions[_i].major, versions[_i].minor);
		r = image_runtime(&im);
		/* ts[0] -> itself, or ts[1] -> ts[0] -> ts[1] */
		image_put64(&im, r.ts[0] + (uint64_t)im.L->tstate.next,
			    shape ? r.ts[1] : r.ts[0]);
		start(r.runtime);
		s = snap_new();
		err_clear(&e);
		ck_assert_int_eq(py_read_threads(&P, NULL, s, &e), SS_ECORRUPT);
		ck_assert_uint_le(s->nthreads, 2);
		snap_free(s);
		check_sampler(0);
		ck_assert_uint_lt(counter->reads, READS_MAX);
		finish();
	}
}
END_TEST

START_TEST(test_interp_list_loops)
{
	uint64_t interps[PY_MAX_INTERPS], other;
	struct image_runtime r;
	struct snapshot *s;
	struct err e;
	size_t n;

	for (int shape = 0; shape < 2; shape++) {
		setup_version(versions[_i].major, versions[_i].minor);
		r = image_runtime(&im);
		/* interp -> itself, or interp -> other -> interp */
		other = image_alloc(&im, 16384);
		image_put64(&im, r.interp + (uint64_t)im.L->interp.next,
			    shape ? other : r.interp);
		image_put64(&im, other + (uint64_t)im.L->interp.next, r.interp);
		start(r.runtime);
		err_clear(&e);
		ck_assert_int_eq(py_interp_list(&P, interps, &n, &e), 0);
		ck_assert_uint_eq(n, shape ? 2 : 1);
		s = snap_new();
		ck_assert_int_eq(py_read_threads(&P, NULL, s, &e), 0);
		ck_assert_uint_eq(s->nthreads, 2);
		snap_free(s);
		check_sampler(0);
		ck_assert_uint_lt(counter->reads, READS_MAX);
		finish();
	}
}
END_TEST

/* 3.14+: a thread's task list (a circular list through each task's
 * node) that loops without coming back to the head. */
START_TEST(test_task_list_loops)
{
	unsigned minor = _i ? 15 : 14;
	struct image_runtime r;
	struct snapshot *s;
	struct snap_thread *t;
	uint64_t head, task[2], node[2];

	for (int shape = 0; shape < 2; shape++) {
		setup_version(3, minor);
		r = image_runtime(&im);
		for (int i = 0; i < 2; i++) {
			task[i] = image_alloc(&im,
					      (size_t)im.L->asyncio.task_size + 64);
			node[i] = task[i] + (uint64_t)im.L->asyncio.task_node;
		}
		head = r.ts[0] + (uint64_t)im.L->asyncio.ts_tasks_head;
		image_put64(&im, head, node[0]);
		/* node 0 -> itself, or node 0 -> node 1 -> node 0 */
		image_put64(&im, node[0], shape ? node[1] : node[0]);
		image_put64(&im, node[1], node[0]);
		/* the interpreter's list is empty: its head points at itself */
		head = r.interp + (uint64_t)im.L->asyncio.interp_tasks_head;
		image_put64(&im, head, head);
		start(r.runtime);
		s = snap_new();
		t = snap_add_thread(s);
		t->tstate = r.ts[0];
		py_read_tasks(&P, s);
		ck_assert_uint_le(s->ntasks, 2);
		snap_free(s);
		ck_assert_uint_lt(counter->reads, READS_MAX);
		finish();
	}
}
END_TEST

/* ---- lengths ------------------------------------------------------ */

static const uint64_t huge[] = {
	1ULL << 63, (1ULL << 63) - 1, UINT64_MAX,
};

/* A str "abc": 2.7's str is a byte string. */
static uint64_t make_str(uint64_t *length_field)
{
	const struct py_layout *L = im.L;
	uint64_t o;

	if (L->unicode.kind != LAYOUT_STR_PY2) {
		o = image_str(&im, "abc");
		*length_field = o + (uint64_t)L->unicode.length;
		return o;
	}
	o = object(im.type_str, (size_t)L->bytes.data + 8);
	image_put64(&im, o + (uint64_t)L->bytes.size, 3);
	image_putbytes(&im, o + (uint64_t)L->bytes.data, "abc", 4);
	*length_field = o + (uint64_t)L->bytes.size;
	return o;
}

static int count_entry(struct py_proc *p, uint64_t key, uint64_t value,
		       void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

/* The repr of obj fits in its width (UTF-8: 4 bytes a code point). */
static void check_repr(uint64_t obj)
{
	char *s = py_repr(&P, obj, PY_REPR_WIDTH_DEFAULT);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_le(strlen(s), 4 * PY_REPR_WIDTH_DEFAULT);
	free(s);
}

START_TEST(test_huge_lengths)
{
	const struct py_layout *L;
	uint64_t str, str_len, bytes, tuple, list, array, dict, keys, set,
		 table, num, v = huge[_i % 3], *items = NULL, u;
	uint32_t *cps = NULL;
	uint8_t *b = NULL;
	char *s = NULL;
	size_t n = 0, length;
	struct err e;

	setup_version(versions[_i / 3].major, versions[_i / 3].minor);
	L = im.L;
	str = make_str(&str_len);
	image_put64(&im, str_len, v);
	bytes = image_bytes(&im, "abc", 3);
	image_put64(&im, bytes + (uint64_t)L->bytes.size, v);

	tuple = object(image_type(&im, "tuple"), 64);
	image_put64(&im, tuple + (uint64_t)L->object.ob_size, v);
	image_put64(&im, tuple + (uint64_t)L->container.tuple_items, str);

	list = object(image_type(&im, "list"), 64);
	array = image_alloc(&im, 64);
	image_put64(&im, array, str);
	image_put64(&im, list + (uint64_t)L->object.ob_size, v);
	image_put64(&im, list + (uint64_t)L->container.list_items, array);

	dict = object(image_type(&im, "dict"), 128);
	keys = image_alloc(&im, 256);
	if (L->dict.kind == LAYOUT_DICT_27) {
		image_put64(&im, dict + (uint64_t)L->dict.ma_used, v);
		image_put64(&im, dict + (uint64_t)L->dict.ma_mask, v);
		image_put64(&im, dict + (uint64_t)L->dict.ma_table, keys);
	} else {
		image_put64(&im, dict + (uint64_t)L->dict.ma_used, v);
		image_put64(&im, dict + (uint64_t)L->dict.ma_keys, keys);
		if (L->dict.kind == LAYOUT_DICT_311) {
			image_put8(&im, keys + (uint64_t)L->dict.dk_size, 63);
			image_put8(&im, keys + (uint64_t)L->dict.dk_index_bytes,
				   66);
		} else {
			image_put64(&im, keys + (uint64_t)L->dict.dk_size, v);
		}
		image_put64(&im, keys + (uint64_t)L->dict.dk_nentries, v);
	}

	set = object(image_type(&im, "set"), 128);
	table = image_alloc(&im, 256);
	image_put64(&im, set + (uint64_t)L->container.set_used, v);
	image_put64(&im, set + (uint64_t)L->container.set_mask, v);
	image_put64(&im, set + (uint64_t)L->container.set_table, table);

	/* 2.7's arbitrary-size int is 'long' ('int' is a machine word) */
	num = object(L->pylong.int_value != LAYOUT_NONE ?
		     image_type(&im, "long") : im.type_int, 64);
	image_put64(&im, num + (uint64_t)L->pylong.tag, v);
	start(0);

	err_clear(&e);
	ck_assert_int_ne(py_str_read(&P, str, PY_STR_MAX, &s, NULL, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_ne(py_str_codepoints(&P, str, PY_STR_MAX, &cps, &n,
					   &length, &e), 0);
	ck_assert_ptr_null(cps);
	ck_assert_int_ne(py_bytes_read(&P, bytes, PY_STR_MAX, &b, &n, &e), 0);
	if (!py_tuple_items(&P, tuple, 16, &items, &n, &e)) {
		ck_assert_uint_le(n, 16);
		free(items);
	}
	if (!py_list_items(&P, list, 16, &items, &n, &e)) {
		ck_assert_uint_le(n, 16);
		free(items);
	}
	if (!py_set_items(&P, set, 16, &items, &n, &e)) {
		ck_assert_uint_le(n, 16);
		free(items);
	}
	n = 0;
	py_dict_each(&P, dict, 1000, count_entry, &n, &e);
	ck_assert_uint_le(n, 1000);
	ck_assert_int_ne(py_long_read_u64(&P, num, &u, &e), 0);
	check_repr(str);
	check_repr(bytes);
	check_repr(tuple);
	check_repr(list);
	check_repr(dict);
	check_repr(set);
	check_repr(num);
	ck_assert_uint_lt(counter->reads, READS_MAX);
	finish();
}
END_TEST

/* ---- regressions found by fuzz/ ----------------------------------- */

static uint64_t make_tuple(const uint64_t *items, size_t n)
{
	uint64_t t = object(image_type(&im, "tuple"),
			    (size_t)im.L->container.tuple_items + 8 * n + 8);

	image_put64(&im, t + (uint64_t)im.L->object.ob_size, n);
	for (size_t i = 0; i < n; i++)
		image_put64(&im, t + (uint64_t)im.L->container.tuple_items +
			    8 * i, items[i]);
	return t;
}

/* fuzz/fuzz_code: py_frame_locals leaked every variable name when the
 * frame's values could not be read (pystructs/locals.c). */
START_TEST(test_locals_of_unreadable_frame)
{
	const struct py_layout *L;
	const struct py_code *c;
	struct snapshot *s;
	struct snap_frame *f;
	uint64_t code, names[2], empty;

	setup_version(3, 10);
	L = im.L;
	code = make_code("f");
	names[0] = image_str(&im, "first");
	names[1] = image_str(&im, "second");
	empty = make_tuple(NULL, 0);
	image_put64(&im, code + (uint64_t)L->code.varnames,
		    make_tuple(names, 2));
	image_put64(&im, code + (uint64_t)L->code.cellvars, empty);
	image_put64(&im, code + (uint64_t)L->code.freevars, empty);
	start(0);
	c = py_code_get(&P, code, NULL);
	ck_assert_ptr_nonnull(c);
	s = snap_new();
	f = snap_add_frame(snap_add_thread(s));
	/* Past the image: the names are read, the values are not. */
	py_frame_locals(&P, c, IMAGE_BASE + IMAGE_SIZE + 4096, 100, f);
	ck_assert_uint_eq(f->nlocals, 0);
	snap_free(s);
	finish();
}
END_TEST

/* A real _Py_DebugOffsets table from tests/data, as u64 words. */
static uint64_t *load_debug_offsets(const char *name, size_t *len)
{
	const char *dir = getenv("SNAKESCOPE_TESTDATA");
	char path[4096];
	uint64_t *buf = xcalloc(1, 4096);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	*len = fread(buf, 1, 4096, f);
	fclose(f);
	return buf;
}

/* fuzz/fuzz_code: a _Py_DebugOffsets field at the very end of its
 * section (offset size-1) passed the check, and reading it out of the
 * copied header overran the readers' buffers (code.c's hdr[512], the
 * frame walkers' copies); so did frame fields past localsplus. */
START_TEST(test_debug_offsets_fields_fit)
{
	/* 3.13.0: code {size 34, firstlineno 39}, frame {size 28,
	 * executable 30, localsplus 32} */
	const struct layout_dbg_desc *d = layout_debug_desc(3, 13);
	struct py_layout L;
	uint64_t *w;
	size_t len;
	struct err e;

	ck_assert_ptr_nonnull(d);
	w = load_debug_offsets("debug_offsets_3.13.0.bin", &len);
	L = *layout_builtin(3, 13);
	ck_assert_int_eq(debug_offsets_apply(&L, d, (uint8_t *)w, len, false,
					     &e), 0);
	w[34] = 512;
	w[39] = 510;
	L = *layout_builtin(3, 13);
	ck_assert_int_eq(debug_offsets_apply(&L, d, (uint8_t *)w, len, false,
					     &e), SS_EBADBUILD);
	free(w);
	w = load_debug_offsets("debug_offsets_3.13.0.bin", &len);
	w[28] = 4096;
	w[30] = 1000;
	L = *layout_builtin(3, 13);
	ck_assert_int_eq(debug_offsets_apply(&L, d, (uint8_t *)w, len, false,
					     &e), SS_EBADBUILD);
	free(w);
}
END_TEST

/* A 3.10 f_lasti counts 2-byte units: a huge one must not overflow when
 * made a byte offset (found by the fuzzers: UBSan in py_frame_lasti). */
START_TEST(test_lasti_overflow)
{
	static struct py_proc p;
	uint8_t frame[1024] = { 0 };
	int32_t lasti = 2000180736;

	p.L = *layout_builtin(3, 10);
	ck_assert_int_eq(p.L.frame.kind, LAYOUT_FRAME_OBJECT);
	memcpy(frame + p.L.frame.lasti, &lasti, sizeof(lasti));
	ck_assert_int_eq(py_frame_lasti(&p, frame, 0, NULL), -1);
	lasti = 21;
	memcpy(frame + p.L.frame.lasti, &lasti, sizeof(lasti));
	ck_assert_int_eq(py_frame_lasti(&p, frame, 0, NULL), 42);
}
END_TEST

/* ---- the sampler, thread by thread -------------------------------- */

/* What the hold, release and done callbacks saw, in order. */
struct holds {
	uint64_t held[8], done[8];
	size_t nheld, ndone, nreleased;
	bool refuse_second; /* hold() says no to the second thread */
	bool again_first;   /* release() asks the first thread read again */
	bool overlapped;    /* a hold came before the last one's done */
	char order[32];     /* 'h', 'r', 'd': the calls, in order */
	size_t norder;
};

static void log_call(struct holds *h, char c)
{
	if (h->norder < sizeof(h->order) - 1)
		h->order[h->norder++] = c;
}

static bool log_hold(void *arg, const struct sample_thread *t)
{
	struct holds *h = arg;

	log_call(h, 'h');
	h->overlapped |= h->nheld != h->ndone;
	h->held[h->nheld++] = t->thread_id;
	if (h->refuse_second && h->nheld == 2) {
		h->ndone++; /* nothing held: no done() comes */
		return false;
	}
	return true;
}

/* Released once its frame chain is read: held (again_first: the first
 * thread's first read said not of one instant, held again). */
static bool log_release(void *arg, const struct sample_thread *t)
{
	struct holds *h = arg;

	log_call(h, 'r');
	ck_assert_uint_eq(h->held[h->nheld - 1], t->thread_id);
	h->nreleased++;
	if (h->again_first && h->nreleased == 1) {
		h->nheld--; /* held again: counted once */
		return false;
	}
	return true;
}

static void log_done(void *arg, const struct sample_thread *t,
		     const struct sample *out)
{
	struct holds *h = arg;

	log_call(h, 'd');
	ck_assert_uint_eq(t->first + t->nframes, out->nframes);
	h->done[h->ndone++] = t->thread_id;
}

/* Two threads, two and three frames deep: read thread by thread, each is
 * held and let go before the next, and the sample is the one read in
 * batches (the same frames, lines, keys and activations); a thread its
 * hold refuses is left out. */
START_TEST(test_sampler_thread_by_thread)
{
	struct image_runtime r;
	struct py_sampler_opts so = { 0 };
	struct py_sampler *smp;
	struct sample batch = { 0 }, each = { 0 };
	struct holds h;
	uint64_t a, b, c;

	setup_version(versions[_i].major, versions[_i].minor);
	r = image_runtime(&im);
	a = make_code("a");
	b = make_code("b");
	c = make_code("c");
	image_set_top_frame(&im, r.ts[0], make_frame(a, make_frame(b, 0)));
	image_set_top_frame(&im, r.ts[1],
			    make_frame(c, make_frame(a, make_frame(b, 0))));
	start(r.runtime);

	smp = py_sampler_new(&P, &so);
	ck_assert_int_eq(py_sampler_take(smp, 1, &batch, NULL), 0);
	py_sampler_free(smp);
	ck_assert_uint_eq(batch.nthreads, 2);

	memset(&h, 0, sizeof(h));
	so.hold = log_hold;
	so.release = log_release;
	so.done = log_done;
	so.keep_arg = &h;
	smp = py_sampler_new(&P, &so);
	ck_assert_int_eq(py_sampler_take(smp, 1, &each, NULL), 0);
	ck_assert(!h.overlapped);
	ck_assert_uint_eq(h.nheld, 2);
	ck_assert_uint_eq(h.ndone, 2);
	ck_assert_str_eq(h.order, "hrdhrd");
	ck_assert_uint_eq(each.nthreads, batch.nthreads);
	ck_assert_uint_eq(each.nframes, batch.nframes);
	for (size_t i = 0; i < each.nthreads; i++) {
		ck_assert_uint_eq(h.held[i], each.threads[i].thread_id);
		ck_assert_uint_eq(h.done[i], each.threads[i].thread_id);
		ck_assert_uint_eq(each.threads[i].thread_id,
				  batch.threads[i].thread_id);
		ck_assert_uint_eq(each.threads[i].nframes,
				  batch.threads[i].nframes);
		ck_assert_int_eq(each.threads[i].torn, batch.threads[i].torn);
	}
	/* frame objects (<=3.10) of this image are not typed as frames:
	 * the sampler's walk stops at them, in both ways alike */
	if (im.L->frame.kind == LAYOUT_FRAME_INTERP)
		ck_assert_uint_eq(each.threads[0].nframes +
				  each.threads[1].nframes, 5);
	for (size_t i = 0; i < each.nframes; i++) {
		ck_assert_int_eq(each.frames[i].line, batch.frames[i].line);
		ck_assert_uint_eq(each.frames[i].activation,
				  batch.frames[i].activation);
	}

	/* A second sample, the second thread refused. */
	memset(&h, 0, sizeof(h));
	h.refuse_second = true;
	ck_assert_int_eq(py_sampler_take(smp, 2, &each, NULL), 0);
	ck_assert_uint_eq(h.nheld, 2);
	ck_assert_uint_eq(each.nthreads, 1);
	ck_assert_uint_eq(each.threads[0].thread_id, h.held[0]);
	ck_assert_str_eq(h.order, "hrdh");

	/* A third, the first thread's read not of one instant: read again
	 * (held, released), once, then resolved as the batch's. */
	memset(&h, 0, sizeof(h));
	h.again_first = true;
	ck_assert_int_eq(py_sampler_take(smp, 3, &each, NULL), 0);
	ck_assert_str_eq(h.order, "hrhrdhrd");
	ck_assert_uint_eq(each.nthreads, 2);
	ck_assert_uint_eq(each.nframes, batch.nframes);
	for (size_t i = 0; i < each.nframes; i++)
		ck_assert_int_eq(each.frames[i].line, batch.frames[i].line);

	py_sampler_free(smp);
	sample_release(&batch);
	sample_release(&each);
	finish();
}
END_TEST

static Suite *bounds_suite(void)
{
	Suite *s = suite_create("bounds");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_frame_points_to_itself, 0, NVERSIONS);
	tcase_add_loop_test(tc, test_thread_list_loops, 0, NVERSIONS);
	tcase_add_loop_test(tc, test_interp_list_loops, 0, NVERSIONS);
	tcase_add_loop_test(tc, test_task_list_loops, 0, 2);
	tcase_add_loop_test(tc, test_huge_lengths, 0, 3 * NVERSIONS);
	tcase_add_test(tc, test_locals_of_unreadable_frame);
	tcase_add_test(tc, test_debug_offsets_fields_fit);
	tcase_add_test(tc, test_lasti_overflow);
	tcase_add_loop_test(tc, test_sampler_thread_by_thread, 0, NVERSIONS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(bounds_suite());
}
