/*
 * out_pprof.c - record's pprof writer: the profile (cli/profile.h) as
 * github.com/google/pprof's proto/profile.proto, encoded by hand
 * (common/pbuf.h) and gzipped with zlib, as every pprof reader expects.
 */
#include <config.h>

#include "cli/profile.h"
#include "common/escape.h"
#include "common/pbuf.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* profile.proto's field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	MAPPING_ID = 1,
	MAPPING_FILENAME = 5,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
	FUNCTION_START_LINE = 5,
};

/* What a stack without frames shows, as in folded stacks. */
#define NO_FRAMES "<no Python frames>"

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- the string table: each distinct string once, "" first ------------ */

struct strtab {
	char **str;             /* escaped copies, by index */
	size_t n, cap;
	uint32_t *slot;         /* index + 1, open addressing; 0: empty */
	size_t nslots;
	struct strbuf esc;
};

static void strtab_grow(struct strtab *t)
{
	size_t n = t->nslots ? 2 * t->nslots : 1024;

	free(t->slot);
	t->slot = xcalloc(n, sizeof(*t->slot));
	t->nslots = n;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_bytes(0xcbf29ce484222325ULL, t->str[i],
				      strlen(t->str[i])) & (n - 1);

		while (t->slot[j])
			j = (j + 1) & (n - 1);
		t->slot[j] = (uint32_t)i + 1;
	}
}

/* The index of s (NULL: "") in the table.  Names from the target are
 * escaped as in folded stacks: protobuf readers (Go's among them) want
 * valid UTF-8 in a string, and a control character has no place in a
 * report. */
static uint64_t strtab_index(struct strtab *t, const char *s)
{
	size_t j;

	strbuf_reset(&t->esc);
	escape_text(&t->esc, s ? s : "");
	if (2 * (t->n + 1) > t->nslots)
		strtab_grow(t);
	j = hash_bytes(0xcbf29ce484222325ULL, t->esc.buf, t->esc.len) &
	    (t->nslots - 1);
	for (; t->slot[j]; j = (j + 1) & (t->nslots - 1))
		if (!strcmp(t->str[t->slot[j] - 1], t->esc.buf))
			return t->slot[j] - 1;
	t->str = xgrow(t->str, &t->cap, t->n + 1, sizeof(*t->str));
	t->str[t->n] = xstrdup(t->esc.buf);
	t->slot[j] = (uint32_t)++t->n;
	return t->n - 1;
}

static void strtab_release(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->str[i]);
	free(t->str);
	free(t->slot);
	strbuf_release(&t->esc);
}

/* ---- functions: (name, file, first line) -> id ------------------------ */

struct functab {
	struct fn {
		uint64_t name, file;
		int64_t start;
		uint64_t system; /* its system_name, 0: none */
	} *fn;                  /* id - 1 */
	size_t n, cap;
	uint32_t *slot;         /* id, open addressing; 0: empty */
	size_t nslots;
};

static size_t fn_hash(const struct fn *f, size_t mask)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL, f, sizeof(*f));

	return (size_t)(h ^ h >> 29) & mask;
}

static uint64_t functab_id(struct functab *t, uint64_t name, uint64_t file,
			   int64_t start, uint64_t system)
{
	struct fn key;
	size_t j;

	memset(&key, 0, sizeof(key)); /* hashed whole */
	key.name = name;
	key.file = file;
	key.start = start;
	key.system = system;
	if (2 * (t->n + 1) > t->nslots) {
		size_t n = t->nslots ? 2 * t->nslots : 1024;

		free(t->slot);
		t->slot = xcalloc(n, sizeof(*t->slot));
		t->nslots = n;
		for (size_t i = 0; i < t->n; i++) {
			for (j = fn_hash(&t->fn[i], n - 1); t->slot[j];
			     j = (j + 1) & (n - 1))
				;
			t->slot[j] = (uint32_t)i + 1;
		}
	}
	for (j = fn_hash(&key, t->nslots - 1); t->slot[j];
	     j = (j + 1) & (t->nslots - 1))
		if (!memcmp(&t->fn[t->slot[j] - 1], &key, sizeof(key)))
			return t->slot[j];
	t->fn = xgrow(t->fn, &t->cap, t->n + 1, sizeof(*t->fn));
	t->fn[t->n] = key;
	t->slot[j] = (uint32_t)++t->n;
	return t->n;
}

/* ---- gzip --------------------------------------------------------------- */

/* Compress len bytes of data in gzip's format into f. */
static int write_gzip(const void *data, size_t len, FILE *f)
{
	unsigned char out[65536];
	z_stream z;
	int zrc, rc = 0;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer around the deflate stream */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = EIO;
		return -1;
	}
	z.next_in = (Bytef *)data;
	/* One call per 1 GiB: avail_in is an unsigned int. */
	do {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;

		z.avail_in = (uInt)chunk;
		len -= chunk;
		do {
			size_t got;

			z.next_out = out;
			z.avail_out = sizeof(out);
			zrc = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
			if (zrc == Z_STREAM_ERROR) {
				errno = EIO;
				rc = -1;
				break;
			}
			got = sizeof(out) - z.avail_out;
			if (got && fwrite(out, 1, got, f) != got)
				rc = -1;
		} while (!rc && z.avail_out == 0);
	} while (!rc && len);
	if (!rc && zrc != Z_STREAM_END) {
		errno = EIO;
		rc = -1;
	}
	deflateEnd(&z);
	return rc;
}

/* ---- the profile ---------------------------------------------------------- */

static void value_type(struct strbuf *out, uint32_t field, struct strtab *st,
		       const char *type, const char *unit, struct strbuf *tmp)
{
	strbuf_reset(tmp);
	pb_uint(tmp, VALUE_TYPE_TYPE, strtab_index(st, type));
	pb_uint(tmp, VALUE_TYPE_UNIT, strtab_index(st, unit));
	pb_message(out, field, tmp);
}

static void label_str(struct strbuf *sample, struct strtab *st,
		      const char *key, const char *value, struct strbuf *tmp)
{
	strbuf_reset(tmp);
	pb_uint(tmp, LABEL_KEY, strtab_index(st, key));
	pb_uint(tmp, LABEL_STR, strtab_index(st, value));
	pb_message(sample, SAMPLE_LABEL, tmp);
}

static void label_num(struct strbuf *sample, struct strtab *st,
		      const char *key, int64_t value, struct strbuf *tmp)
{
	strbuf_reset(tmp);
	pb_uint(tmp, LABEL_KEY, strtab_index(st, key));
	pb_int(tmp, LABEL_NUM, value);
	pb_message(sample, SAMPLE_LABEL, tmp);
}

/* A location of one line: location id = line's function id = fid. */
static void location(struct strbuf *out, uint64_t id, uint64_t fid,
		     int line, struct strbuf *tmp, struct strbuf *ln)
{
	strbuf_reset(ln);
	pb_uint(ln, LINE_FUNCTION_ID, fid);
	if (line > 0)
		pb_int(ln, LINE_LINE, line);
	strbuf_reset(tmp);
	pb_uint(tmp, LOCATION_ID, id);
	pb_uint(tmp, LOCATION_MAPPING_ID, 1);
	pb_message(tmp, LOCATION_LINE, ln);
	pb_message(out, PROFILE_LOCATION, tmp);
}

int profile_write_pprof(const struct profile *pf, const struct pprof_info *info,
			FILE *f)
{
	struct strtab st = { 0 };
	struct functab ft = { 0 };
	struct strbuf out, tmp, ln, smp;
	uint64_t *locs = NULL, vals[2];
	size_t locs_cap = 0;
	uint64_t no_frames_loc = 0;
	int64_t period = info->period_nanos > 0 ? info->period_nanos : 1;
	int rc;

	strbuf_init(&out);
	strbuf_init(&tmp);
	strbuf_init(&ln);
	strbuf_init(&smp);
	strbuf_init(&st.esc);
	strtab_index(&st, ""); /* index 0, as profile.proto requires */

	value_type(&out, PROFILE_SAMPLE_TYPE, &st, "samples", "count", &tmp);
	value_type(&out, PROFILE_SAMPLE_TYPE, &st, "wall", "nanoseconds", &tmp);

	/* One mapping for every location, saying that the functions, files
	 * and lines are all there: nothing for pprof to symbolize. */
	strbuf_reset(&tmp);
	pb_uint(&tmp, MAPPING_ID, 1);
	pb_uint(&tmp, MAPPING_FILENAME, strtab_index(&st, "python"));
	pb_uint(&tmp, MAPPING_HAS_FUNCTIONS, 1);
	pb_uint(&tmp, MAPPING_HAS_FILENAMES, 1);
	pb_uint(&tmp, MAPPING_HAS_LINE_NUMBERS, 1);
	pb_message(&out, PROFILE_MAPPING, &tmp);

	/* Locations: frame i is location i + 1. */
	for (size_t i = 0; i < pf->nframes; i++) {
		const struct prof_frame *fr = &pf->frames[i];
		uint64_t name = strtab_index(&st, fr->function);
		/* A system (linker) name only for C functions: pprof would
		 * read a Python name given as one ("<module>", "<lambda>")
		 * as C++ and cut its "<...>" away.  Python names are not
		 * mangled; snakescope's markers are no symbols. */
		bool sym = fr->native && strcmp(fr->filename, "snakescope");
		uint64_t fid = functab_id(&ft, name,
					  strtab_index(&st, fr->filename),
					  fr->first_line > 0 ? fr->first_line : 0,
					  sym ? name : 0);

		location(&out, i + 1, fid, fr->line, &tmp, &ln);
	}
	for (size_t i = 0; i < pf->nstacks; i++) {
		if (pf->stacks[i]->nframes)
			continue;
		/* A marker function of our own, as folded stacks show it. */
		no_frames_loc = pf->nframes + 1;
		location(&out, no_frames_loc,
			 functab_id(&ft, strtab_index(&st, NO_FRAMES),
				    strtab_index(&st, "snakescope"), 0, 0),
			 -1, &tmp, &ln);
		break;
	}
	for (size_t i = 0; i < ft.n; i++) {
		strbuf_reset(&tmp);
		pb_uint(&tmp, FUNCTION_ID, i + 1);
		pb_uint(&tmp, FUNCTION_NAME, ft.fn[i].name);
		if (ft.fn[i].system)
			pb_uint(&tmp, FUNCTION_SYSTEM_NAME, ft.fn[i].system);
		pb_uint(&tmp, FUNCTION_FILENAME, ft.fn[i].file);
		if (ft.fn[i].start > 0)
			pb_int(&tmp, FUNCTION_START_LINE, ft.fn[i].start);
		pb_message(&out, PROFILE_FUNCTION, &tmp);
	}

	for (size_t i = 0; i < pf->nstacks; i++) {
		const struct prof_stack *s = pf->stacks[i];
		const struct prof_thread *t = s->thread != UINT32_MAX ?
			&pf->threads[s->thread] : NULL;
		size_t n = s->nframes ? s->nframes : 1;

		locs = xgrow(locs, &locs_cap, n, sizeof(*locs));
		/* pprof wants the leaf first; stacks are root first */
		for (size_t k = 0; k < s->nframes; k++)
			locs[k] = (uint64_t)s->frames[s->nframes - 1 - k] + 1;
		if (!s->nframes)
			locs[0] = no_frames_loc;
		vals[0] = s->count;
		vals[1] = (uint64_t)s->count * (uint64_t)period;
		strbuf_reset(&smp);
		pb_packed(&smp, SAMPLE_LOCATION_ID, locs, n);
		pb_packed(&smp, SAMPLE_VALUE, vals, 2);
		if (t && t->name)
			label_str(&smp, &st, "thread_name", t->name, &tmp);
		if (t)
			label_num(&smp, &st, "thread_id", t->native_id > 0 ?
				  t->native_id : (int64_t)t->thread_id, &tmp);
		label_num(&smp, &st, "pid", s->pid, &tmp);
		if (info->with_process) {
			const char *pname = profile_process(pf, s->pid);

			if (pname)
				label_str(&smp, &st, "process", pname, &tmp);
		}
		pb_message(&out, PROFILE_SAMPLE, &smp);
	}

	pb_int(&out, PROFILE_TIME_NANOS, info->time_nanos);
	pb_int(&out, PROFILE_DURATION_NANOS, info->duration_nanos);
	value_type(&out, PROFILE_PERIOD_TYPE, &st, "wall", "nanoseconds", &tmp);
	pb_int(&out, PROFILE_PERIOD, period);
	/* The string table last: every string is in it by now. */
	for (size_t i = 0; i < st.n; i++)
		pb_bytes(&out, PROFILE_STRING_TABLE, st.str[i],
			 strlen(st.str[i]));

	rc = write_gzip(out.buf, out.len, f);
	free(locs);
	free(ft.fn);
	free(ft.slot);
	strtab_release(&st);
	strbuf_release(&out);
	strbuf_release(&tmp);
	strbuf_release(&ln);
	strbuf_release(&smp);
	return rc;
}
