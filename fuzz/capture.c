/*
 * capture.c - record fuzz seeds from a live Python process.
 *
 * usage: fuzz/capture PID OUTDIR NAME
 *
 * Attaches to PID the way `snakescope dump` does (find the runtime, pause
 * every thread), then runs each fuzz target's decoders (fuzz/harness.c)
 * over a reader that forwards to the process and records every range read.
 * The recorded ranges, merged, are the memory image of a seed in the
 * format of fuzz/harness.h, written to OUTDIR/TARGET/NAME[-K]:
 *
 *   threads/NAME, threads/NAME-locals   the thread and frame walk
 *   threads/NAME-sampler                the same, and the sampler
 *   tasks/NAME                          when the target has asyncio tasks
 *   locks/NAME                          when it has locks held or waited for
 *   code/NAME-K, linetable/NAME-K       the code objects of its frames
 *   objects/NAME-K                      __main__'s globals, frames' locals
 *
 * A seed larger than FUZZ_SEED_MAX is not written (said on stderr).  The
 * target is resumed before this exits.
 */
#include <config.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "fuzz/harness.h"
#include "memreader/mem.h"
#include "pystructs/asyncio.h"
#include "pystructs/code.h"
#include "pystructs/locate.h"
#include "pystructs/locals.h"
#include "pystructs/locks.h"
#include "pystructs/object.h"
#include "pystructs/pyproc.h"
#include "pystructs/reader.h"
#include "model/snapshot.h"
#include "pystructs/threads.h"
#include "session/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_SEED_MAX (64u * 1024)
#define MAX_CODE_SEEDS 6
#define MAX_LOCALS_SEEDS 6

/* ---- the recorded ranges as a seed image ------------------------ */

static int range_cmp(const void *a, const void *b)
{
	const struct mem_range *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len;
}

/* Append one segment (addr, len, bytes) to buf. */
static void seg_put(uint8_t **buf, size_t *len, size_t *cap, uint64_t addr,
		    const uint8_t *data, size_t n)
{
	uint32_t n32 = (uint32_t)n;

	*buf = xgrow(*buf, cap, *len + FUZZ_SEG_HDR + n, 1);
	memcpy(*buf + *len, &addr, 8);
	memcpy(*buf + *len + 8, &n32, 4);
	memcpy(*buf + *len + FUZZ_SEG_HDR, data, n);
	*len += FUZZ_SEG_HDR + n;
}

/* The seed: the header, then the recorded ranges merged into segments
 * (overlapping or touching ranges become one).  Malloc'ed, *len bytes. */
static uint8_t *rec_image(struct mem_reader *rec, const struct fuzz_hdr *h,
			  size_t *len)
{
	const struct mem_range *got;
	size_t n = mem_recorder_ranges(rec, &got);
	struct mem_range *v = xcalloc(n + 1, sizeof(*v));
	uint8_t *buf = NULL, *seg = NULL;
	size_t cap = 0, seg_cap = 0, seg_len = 0;
	uint64_t seg_addr = 0;

	buf = xgrow(buf, &cap, FUZZ_HDR_SIZE, 1);
	fuzz_hdr_write(h, buf);
	*len = FUZZ_HDR_SIZE;
	if (n)
		memcpy(v, got, n * sizeof(*v));
	qsort(v, n, sizeof(*v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct mem_range *rr = &v[i];
		uint64_t end = seg_addr + seg_len;

		if (seg_len && rr->addr <= end) {
			if (rr->addr + rr->len > end) {
				size_t skip = (size_t)(end - rr->addr);

				seg = xgrow(seg, &seg_cap, seg_len + rr->len - skip, 1);
				memcpy(seg + seg_len, rr->data + skip, rr->len - skip);
				seg_len += rr->len - skip;
			}
			continue;
		}
		if (seg_len)
			seg_put(&buf, len, &cap, seg_addr, seg, seg_len);
		seg = xgrow(seg, &seg_cap, rr->len, 1);
		memcpy(seg, rr->data, rr->len);
		seg_addr = rr->addr;
		seg_len = rr->len;
	}
	if (seg_len)
		seg_put(&buf, len, &cap, seg_addr, seg, seg_len);
	free(seg);
	free(v);
	return buf;
}

/* ---- the capture ------------------------------------------------- */

struct capture {
	struct mem_reader *live;
	struct fuzz_hdr hdr; /* roots and flags set per seed */
	uint64_t asyncio_words[ASYNCIO_DEBUG_WORDS];
	bool has_asyncio_words;
	const char *outdir, *name;
	unsigned written;
};

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f) {
		fprintf(stderr, "capture: cannot create %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok)
		fprintf(stderr, "capture: cannot write %s\n", path);
	return ok ? 0 : -1;
}

/* OUTDIR/dir (made if missing) / NAME suffix. */
static char *seed_path(struct capture *c, const char *dir, const char *suffix)
{
	size_t n = strlen(c->outdir) + strlen(dir) + strlen(c->name) +
		   strlen(suffix) + 3;
	char *path = xmalloc(n);

	snprintf(path, n, "%s/%s", c->outdir, dir);
	if (mkdir(path, 0777) && errno != EEXIST)
		fprintf(stderr, "capture: cannot create %s: %s\n", path,
			strerror(errno));
	snprintf(path, n, "%s/%s/%s%s", c->outdir, dir, c->name, suffix);
	return path;
}

static void save(struct capture *c, const char *dir, const char *suffix,
		 const uint8_t *buf, size_t len)
{
	char *path = seed_path(c, dir, suffix);

	if (len > FUZZ_SEED_MAX)
		fprintf(stderr, "capture: %s: %zu bytes, over %u: not written\n",
			path, len, FUZZ_SEED_MAX);
	else if (!write_file(path, buf, len))
		c->written++;
	free(path);
}

/* Run target t over a recording reader and save what it read. */
static void seed(struct capture *c, enum fuzz_target t, const char *dir,
		 const char *suffix)
{
	struct mem_reader *m = mem_recorder_new(c->live);
	uint8_t *img;
	size_t len;

	c->hdr.asyncio_debug = 0;
	if (c->has_asyncio_words) {
		/* The words come from an ELF section, found through the
		 * file: they go into the image where no object can be. */
		c->hdr.asyncio_debug = FUZZ_ASYNCIO_ADDR;
		mem_recorder_add(m, FUZZ_ASYNCIO_ADDR, c->asyncio_words,
			sizeof(c->asyncio_words));
	}
	if (!fuzz_run(t, m, &c->hdr)) {
		fprintf(stderr, "capture: %s/%s%s: the runtime cannot be set "
			"up from what was read\n", dir, c->name, suffix);
	} else {
		img = rec_image(m, &c->hdr, &len);
		save(c, dir, suffix, img, len);
		free(img);
	}
	mem_reader_free(m);
}

static void linetable_seed(struct capture *c, const struct py_code *code,
			   int lasti, const char *suffix)
{
	size_t len = FUZZ_LINETABLE_HDR + code->linetable_len;
	uint8_t *buf = xmalloc(len);
	int32_t first = code->firstlineno, off = lasti;

	memcpy(buf, &first, 4);
	memcpy(buf + 4, &off, 4);
	if (code->linetable_len)
		memcpy(buf + FUZZ_LINETABLE_HDR, code->linetable,
		       code->linetable_len);
	save(c, "linetable", suffix, buf, len);
	free(buf);
}

/* code/ and linetable/ seeds for the first distinct code objects of the
 * snapshot's frames; objects/ seeds for their frames' values. */
static void frame_seeds(struct capture *c, struct py_proc *p,
			const struct snapshot *s)
{
	uint64_t done[MAX_CODE_SEEDS];
	size_t ncode = 0, nlocals = 0;
	char suffix[32];

	for (size_t i = 0; i < s->nthreads; i++) {
		for (size_t j = 0; j < s->threads[i].nframes; j++) {
			const struct snap_frame *f = &s->threads[i].frames[j];
			const struct py_code *code;
			uint64_t vals[2];
			uint8_t fr[4096];
			bool seen = false;
			size_t hdr = (size_t)p->L.frame.localsplus;

			if (!f->code)
				continue;
			if (nlocals < MAX_LOCALS_SEEDS &&
			    py_frame_values(p, f->code, f->addr, vals, 2) == 2) {
				c->hdr.root[0] = vals[0];
				c->hdr.root[1] = vals[1];
				snprintf(suffix, sizeof(suffix), "-locals%zu",
					 nlocals++);
				seed(c, FUZZ_OBJECTS, "objects", suffix);
			}
			for (size_t k = 0; k < ncode; k++)
				seen |= done[k] == f->code;
			if (seen || ncode >= MAX_CODE_SEEDS)
				continue;
			done[ncode] = f->code;
			snprintf(suffix, sizeof(suffix), "-%zu", ncode++);
			c->hdr.root[0] = f->code;
			c->hdr.root[1] = f->addr;
			seed(c, FUZZ_CODE, "code", suffix);
			code = py_code_get(p, f->code, NULL);
			if (code && hdr <= sizeof(fr) &&
			    !mem_read(p->mem, f->addr, fr, hdr, NULL))
				linetable_seed(c, code, py_frame_lasti(p, fr,
							 f->code, code), suffix);
		}
	}
}

/* objects/NAME-globals: __main__'s globals. */
static void globals_seed(struct capture *c, struct py_proc *p)
{
	uint64_t interps[PY_MAX_INTERPS], module;
	size_t n;

	if (py_interp_list(p, interps, &n, NULL) || !n ||
	    py_module_get(p, interps[n - 1], "__main__", &module, NULL) ||
	    py_field(p, module, p->L.module.dict, &c->hdr.root[0], NULL))
		return;
	c->hdr.root[1] = 0;
	seed(c, FUZZ_OBJECTS, "objects", "-globals");
}

/* With the target paused (session_paused()): read it as the fuzz targets
 * do, recording what is read. */
static int capture_paused(void *arg, struct session *ss, struct err *e)
{
	struct capture *c = arg;
	const struct py_runtime_info *rt = session_runtime(ss);
	struct py_read_opts ro = { 0 };
	struct py_target t;
	struct py_proc p;
	struct snapshot *s;
	int idx, rc;

	session_target(ss, &t);
	c->live = t.mem;
	rc = py_proc_open(&p, c->live, rt, e);
	if (rc)
		return rc;
	idx = fuzz_layout_index(p.L.major, p.L.minor);
	if (idx < 0) {
		rc = err_set(e, SS_EUNSUPPORTED, "no built-in layout for %u.%u",
			     p.L.major, p.L.minor);
		goto release;
	}
	if (p.L.asyncio.ts_tasks_head != LAYOUT_NONE &&
	    py_locate_asyncio_debug(&t, rt, c->asyncio_words,
				    ASYNCIO_DEBUG_WORDS)) {
		c->has_asyncio_words = true;
		py_asyncio_debug_apply(&p.L, c->asyncio_words);
	}
	c->hdr.layout = (uint8_t)idx;
	c->hdr.flags = rt->debug_build ? FUZZ_F_DEBUG : 0;
	c->hdr.version_hex = rt->version_hex;
	c->hdr.runtime = rt->runtime;
	c->hdr.tstate_current = rt->tstate_current;

	s = snap_new();
	rc = py_read_threads(&p, &ro, s, e);
	if (!rc) {
		py_read_tasks(&p, s);
		py_read_locks(&p, s);
		seed(c, FUZZ_THREADS, "threads", "");
		c->hdr.flags |= FUZZ_F_LOCALS;
		seed(c, FUZZ_THREADS, "threads", "-locals");
		c->hdr.flags ^= FUZZ_F_LOCALS | FUZZ_F_SAMPLER;
		seed(c, FUZZ_THREADS, "threads", "-sampler");
		c->hdr.flags &= (uint8_t)~FUZZ_F_SAMPLER;
		if (s->ntasks)
			seed(c, FUZZ_TASKS, "tasks", "");
		if (s->nlocks)
			seed(c, FUZZ_LOCKS, "locks", "");
		frame_seeds(c, &p, s);
		globals_seed(c, &p);
	}
	snap_free(s);
release:
	py_proc_release(&p);
	return rc;
}

static int capture(struct capture *c, pid_t pid, struct err *e)
{
	struct session *ss;
	int rc = session_open(pid, &ss, e);

	if (rc)
		return rc;
	rc = session_paused(ss, capture_paused, c, e);
	session_close(ss);
	return rc;
}

int main(int argc, char **argv)
{
	struct capture c = { 0 };
	struct err e;
	char *end;
	long pid;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PID OUTDIR NAME\n", argv[0]);
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "capture: not a PID: %s\n", argv[1]);
		return 2;
	}
	c.outdir = argv[2];
	c.name = argv[3];
	err_clear(&e);
	if (session_init(&e) || capture(&c, (pid_t)pid, &e)) {
		fprintf(stderr, "capture: %s\n", e.msg[0] ? e.msg :
			err_describe(e.code));
		return 1;
	}
	fprintf(stderr, "capture: %s: %u seeds\n", c.name, c.written);
	return 0;
}
