/*
 * check_profile.c - record's fleet formats and labels: the protobuf
 * encoder (common/pbuf.h), the pprof writer (read back here: gunzipped
 * with zlib and decoded by a small protobuf reader of the test's own),
 * the Chrome trace writer (its JSON checked by a small validator, its
 * begin and end events balanced), the frame labels (short file names,
 * --function, --nolineno), with hostile names, and --tasks' stacks
 * continued by their awaiting tasks (model/task_stack.h).
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tests/check_main.h"
#include "cli/commands.h"
#include "cli/profile.h"
#include "cli/record.h"
#include "common/escape.h"
#include "common/pbuf.h"
#include "common/strbuf.h"
#include "model/task_stack.h"

#define ARGV(...)                                                   \
	char *a[] = { __VA_ARGS__, NULL };                          \
	int argc_ = (int)(sizeof(a) / sizeof(a[0])) - 1

/* ---- a protobuf reader, for the tests only ------------------------------ */

struct pbr {
	const unsigned char *p, *end;
};

static uint64_t rd_varint(struct pbr *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		unsigned char b;

		ck_assert_msg(r->p < r->end, "varint runs past the end");
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	ck_abort_msg("varint longer than 10 bytes");
	return 0;
}

/* The next field: its number, wire type and (PB_VARINT) value or
 * (PB_LEN) contents.  False at the end. */
static bool rd_field(struct pbr *r, uint32_t *field, unsigned *wire,
		     uint64_t *v, struct pbr *sub)
{
	uint64_t key;

	if (r->p >= r->end)
		return false;
	key = rd_varint(r);
	*field = (uint32_t)(key >> 3);
	*wire = key & 7;
	if (*wire == PB_VARINT) {
		*v = rd_varint(r);
	} else {
		ck_assert_uint_eq(*wire, PB_LEN);
		*v = rd_varint(r);
		ck_assert_msg(*v <= (uint64_t)(r->end - r->p), "length past end");
		sub->p = r->p;
		sub->end = r->p + *v;
		r->p += *v;
	}
	return true;
}

/* Packed varints (or one unpacked) into out[]; returns how many. */
static size_t rd_packed(unsigned wire, uint64_t v, struct pbr *sub,
			uint64_t *out, size_t max)
{
	size_t n = 0;

	if (wire == PB_VARINT) {
		out[0] = v;
		return 1;
	}
	while (sub->p < sub->end) {
		ck_assert(n < max);
		out[n++] = rd_varint(sub);
	}
	return n;
}

START_TEST(test_pbuf_encoding)
{
	struct strbuf sb, msg;
	uint64_t vals[] = { 1, 300, 0 };

	strbuf_init(&sb);
	strbuf_init(&msg);
	pb_varint(&sb, 0);
	pb_varint(&sb, 1);
	pb_varint(&sb, 300);
	ck_assert_int_eq(sb.len, 4);
	ck_assert_mem_eq(sb.buf, "\x00\x01\xac\x02", 4);
	strbuf_reset(&sb);
	pb_varint(&sb, UINT64_MAX);
	ck_assert_int_eq(sb.len, 10);
	ck_assert_int_eq((unsigned char)sb.buf[9], 0x01);
	strbuf_reset(&sb);
	/* a negative int64: ten bytes, two's complement */
	pb_int(&sb, 1, -1);
	ck_assert_int_eq(sb.len, 11);
	strbuf_reset(&sb);
	/* the protobuf documentation's examples */
	pb_uint(&sb, 1, 150);
	ck_assert_mem_eq(sb.buf, "\x08\x96\x01", 3);
	strbuf_reset(&sb);
	pb_bytes(&sb, 2, "testing", 7);
	ck_assert_int_eq(sb.len, 9);
	ck_assert_mem_eq(sb.buf, "\x12\x07testing", 9);
	strbuf_reset(&sb);
	pb_uint(&msg, 1, 150);
	pb_message(&sb, 3, &msg);
	ck_assert_mem_eq(sb.buf, "\x1a\x03\x08\x96\x01", 5);
	strbuf_reset(&sb);
	pb_packed(&sb, 4, vals, 3);
	ck_assert_int_eq(sb.len, 6);
	ck_assert_mem_eq(sb.buf, "\x22\x04\x01\xac\x02\x00", 6);
	strbuf_reset(&sb);
	pb_packed(&sb, 4, vals, 0);
	ck_assert_int_eq(sb.len, 0);
	/* a field number past one byte */
	pb_uint(&sb, 100, 1);
	ck_assert_mem_eq(sb.buf, "\xa0\x06\x01", 3);
	strbuf_release(&sb);
	strbuf_release(&msg);
}
END_TEST

/* ---- a profile with hostile names --------------------------------------- */

#define HOSTILE_FN "f\033]0;x\a<&\"q\">\xff\xfe;"
#define HOSTILE_THREAD "t\n\"<&>\xc3"

/* Two threads: "main" in outer -> hot (a stdlib file), the other in
 * outer -> a hostile function in a site-packages file; then a native
 * frame and a marker of snakescope's. */
static void fake_sample(struct sample *s, int hot_line)
{
	static struct sample_thread th[2];
	static struct sample_frame fr[6];

	fr[0] = (struct sample_frame){ .code_key = 2, .line = hot_line,
		.first_line = 9, .function = "hot",
		.filename = "/usr/lib/python3.12/threading.py" };
	fr[1] = (struct sample_frame){ .code_key = 1, .line = 3,
		.first_line = 1, .function = "<module>",
		.filename = "/srv/app/main.py" };
	fr[2] = (struct sample_frame){ .code_key = 5, .line = -1,
		.first_line = -1, .function = "[unwinding stopped]",
		.filename = "snakescope", .native = true };
	fr[3] = (struct sample_frame){ .code_key = 4, .line = -1,
		.first_line = -1, .function = "__GI___poll",
		.filename = "/usr/lib/x86_64-linux-gnu/libc.so.6",
		.native = true };
	fr[4] = (struct sample_frame){ .code_key = 3, .line = 20,
		.first_line = 18, .function = HOSTILE_FN,
		.filename = "/venv/lib/python3.12/site-packages/req/api.py" };
	fr[5] = fr[1];
	th[0] = (struct sample_thread){ .thread_id = 7, .native_id = 70,
		.name = "main", .first = 0, .nframes = 2 };
	th[1] = (struct sample_thread){ .thread_id = 8, .native_id = -1,
		.name = HOSTILE_THREAD, .first = 2, .nframes = 4 };
	s->threads = th;
	s->nthreads = 2;
	s->frames = fr;
	s->nframes = 6;
}

static char *write_out(const struct profile *pf, int fmt, size_t *len)
{
	struct pprof_info pi = { .time_nanos = 1700000000000000000LL,
		.duration_nanos = 3000000000LL, .period_nanos = 10000000,
		.with_process = true };
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	if (fmt == RECORD_PPROF)
		ck_assert_int_eq(profile_write_pprof(pf, &pi, f), 0);
	else if (fmt == RECORD_CHROMETRACE)
		ck_assert_int_eq(profile_write_chrometrace(pf, false, 0.01, f), 0);
	else
		ck_assert_int_eq(profile_write_folded(pf, false, f), 0);
	fclose(f);
	*len = n;
	return buf;
}

static void build(struct profile *pf, bool order, struct prof_labels l)
{
	struct sample s;

	profile_init(pf, true, order);
	pf->labels = l;
	profile_set_process(pf, 42, "python3 app.py \033[2J");
	fake_sample(&s, 10);
	pf->now_ns = 0;
	profile_add(pf, 42, &s);
	pf->now_ns = 10000000;
	profile_add(pf, 42, &s);
	fake_sample(&s, 11);
	s.threads[1].nframes = 0; /* no Python frame: left out */
	pf->now_ns = 20000000;
	profile_add(pf, 42, &s);
	/* a pause: the thread was not sampled for 50 ms */
	fake_sample(&s, 10);
	s.nthreads = 1;
	pf->now_ns = 80000000;
	profile_add(pf, 42, &s);
}

/* Is s (n bytes) valid UTF-8 without control characters (but newlines,
 * with nl)? */
static bool clean_utf8_nl(const char *s, size_t n, bool nl)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k;

		if ((*p < 0x20 && !(nl && *p == '\n')) || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		k = utf8_seq_len(p);
		if (!k || k > (size_t)(end - p))
			return false;
		p += k;
	}
	return true;
}

static bool clean_utf8(const char *s, size_t n)
{
	return clean_utf8_nl(s, n, false);
}

/* ---- pprof -------------------------------------------------------------- */

struct decoded {
	char *str[64];
	size_t nstr;
	/* function id -> name, file, start line */
	struct { uint64_t id, name, file, sys; int64_t start; } fn[16];
	size_t nfn;
	/* location id -> function id, line */
	struct { uint64_t id, fn; int64_t line; } loc[16];
	size_t nloc;
	struct { uint64_t locs[16]; size_t nlocs; uint64_t v[2];
		 struct { uint64_t key, str, num; } lab[8];
		 size_t nlab; } smp[16];
	size_t nsmp;
	uint64_t sample_type[2][2];
	size_t ntypes;
	uint64_t period_type[2];
	int64_t period, time_nanos, duration_nanos;
};

static char *gunzip(const char *gz, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = 1 << 20;
	char *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	ck_assert_uint_eq((unsigned char)gz[0], 0x1f); /* gzip magic */
	ck_assert_uint_eq((unsigned char)gz[1], 0x8b);
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = cap - z.avail_out;
	inflateEnd(&z);
	return out;
}

static void decode(const char *buf, size_t len, struct decoded *d)
{
	struct pbr r = { (const unsigned char *)buf,
			 (const unsigned char *)buf + len }, sub, sub2, sub3;
	uint32_t field, f2, f3;
	unsigned wire, w2, w3;
	uint64_t v, v2, v3;

	memset(d, 0, sizeof(*d));
	while (rd_field(&r, &field, &wire, &v, &sub)) {
		switch (field) {
		case 1: /* sample_type */
			ck_assert(d->ntypes < 2);
			while (rd_field(&sub, &f2, &w2, &v2, &sub2))
				d->sample_type[d->ntypes][f2 - 1] = v2;
			d->ntypes++;
			break;
		case 2: { /* sample */
			ck_assert(d->nsmp < 16);
			__typeof__(d->smp[0]) *s = &d->smp[d->nsmp++];

			while (rd_field(&sub, &f2, &w2, &v2, &sub2)) {
				if (f2 == 1) {
					s->nlocs = rd_packed(w2, v2, &sub2,
							     s->locs, 16);
				} else if (f2 == 2) {
					ck_assert_int_eq(rd_packed(w2, v2, &sub2,
								   s->v, 2), 2);
				} else if (f2 == 3) {
					ck_assert(s->nlab < 8);
					while (rd_field(&sub2, &f3, &w3, &v3,
							&sub3)) {
						if (f3 == 1)
							s->lab[s->nlab].key = v3;
						else if (f3 == 2)
							s->lab[s->nlab].str = v3;
						else if (f3 == 3)
							s->lab[s->nlab].num = v3;
					}
					s->nlab++;
				}
			}
			break;
		}
		case 3: /* mapping: one */
			break;
		case 4: /* location */
			ck_assert(d->nloc < 16);
			while (rd_field(&sub, &f2, &w2, &v2, &sub2)) {
				if (f2 == 1)
					d->loc[d->nloc].id = v2;
				if (f2 == 4)
					while (rd_field(&sub2, &f3, &w3, &v3,
							&sub3)) {
						if (f3 == 1)
							d->loc[d->nloc].fn = v3;
						else if (f3 == 2)
							d->loc[d->nloc].line =
								(int64_t)v3;
					}
			}
			d->nloc++;
			break;
		case 5: /* function */
			ck_assert(d->nfn < 16);
			while (rd_field(&sub, &f2, &w2, &v2, &sub2)) {
				if (f2 == 1)
					d->fn[d->nfn].id = v2;
				else if (f2 == 2)
					d->fn[d->nfn].name = v2;
				else if (f2 == 3)
					d->fn[d->nfn].sys = v2;
				else if (f2 == 4)
					d->fn[d->nfn].file = v2;
				else if (f2 == 5)
					d->fn[d->nfn].start = (int64_t)v2;
			}
			d->nfn++;
			break;
		case 6: /* string_table */
			ck_assert_uint_eq(wire, PB_LEN);
			ck_assert(d->nstr < 64);
			d->str[d->nstr] = strndup((const char *)sub.p, v);
			ck_assert_msg(clean_utf8(d->str[d->nstr], v),
				      "string %zu not clean UTF-8", d->nstr);
			d->nstr++;
			break;
		case 9:
			d->time_nanos = (int64_t)v;
			break;
		case 10:
			d->duration_nanos = (int64_t)v;
			break;
		case 11:
			while (rd_field(&sub, &f2, &w2, &v2, &sub2))
				d->period_type[f2 - 1] = v2;
			break;
		case 12:
			d->period = (int64_t)v;
			break;
		default:
			ck_abort_msg("unexpected field %u", field);
		}
	}
}

static const char *S(const struct decoded *d, uint64_t i)
{
	ck_assert_uint_lt(i, d->nstr);
	return d->str[i];
}

static const char *fn_of_loc(const struct decoded *d, uint64_t loc,
			     int64_t *line, const char **file)
{
	for (size_t i = 0; i < d->nloc; i++) {
		if (d->loc[i].id != loc)
			continue;
		for (size_t k = 0; k < d->nfn; k++) {
			if (d->fn[k].id != d->loc[i].fn)
				continue;
			*line = d->loc[i].line;
			*file = S(d, d->fn[k].file);
			return S(d, d->fn[k].name);
		}
	}
	ck_abort_msg("location %llu has no function", (unsigned long long)loc);
	return NULL;
}

/* Sample i's label named key: its string (NULL: a number, in *num). */
static const char *label(const struct decoded *d, size_t i, const char *key,
			 uint64_t *num)
{
	for (size_t k = 0; k < d->smp[i].nlab; k++) {
		if (strcmp(S(d, d->smp[i].lab[k].key), key))
			continue;
		*num = d->smp[i].lab[k].num;
		return d->smp[i].lab[k].str ? S(d, d->smp[i].lab[k].str) :
		       NULL;
	}
	ck_abort_msg("sample %zu has no label %s", i, key);
	return NULL;
}

START_TEST(test_pprof_writer)
{
	struct prof_labels l = { 0 };
	struct profile pf;
	struct decoded d;
	size_t gzlen, len;
	char *gz, *raw;
	bool seen_main = false, seen_other = false;

	build(&pf, false, l);
	gz = write_out(&pf, RECORD_PPROF, &gzlen);
	raw = gunzip(gz, gzlen, &len);
	decode(raw, len, &d);

	ck_assert_uint_gt(d.nstr, 1);
	ck_assert_str_eq(d.str[0], "");
	ck_assert_uint_eq(d.ntypes, 2);
	ck_assert_str_eq(S(&d, d.sample_type[0][0]), "samples");
	ck_assert_str_eq(S(&d, d.sample_type[0][1]), "count");
	ck_assert_str_eq(S(&d, d.sample_type[1][0]), "wall");
	ck_assert_str_eq(S(&d, d.sample_type[1][1]), "nanoseconds");
	ck_assert_str_eq(S(&d, d.period_type[0]), "wall");
	ck_assert_str_eq(S(&d, d.period_type[1]), "nanoseconds");
	ck_assert_int_eq(d.period, 10000000);
	ck_assert_int_eq(d.time_nanos, 1700000000000000000LL);
	ck_assert_int_eq(d.duration_nanos, 3000000000LL);
	/* hot at two lines, <module>, the hostile function, the marker, the
	 * C function: six locations, five functions */
	ck_assert_uint_eq(d.nloc, 6);
	ck_assert_uint_eq(d.nfn, 5);
	for (size_t i = 0; i < d.nfn; i++) {
		const char *name = S(&d, d.fn[i].name);

		if (!strcmp(name, "hot")) {
			ck_assert_int_eq(d.fn[i].start, 9);
			/* short: under lib/python3.12/ */
			ck_assert_str_eq(S(&d, d.fn[i].file), "threading.py");
			ck_assert_uint_eq(d.fn[i].sys, 0);
		} else if (!strcmp(name, "__GI___poll")) {
			/* a C function: its symbol, its library in full */
			ck_assert_str_eq(S(&d, d.fn[i].sys), "__GI___poll");
			ck_assert_str_eq(S(&d, d.fn[i].file),
					 "/usr/lib/x86_64-linux-gnu/libc.so.6");
		} else if (!strcmp(name, "[unwinding stopped]")) {
			ck_assert_str_eq(S(&d, d.fn[i].file), "snakescope");
			ck_assert_uint_eq(d.fn[i].sys, 0);
		} else if (strstr(name, "<&")) {
			/* escaped as in folded stacks, '<' '&' '"' kept */
			ck_assert_str_eq(name, "f\\x1b]0;x\\x07<&\"q\">\\xff\\xfe;");
			ck_assert_str_eq(S(&d, d.fn[i].file), "req/api.py");
			ck_assert_int_eq(d.fn[i].start, 18);
		} else {
			ck_assert_str_eq(name, "<module>");
			ck_assert_str_eq(S(&d, d.fn[i].file), "/srv/app/main.py");
		}
	}
	ck_assert_uint_eq(d.nsmp, 3);
	for (size_t i = 0; i < d.nsmp; i++) {
		int64_t line;
		uint64_t num, tid;
		const char *file, *leaf, *root;

		leaf = fn_of_loc(&d, d.smp[i].locs[0], &line, &file);
		root = fn_of_loc(&d, d.smp[i].locs[d.smp[i].nlocs - 1], &line,
				 &file);
		ck_assert_str_eq(root, "<module>");
		ck_assert_int_eq(line, 3);
		ck_assert_uint_eq(d.smp[i].nlab, 4);
		ck_assert_ptr_null(label(&d, i, "pid", &num));
		ck_assert_uint_eq(num, 42);
		ck_assert_str_eq(label(&d, i, "process", &num),
				 "python3 app.py \\x1b[2J");
		ck_assert_ptr_null(label(&d, i, "thread_id", &tid));
		/* wall = samples x period */
		ck_assert_uint_eq(d.smp[i].v[1], d.smp[i].v[0] * 10000000);
		if (!strcmp(leaf, "hot")) {
			fn_of_loc(&d, d.smp[i].locs[0], &line, &file);
			ck_assert_str_eq(label(&d, i, "thread_name", &num),
					 "main");
			ck_assert_uint_eq(tid, 70);
			ck_assert_uint_eq(d.smp[i].nlocs, 2);
			/* line 10 three times, line 11 once */
			ck_assert_uint_eq(d.smp[i].v[0], line == 10 ? 3 : 1);
			seen_main = true;
		} else {
			/* leaf first: the marker, C, hostile, <module> */
			ck_assert_str_eq(leaf, "[unwinding stopped]");
			ck_assert_uint_eq(d.smp[i].nlocs, 4);
			ck_assert_str_eq(label(&d, i, "thread_name", &num),
					 "t\\x0a\"<&>\\xc3");
			/* no TID: threading's ident */
			ck_assert_uint_eq(tid, 8);
			ck_assert_uint_eq(d.smp[i].v[0], 2);
			seen_other = true;
		}
	}
	ck_assert(seen_main && seen_other);
	for (size_t i = 0; i < d.nstr; i++)
		free(d.str[i]);
	free(raw);
	free(gz);
	profile_release(&pf);
}
END_TEST

/* ---- Chrome trace ---------------------------------------------------------- */

/* A small JSON validator: returns the end of the value at p, or NULL. */
static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_str(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if (!(p = json_str(json_ws(p))))
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = json_value(p, depth + 1)))
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_str(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

static bool json_valid(const char *s)
{
	const char *end = json_value(s, 0);

	return end && !*json_ws(end);
}

START_TEST(test_json_validator)
{
	ck_assert(json_valid("{\"a\": [1, -2.5e3, \"x\\u00e9\", true, null]}\n"));
	ck_assert(!json_valid("{\"a\": [1,]}"));
	ck_assert(!json_valid("{\"a\": \"\x01\"}"));
	ck_assert(!json_valid("{\"a\": 1} x"));
	ck_assert(!json_valid("{\"a\\q\": 1}"));
}
END_TEST

START_TEST(test_chrometrace_writer)
{
	struct prof_labels l = { 0 };
	struct profile pf;
	size_t len;
	char *out, *line, *save = NULL;
	int depth[2] = { 0, 0 }, begins = 0, maxdepth = 0;
	double last_ts[2] = { -1, -1 };
	char open_name[2][8][64];

	build(&pf, true, l);
	out = write_out(&pf, RECORD_CHROMETRACE, &len);
	ck_assert_msg(json_valid(out), "not JSON: %s", out);
	ck_assert_msg(clean_utf8_nl(out, len, true), "control characters: %s", out);
	ck_assert_uint_eq(out[len - 1], '\n');
	ck_assert_ptr_nonnull(strstr(out, "{\"name\": \"thread_name\", \"ph\": "
				     "\"M\", \"pid\": 42, \"tid\": 70, \"args\": "
				     "{\"name\": \"thread \\\"main\\\" (70)\"}}"));
	ck_assert_ptr_nonnull(strstr(out, "\"process_name\""));
	/* the hostile name, escaped by the JSON emitter */
	ck_assert_ptr_nonnull(strstr(out, "\"name\": \"f\\u001b]0;x\\u0007<&"
				     "\\\"q\\\">\\ufffd\\ufffd;\""));
	/* Balanced per thread, nested: an end closes the innermost begin;
	 * times never go back. */
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *ph = strstr(line, "\"ph\": \""), *ts, *nm;
		int t;

		if (!ph || ph[7] == 'M')
			continue;
		t = strstr(line, "\"tid\": 70,") ? 0 : 1;
		ts = strstr(line, "\"ts\": ");
		ck_assert_ptr_nonnull(ts);
		ck_assert(strtod(ts + 6, NULL) >= last_ts[t]);
		last_ts[t] = strtod(ts + 6, NULL);
		if (ph[7] == 'B') {
			nm = strstr(line, "\"name\": \"");
			ck_assert_ptr_nonnull(nm);
			ck_assert(depth[t] < 8);
			snprintf(open_name[t][depth[t]], 64, "%.*s",
				 (int)strcspn(nm + 9, "\""), nm + 9);
			depth[t]++;
			begins++;
			if (depth[t] > maxdepth)
				maxdepth = depth[t];
		} else {
			ck_assert_uint_eq(ph[7], 'E');
			ck_assert_int_gt(depth[t], 0);
			depth[t]--;
		}
	}
	ck_assert_int_eq(depth[0], 0);
	ck_assert_int_eq(depth[1], 0);
	ck_assert_int_eq(maxdepth, 4);
	/* main: <module> and hot at line 10 (0-20 ms), hot at 11 (20-30),
	 * then, after the pause, both again at 80 ms: 2 + 1 + 2 begins;
	 * the other thread: its four frames once */
	ck_assert_int_eq(begins, 5 + 4);
	free(out);
	profile_release(&pf);
}
END_TEST

/* ---- labels ------------------------------------------------------------ */

START_TEST(test_label_file)
{
	struct prof_labels l = { 0 }, full = { .full_filenames = true };

	ck_assert_str_eq(prof_label_file(&l, "/usr/lib/python3.12/threading.py",
					 false), "threading.py");
	ck_assert_str_eq(prof_label_file(&l, "/usr/lib/python2.7/threading.py",
					 false), "threading.py");
	ck_assert_str_eq(prof_label_file(&l, "/opt/py/lib/python3.13t/json/"
					 "decoder.py", false), "json/decoder.py");
	ck_assert_str_eq(prof_label_file(&l, "/root/.pyenv/versions/3.12.1/lib/"
					 "python3.12/site-packages/requests/"
					 "api.py", false), "requests/api.py");
	ck_assert_str_eq(prof_label_file(&l, "/usr/lib/python3/dist-packages/"
					 "yaml/main.py", false), "yaml/main.py");
	ck_assert_str_eq(prof_label_file(&l, "site-packages/x.py", false),
			 "x.py");
	/* not sys.path-like: kept */
	ck_assert_str_eq(prof_label_file(&l, "/srv/app/main.py", false),
			 "/srv/app/main.py");
	ck_assert_str_eq(prof_label_file(&l, "/srv/python3.12/x.py", false),
			 "/srv/python3.12/x.py");
	ck_assert_str_eq(prof_label_file(&l, "/srv/mylib/python3.12/x.py",
					 false), "/srv/mylib/python3.12/x.py");
	ck_assert_str_eq(prof_label_file(&l, "/usr/lib/python3.x/x.py", false),
			 "/usr/lib/python3.x/x.py");
	ck_assert_str_eq(prof_label_file(&l, "/a/notsite-packages/x.py", false),
			 "/a/notsite-packages/x.py");
	ck_assert_str_eq(prof_label_file(&l, "/a/site-packages/", false),
			 "/a/site-packages/");
	ck_assert_str_eq(prof_label_file(&l, "<string>", false), "<string>");
	ck_assert_str_eq(prof_label_file(&l, "", false), "");
	/* C frames keep their library; --full-filenames keeps everything */
	ck_assert_str_eq(prof_label_file(&l, "/usr/lib/python3.12/lib-dynload/"
					 "_ssl.so", true),
			 "/usr/lib/python3.12/lib-dynload/_ssl.so");
	ck_assert_str_eq(prof_label_file(&full, "/usr/lib/python3.12/"
					 "threading.py", false),
			 "/usr/lib/python3.12/threading.py");
}
END_TEST

START_TEST(test_label_lines)
{
	struct prof_labels l = { 0 };
	struct profile pf;
	size_t len;
	char *out;

	/* by line (default): short file names */
	build(&pf, false, l);
	out = write_out(&pf, RECORD_FOLDED, &len);
	ck_assert_ptr_nonnull(strstr(out, "thread \"main\" (70);<module> "
				     "(/srv/app/main.py:3);hot (threading.py:10) 3\n"));
	ck_assert_ptr_nonnull(strstr(out, "hot (threading.py:11) 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "(req/api.py:20)"));
	free(out);
	profile_release(&pf);

	/* --function: one frame per function, at its first line */
	l.function = true;
	build(&pf, false, l);
	ck_assert_uint_eq(pf.nframes, 5);
	out = write_out(&pf, RECORD_FOLDED, &len);
	ck_assert_ptr_nonnull(strstr(out, "thread \"main\" (70);<module> "
				     "(/srv/app/main.py:1);hot (threading.py:9) 4\n"));
	/* a C frame has no line */
	ck_assert_ptr_nonnull(strstr(out, ";__GI___poll (/usr/lib/x86_64-"
				     "linux-gnu/libc.so.6);"));
	free(out);
	profile_release(&pf);

	/* --nolineno, --full-filenames */
	l.function = false;
	l.nolineno = true;
	l.full_filenames = true;
	build(&pf, false, l);
	out = write_out(&pf, RECORD_FOLDED, &len);
	ck_assert_ptr_nonnull(strstr(out, "thread \"main\" (70);<module> "
				     "(/srv/app/main.py);hot "
				     "(/usr/lib/python3.12/threading.py) 4\n"));
	free(out);
	profile_release(&pf);
}
END_TEST

START_TEST(test_record_parse_formats)
{
	struct record_opts o;
	pid_t pid = 0;

	{
		ARGV("record", "-o", "f", "--format", "pprof", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_PPROF);
		ck_assert(!o.full_filenames && !o.function && !o.nolineno);
	}
	{
		ARGV("record", "-o", "f", "-f", "chrometrace", "-F",
		     "--nolineno", "--full-filenames", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_CHROMETRACE);
		ck_assert(o.full_filenames && o.function && o.nolineno);
	}
	{
		ARGV("record", "-o", "f", "--function", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert(o.function);
	}
	{
		ARGV("record", "-o", "f", "--tasks", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert(o.tasks);
	}
	{
		ARGV("record", "-o", "f", "--tasks", "--native", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "f", "-f", "pprof2", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
}
END_TEST

/* ---- record --tasks: stacks continued by their tasks ------------------- */

static struct sample_frame tframe(uint32_t key, const char *function,
				  int line, int first_line)
{
	struct sample_frame f = { .code_key = key, .line = line,
		.first_line = first_line, .function = function,
		.filename = "app.py" };

	return f;
}

static struct task_stack_link tlink(uint32_t key, const char *mark,
				    const struct sample_frame *frames,
				    size_t nframes)
{
	struct task_stack_link l = { .frames = frames, .nframes = nframes };

	l.mark = tframe(key, mark, -1, -1);
	l.mark.filename = "snakescope";
	l.mark.native = true;
	return l;
}

/* The functions of out's frames, root first, joined by ';'. */
static void root_first(const struct sample *out, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t i = out->nframes; i-- > 0;)
		strbuf_addf(&sb, "%s%s", sb.len ? ";" : "",
			    out->frames[i].function);
	snprintf(buf, size, "%s", sb.buf);
	strbuf_release(&sb);
}

START_TEST(test_task_stack_splice)
{
	/* innermost first, as sampled: inner's coroutine runs hot(); the
	 * loop's machinery under it */
	struct sample_frame stack[] = {
		tframe(1, "hot", 12, 10), tframe(2, "inner", 31, 30),
		tframe(3, "Handle._run", 84, 80), tframe(4, "run", 194, 190),
		tframe(5, "<module>", 82, 1),
	};
	/* outer awaits inner from helper(): two coroutine frames */
	struct sample_frame main_f[] = { tframe(100, "main", 77, 75) };
	struct sample_frame outer_f[] = { tframe(101, "outer", 70, 68),
					  tframe(102, "helper", 50, 49) };
	struct sample_frame inner_f[] = { tframe(103, "inner", 33, 30) };
	struct task_stack_link links[] = {
		tlink(200, "<task main>", main_f, 1),
		tlink(201, "<task outer>", outer_f, 2),
		tlink(202, "<task inner>", inner_f, 1),
	};
	struct sample out = { 0 };
	struct profile pf;
	struct sample s = { 0 };
	struct sample_thread th = { .thread_id = 7, .native_id = 70,
		.name = "main" };
	char got[512], *text;
	size_t len;

	ck_assert_int_eq(task_stack_entry(stack, 5, &links[2]), 1);
	ck_assert_uint_eq(task_stack_splice(&out, stack, 5, links, 3), 11);
	root_first(&out, got, sizeof(got));
	ck_assert_str_eq(got, "<module>;run;Handle._run;<task main>;main;"
			 "<task outer>;outer;helper;<task inner>;inner;hot");
	/* the running task's frame is the sampled one (its line), the
	 * awaiters' their own */
	ck_assert_int_eq(out.frames[1].line, 31);
	ck_assert_uint_eq(out.frames[1].code_key, 2);

	/* the same through the profile: folded, as every writer sees it */
	th.first = 0;
	th.nframes = out.nframes;
	s.threads = &th;
	s.nthreads = 1;
	s.frames = out.frames;
	s.nframes = out.nframes;
	profile_init(&pf, false, true);
	profile_add(&pf, 1, &s);
	text = write_out(&pf, RECORD_FOLDED, &len);
	ck_assert_str_eq(text, "<module> (app.py:82);run (app.py:194);"
			 "Handle._run (app.py:84);<task main> (snakescope);"
			 "main (app.py:77);<task outer> (snakescope);"
			 "outer (app.py:70);helper (app.py:50);"
			 "<task inner> (snakescope);inner (app.py:31);"
			 "hot (app.py:12) 1\n");
	free(text);
	profile_release(&pf);

	/* only the running task: its mark alone */
	out.nframes = 0;
	ck_assert_uint_eq(task_stack_splice(&out, stack, 5, &links[2], 1), 6);
	root_first(&out, got, sizeof(got));
	ck_assert_str_eq(got, "<module>;run;Handle._run;<task inner>;inner;hot");
	sample_release(&out);
}
END_TEST

START_TEST(test_task_stack_entry)
{
	/* inner awaits itself again (recursion): it enters at the
	 * outermost; a function of the same name elsewhere (another first
	 * line) is not it; a C frame never is */
	struct sample_frame stack[] = {
		tframe(1, "inner", 33, 30), tframe(1, "inner", 35, 30),
		tframe(9, "inner", 5, 4), tframe(3, "_run", 84, 80),
	};
	struct sample_frame inner_f[] = { tframe(103, "inner", 33, 30) };
	struct sample_frame other_f[] = { tframe(104, "gone", 3, 2) };
	struct task_stack_link inner = tlink(202, "<task inner>", inner_f, 1);
	struct task_stack_link other = tlink(203, "<task gone>", other_f, 1);
	struct task_stack_link bare = tlink(204, "<task bare>", NULL, 0);
	struct sample out = { 0 };

	ck_assert_int_eq(task_stack_entry(stack, 4, &inner), 1);
	stack[1].native = true;
	ck_assert_int_eq(task_stack_entry(stack, 4, &inner), 0);
	stack[1].native = false;
	/* not on the stack (it left its step, or the stack was cut short),
	 * no frame read, no chain: nothing appended, the caller keeps the
	 * stack */
	ck_assert_int_eq(task_stack_entry(stack, 4, &other), -1);
	ck_assert_int_eq(task_stack_entry(stack, 4, &bare), -1);
	ck_assert_uint_eq(task_stack_splice(&out, stack, 4, &other, 1), 0);
	ck_assert_uint_eq(task_stack_splice(&out, stack, 4, &bare, 1), 0);
	ck_assert_uint_eq(task_stack_splice(&out, stack, 4, &inner, 0), 0);
	ck_assert_uint_eq(out.nframes, 0);
	ck_assert_int_eq(task_stack_entry(stack, 0, &inner), -1);
	sample_release(&out);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");

	tcase_add_test(tc, test_pbuf_encoding);
	tcase_add_test(tc, test_pprof_writer);
	tcase_add_test(tc, test_json_validator);
	tcase_add_test(tc, test_chrometrace_writer);
	tcase_add_test(tc, test_label_file);
	tcase_add_test(tc, test_label_lines);
	tcase_add_test(tc, test_record_parse_formats);
	tcase_add_test(tc, test_task_stack_splice);
	tcase_add_test(tc, test_task_stack_entry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(profile_suite());
}
