/*
 * snapshot.c - a core file of a live process holding only what a dump of
 * it reads (session_write_core()).
 *
 * The target is held for one snapshot read (tasks, locks, locals and,
 * when asked, the native unwind) done through a recording reader
 * (memreader: mem_recorder_new()), so that exactly the memory a dump
 * needs is known.  While it is still held, the runtime is located again
 * through the recorder (the pages that step reads), each mapped file's
 * ELF header and build-id note is read, the threads' registers are
 * taken, and (native) each thread's stack from its stack pointer up; the
 * pages of all that are then read once more, whole, and the target is
 * released.  The core is written after (attach/core_write.h).
 */
#include <config.h>

#include "session/session.h"
#include "session/kind.h"
#include "attach/core.h"
#include "attach/core_write.h"
#include "common/xalloc.h"
#include "pystructs/asyncio.h"
#include "pystructs/locate.h"
#include "pystructs/reader.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_PAGE UINT64_C(4096)
/* A thread's stack is kept from its stack pointer (less the red zone)
 * up to the end of its mapping, at most this much. */
#define SNAP_STACK_MAX (UINT64_C(8) << 20)
#define SNAP_RED_ZONE 128
#define SNAP_BUILD_ID_MAX 64
#define SNAP_AUXV_MAX 4096

/* Memory to keep: whole pages inside one mapping. */
struct snap_range {
	uint64_t lo, hi;
	bool r, w, x;
};

struct snapshot_core {
	struct mem_reader *live;  /* the session's own reader */
	struct mem_reader *rec;   /* recording over it, while reading */
	bool native;
	uint64_t max_size;
	struct maps maps;         /* as held */
	struct snap_range *ranges;
	size_t nranges, ranges_cap;
	struct core_write_thread *threads;
	size_t nthreads;
	struct core_write_segment *segs;
	size_t nsegs, segs_cap;
	void **bufs;              /* the segments' bytes */
	size_t nbufs, bufs_cap;
};

static uint64_t page_down(uint64_t v)
{
	return v & ~(SNAP_PAGE - 1);
}

static uint64_t page_up(uint64_t v)
{
	return (v + SNAP_PAGE - 1) & ~(SNAP_PAGE - 1);
}

/* The first mapping that ends above addr, or m->n. */
static size_t map_above(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keep [lo, hi): the whole pages of it that are mapped. */
static void keep(struct snapshot_core *sc, uint64_t lo, uint64_t hi)
{
	const struct maps *m = &sc->maps;

	if (hi <= lo)
		return;
	for (size_t i = map_above(m, lo); i < m->n && m->e[i].lo < hi; i++) {
		const struct maps_entry *me = &m->e[i];
		struct snap_range *r;

		if (!me->r)
			continue;
		sc->ranges = xgrow(sc->ranges, &sc->ranges_cap, sc->nranges + 1,
				   sizeof(*sc->ranges));
		r = &sc->ranges[sc->nranges++];
		r->lo = page_down(lo > me->lo ? lo : me->lo);
		r->hi = page_up(hi < me->hi ? hi : me->hi);
		r->r = me->r;
		r->w = me->w;
		r->x = me->x;
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct snap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort the ranges and merge those that touch or overlap with the same
 * permissions. */
static void merge(struct snapshot_core *sc)
{
	size_t k = 0;

	qsort(sc->ranges, sc->nranges, sizeof(*sc->ranges), range_cmp);
	for (size_t i = 0; i < sc->nranges; i++) {
		struct snap_range *r = &sc->ranges[i];

		if (k) {
			struct snap_range *last = &sc->ranges[k - 1];

			if (r->lo <= last->hi && r->r == last->r &&
			    r->w == last->w && r->x == last->x) {
				if (r->hi > last->hi)
					last->hi = r->hi;
				continue;
			}
			/* Overlap with other permissions cannot be (they
			 * are pages of different mappings); cut it. */
			if (r->lo < last->hi)
				r->lo = last->hi;
			if (r->hi <= r->lo)
				continue;
		}
		sc->ranges[k++] = *r;
	}
	sc->nranges = k;
}

static void add_seg(struct snapshot_core *sc, const struct snap_range *r,
		    uint64_t lo, uint64_t hi, const uint8_t *data)
{
	struct core_write_segment *s;

	sc->segs = xgrow(sc->segs, &sc->segs_cap, sc->nsegs + 1,
			 sizeof(*sc->segs));
	s = &sc->segs[sc->nsegs++];
	s->vaddr = lo;
	s->len = (size_t)(hi - lo);
	s->data = data;
	s->r = r->r;
	s->w = r->w;
	s->x = r->x;
}

/* Read every range whole from the target; a range that fails is read
 * page by page, and its unreadable pages are left out. */
static void read_ranges(struct snapshot_core *sc)
{
	struct mem_span *spans = xcalloc(sc->nranges + 1, sizeof(*spans));

	for (size_t i = 0; i < sc->nranges; i++) {
		const struct snap_range *r = &sc->ranges[i];

		spans[i].addr = r->lo;
		spans[i].len = (size_t)(r->hi - r->lo);
		spans[i].buf = xmalloc(spans[i].len);
		sc->bufs = xgrow(sc->bufs, &sc->bufs_cap, sc->nbufs + 1,
				 sizeof(*sc->bufs));
		sc->bufs[sc->nbufs++] = spans[i].buf;
	}
	mem_read_spans(sc->live, spans, sc->nranges);
	for (size_t i = 0; i < sc->nranges; i++) {
		const struct snap_range *r = &sc->ranges[i];
		uint8_t *buf = spans[i].buf;
		uint64_t run = 0;
		bool in_run = false;

		if (spans[i].ok) {
			add_seg(sc, r, r->lo, r->hi, buf);
			continue;
		}
		for (uint64_t a = r->lo; a <= r->hi; a += SNAP_PAGE) {
			bool ok = a < r->hi &&
				  !mem_read(sc->live, a, buf + (a - r->lo),
					    SNAP_PAGE, NULL);

			if (ok && !in_run) {
				run = a;
				in_run = true;
			} else if (!ok && in_run) {
				add_seg(sc, r, run, a, buf + (run - r->lo));
				in_run = false;
			}
		}
	}
	free(spans);
}

/* The runtime's locate step again, through the recorder: the pages it
 * reads are those a reader of the core will read to find the runtime. */
static void record_locate(struct session *s)
{
	struct py_runtime_info rt;
	struct py_target t;
	struct py_proc p;

	session_target(s, &t);
	memset(&rt, 0, sizeof(rt));
	if (py_locate(&t, &rt, NULL))
		return;
	if (!py_proc_open(&p, t.mem, &rt, NULL)) {
		if (p.L.asyncio.ts_tasks_head != LAYOUT_NONE) {
			uint64_t words[ASYNCIO_DEBUG_WORDS];

			py_locate_asyncio_debug(&t, &rt, words,
						ASYNCIO_DEBUG_WORDS);
		}
		py_proc_release(&p);
	}
}

/* Each mapped file's first page: its ELF header and, most often, its
 * program headers and build-id note, which a reader of the core checks
 * the file it finds against (core_build_id() reads them). */
static void record_file_heads(struct snapshot_core *sc)
{
	for (size_t i = 0; i < sc->maps.n; i++) {
		const struct maps_entry *me = &sc->maps.e[i];
		unsigned char id[SNAP_BUILD_ID_MAX];

		if (me->path[0] != '/' || me->offset || !me->r ||
		    maps_first(&sc->maps, me->path) != me)
			continue;
		keep(sc, me->lo, me->lo + SNAP_PAGE);
		core_build_id(sc->rec, me, id, sizeof(id));
	}
}

static void take_threads(struct session *s, struct snapshot_core *sc)
{
	const pid_t *tids;
	size_t n = s->kind->held(s, &tids);

	sc->threads = xcalloc(n + 1, sizeof(*sc->threads));
	for (size_t i = 0; i < n; i++) {
		struct core_write_thread *t = &sc->threads[sc->nthreads++];
		uint64_t sp, lo, hi;
		const struct maps_entry *me;

		t->tid = tids[i];
		if (!s->kind->regs(s, tids[i], &t->regs) || !sc->native)
			continue;
		sp = t->regs.rsp;
		me = maps_find(&sc->maps, sp);
		if (!me)
			continue;
		lo = sp > me->lo + SNAP_RED_ZONE ? sp - SNAP_RED_ZONE : me->lo;
		hi = me->hi - lo > SNAP_STACK_MAX ? lo + SNAP_STACK_MAX : me->hi;
		keep(sc, lo, hi);
	}
}

/* While the snapshot's read still holds the target. */
static int held(struct session *s, void *arg, struct err *e)
{
	struct snapshot_core *sc = arg;
	const struct mem_range *got;
	uint64_t total = 0;
	size_t n;
	int rc = s->kind->maps(s, &sc->maps, e);

	if (rc)
		return rc;
	record_locate(s);
	record_file_heads(sc);
	take_threads(s, sc);
	n = mem_recorder_ranges(sc->rec, &got);
	for (size_t i = 0; i < n; i++)
		keep(sc, got[i].addr, got[i].addr + got[i].len);
	merge(sc);
	for (size_t i = 0; i < sc->nranges; i++)
		total += sc->ranges[i].hi - sc->ranges[i].lo;
	if (total > sc->max_size)
		return err_set(e, SS_ELIMIT, "the core would hold %llu MiB of "
			       "memory, over the bound of %llu MiB: not "
			       "written", (unsigned long long)(total >> 20),
			       (unsigned long long)(sc->max_size >> 20));
	read_ranges(sc);
	return 0;
}

/* /proc/PID/NAME's bytes, at most max, into a malloc'ed buffer. */
static size_t read_proc(pid_t pid, const char *name, char **out, size_t max)
{
	char path[64];
	ssize_t got;
	size_t n = 0;
	int fd;

	*out = xmalloc(max + 1);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (n < max && (got = read(fd, *out + n, max - n)) > 0)
		n += (size_t)got;
	close(fd);
	(*out)[n] = '\0';
	return n;
}

static void snap_core_release(struct snapshot_core *sc)
{
	for (size_t i = 0; i < sc->nbufs; i++)
		free(sc->bufs[i]);
	free(sc->bufs);
	free(sc->segs);
	free(sc->threads);
	free(sc->ranges);
	maps_release(&sc->maps);
}

/* The core of the held, read and released target. */
static int write_out(struct session *s, struct snapshot_core *sc,
		     const char *path, struct session_core_stats *st,
		     struct err *e)
{
	struct core_write cw = { 0 };
	struct core_write_file *files;
	struct proc_info info;
	char comm[64] = "", *args, *auxv, **names;
	size_t nargs, nfiles = 0;
	struct stat pst;
	char ppath[32];
	int rc;

	cw.pid = s->pid;
	if (!proc_check(s->pid, &info, NULL)) {
		cw.ppid = info.ppid;
		cw.uid = info.uid;
	}
	snprintf(ppath, sizeof(ppath), "/proc/%d", (int)s->pid);
	if (!stat(ppath, &pst))
		cw.gid = pst.st_gid;
	proc_comm(s->pid, s->pid, comm, sizeof(comm));
	cw.fname = comm;
	nargs = read_proc(s->pid, "cmdline", &args, 80);
	for (size_t i = 0; i + 1 < nargs; i++)
		if (!args[i])
			args[i] = ' ';
	cw.psargs = args;
	cw.auxv_len = read_proc(s->pid, "auxv", &auxv, SNAP_AUXV_MAX);
	cw.auxv = cw.auxv_len ? auxv : NULL;
	cw.threads = sc->threads;
	cw.nthreads = sc->nthreads;
	cw.segs = sc->segs;
	cw.nsegs = sc->nsegs;
	files = xcalloc(sc->maps.n + 1, sizeof(*files));
	names = xcalloc(sc->maps.n + 1, sizeof(*names));
	for (size_t i = 0; i < sc->maps.n; i++) {
		const struct maps_entry *me = &sc->maps.e[i];
		size_t len = strlen(me->path) + 16;

		if (me->path[0] != '/')
			continue;
		names[nfiles] = xmalloc(len);
		snprintf(names[nfiles], len, "%s%s", me->path,
			 me->deleted ? " (deleted)" : "");
		files[nfiles].lo = me->lo;
		files[nfiles].hi = me->hi;
		files[nfiles].offset = me->offset;
		files[nfiles].path = names[nfiles];
		nfiles++;
	}
	cw.files = files;
	cw.nfiles = nfiles;
	rc = core_write_file(path, &cw, sc->max_size, &st->size, e);
	st->nthreads = sc->nthreads;
	st->nsegments = sc->nsegs;
	for (size_t i = 0; i < nfiles; i++)
		free(names[i]);
	free(names);
	free(files);
	free(args);
	free(auxv);
	return rc;
}

int session_write_core(struct session *s, const char *path, bool native,
		       uint64_t max_size, struct session_core_stats *st,
		       struct err *e)
{
	struct session_opts o = {
		.pause = true, .tasks = true, .locks = true, .locals = true,
		.native = native,
	};
	struct snapshot_core sc = { .native = native, .max_size = max_size };
	struct snapshot *snap = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	if (s->core)
		return err_set(e, SS_EINVAL, "%s is a core already", s->name);
	sc.live = s->mem;
	sc.rec = mem_recorder_new(s->mem);
	/* Every read of this snapshot goes through the recorder: the
	 * snapshot reader's, the locate step's and the unwinder's (made
	 * afresh over it, and dropped after). */
	s->mem = s->py.mem = sc.rec;
	unwinder_free(s->unwinder);
	s->unwinder = NULL;
	s->held_hook = held;
	s->held_arg = &sc;
	rc = session_snapshot(s, &o, &snap, e);
	s->held_hook = NULL;
	s->held_arg = NULL;
	unwinder_free(s->unwinder);
	s->unwinder = NULL;
	s->mem = s->py.mem = sc.live;
	mem_reader_free(sc.rec);
	st->pause_ms = s->held_ns / 1e6;
	snap_free(snap);
	if (!rc)
		rc = write_out(s, &sc, path, st, e);
	snap_core_release(&sc);
	return rc;
}
