/*
 * session.c - what every kind of target shares: finding the runtime,
 * reading a snapshot (hold, read, release), sampling.  The kinds are in
 * live.c (a process) and core.c (a core file).
 */
#include <config.h>

#include "session/session.h"
#include "session/kind.h"
#include "attach/elfsym.h"
#include "attach/unwind.h"
#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "model/native.h"
#include "pystructs/asyncio.h"
#include "pystructs/locate.h"
#include "pystructs/futures.h"
#include "pystructs/locks.h"
#include "pystructs/repr.h"
#include "pystructs/threads.h"
#include "pystructs/reader.h"
#include "session/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

_Static_assert(SESSION_REPR_WIDTH_MIN == PY_REPR_WIDTH_MIN &&
	       SESSION_REPR_WIDTH_MAX == PY_REPR_WIDTH_MAX,
	       "session.h's repr bounds are pystructs/repr.h's");

/* Unpaused reads can tear (a frame popped mid-walk): retry a few times. */
#define UNPAUSED_TRIES 3

/* A read that failed because the process went away says so. */
static int check_gone(struct session *is, int rc, struct err *e)
{
	if (rc == SS_EEXITED || rc == SS_ENOPROC)
		return rc;
	if (is->kind->gone(is))
		return err_set(e, SS_EEXITED, "process %d exited while being "
			       "read", (int)is->pid);
	return rc;
}

static void fill_comm_names(struct session *is, struct snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		struct snap_thread *t = &s->threads[i];
		char comm[64];

		if (!t->name && t->native_id > 0 &&
		    is->kind->comm(is, (pid_t)t->native_id, comm,
				   sizeof(comm)))
			t->name = xstrdup(comm);
	}
}

/* A blocked thread whose system call /proc would not tell: the held
 * thread's registers tell it. */
static void syscalls_from_registers(struct session *is, const pid_t *tids,
				    struct snap_os_thread *os, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct user_regs_struct r;
		long nr;

		if (os[i].syscall_unknown &&
		    is->kind->regs(is, tids[i], &r) &&
		    proc_regs_syscall(&r, &nr, &os[i].arg0)) {
			proc_syscall_name(nr, os[i].syscall,
					  sizeof(os[i].syscall));
			os[i].syscall_unknown = false;
		}
	}
}

/* Said when blocked threads' system calls stayed unknown: the lock and
 * hang analysis then sees less than it should.  NULL when none did. */
static char *syscall_gap(pid_t pid, const struct snap_os_thread *os,
			 size_t n)
{
	size_t unknown = 0;
	char *msg;

	for (size_t i = 0; i < n; i++)
		unknown += os[i].syscall_unknown;
	if (!unknown)
		return NULL;
	msg = xmalloc(400);
	snprintf(msg, 400, "the system calls of %zu blocked thread%s of "
		 "process %d are unknown (/proc/PID/task/TID/syscall is "
		 "root's, and this read did not pause the process): a hang "
		 "on a lock may go unseen; take a paused dump, or give "
		 "snakescope CAP_DAC_READ_SEARCH too", unknown,
		 unknown == 1 ? "" : "s", (int)pid);
	return msg;
}


void session_add_native_frames(struct snap_thread *t,
			       const struct unwind_stack *us,
			       const char *interp_path)
{
	for (size_t i = 0; i < us->n; i++) {
		const struct unwind_frame *f = &us->frames[i];
		struct snap_native *n = snap_add_native(t);

		n->kind = SNAP_STACK_NATIVE;
		n->pc = f->pc;
		n->function = f->function ? xstrdup(f->function) : NULL;
		n->offset = f->offset;
		n->library = f->library ? xstrdup(f->library) : NULL;
		n->lib_offset = f->lib_offset;
		n->source = f->source;
		n->sp = f->sp;
		n->caller_by = f->caller_by;
		n->internal = f->path && !strcmp(f->path, interp_path);
	}
}

/* The paused target's native stacks: merged into its Python threads, and
 * a thread of its own for each OS thread that has no Python state. */
int session_unwind_open(void *arg, const struct maps_entry *first, int *fd)
{
	struct session *is = arg;

	return is->kind->open_file(is, first, fd, NULL);
}

enum py_eval_find session_eval_find(void)
{
	const char *env = getenv("SNAKESCOPE_EVAL");

	return env && !strcmp(env, "stack") ? PY_EVAL_FIND_STACK :
	       PY_EVAL_FIND_ANY;
}

/* The held target's native stacks: merged into its Python threads, and
 * a thread of its own for each OS thread that has no Python state. */
static void read_native(struct session *is, const pid_t *tids,
			const struct snap_os_thread *os, size_t ntids,
			struct snapshot *s)
{
	size_t npy = s->nthreads, nheld;
	enum py_eval_find how = session_eval_find();
	const pid_t *held;
	struct maps m;
	struct err e;

	if (!is->unwinder)
		is->unwinder = unwinder_new(is->mem, session_unwind_open, is,
					    is->root);
	err_clear(&e);
	if (is->kind->maps(is, &m, &e)) {
		for (size_t j = 0; j < npy; j++)
			py_native_merge(is->py.L.major, is->py.L.minor,
					&s->threads[j], e.msg[0] ? e.msg :
					err_describe(e.code));
		return;
	}
	unwind_begin(is->unwinder, &m);
	maps_release(&m);
	nheld = is->kind->held(is, &held);
	for (size_t i = 0; i < nheld; i++) {
		pid_t tid = held[i];
		struct unwind_stack us = { 0 };
		struct snap_thread *t = NULL;
		struct user_regs_struct r;

		for (size_t j = 0; j < npy && !t; j++)
			if (s->threads[j].native_id == tid)
				t = &s->threads[j];
		if (!t) {
			t = snap_add_thread(s);
			t->native_only = true;
			t->native_id = tid;
			t->ns_native_id = is->has_ns ?
				proc_nsmap_ns(&is->nsmap, tid) : -1;
			t->interp_id = -1;
			for (size_t j = 0; j < ntids; j++)
				if (tids[j] == tid)
					t->os = os[j];
		}
		err_clear(&e);
		if (!is->kind->regs(is, tid, &r))
			err_set(&e, SS_EPTRACE, "cannot read the registers of "
				"thread %d", (int)tid);
		else if (unwind_thread(is->unwinder, &r, &us, &e) == 0)
			session_add_native_frames(t, &us, is->rt.binary);
		py_native_merge_by(is->py.L.major, is->py.L.minor, t,
				   us.error ? us.error : e.code ? e.msg : NULL,
				   how);
		unwind_stack_release(&us);
	}
	for (size_t j = 0; j < npy; j++)
		if (!s->threads[j].has_native)
			py_native_merge(is->py.L.major, is->py.L.minor,
					&s->threads[j], "no native stack: the "
					"thread's OS thread was not found");
}

static int read_snapshot(struct session *is,
			 const struct session_opts *o, struct snapshot *s,
			 struct err *e)
{
	struct py_proc *py = &is->py;
	struct py_read_opts ro = { 0 };
	struct snap_os_thread *os = NULL;
	struct session_waits *waits = NULL;
	pid_t *tids = NULL;
	size_t ntids = 0;
	uint64_t t_pause, t_paused = 0, t_unwind, t_unwound;
	bool stopped = false;
	int rc;

	rc = is->kind->tids(is, &tids, &ntids, e);
	if (rc)
		return rc;
	os = xcalloc(ntids + 1, sizeof(*os));
	is->kind->os_states(is, tids, ntids, os);
	t_pause = clock_mono_ns();
	if (o->pause) {
		rc = is->kind->hold(is, &stopped, e);
		if (rc) {
			free(os);
			free(tids);
			return rc;
		}
		s->paused = true;
		s->stopped = stopped;
		if (!stopped)
			syscalls_from_registers(is, tids, os, ntids);
		if (!stopped && !is->core)
			waits = session_waits_take(is, tids, os, ntids);
		if (o->hold_ms)
			clock_sleep_ms(o->hold_ms);
		t_paused = clock_mono_ns();
		/* Nothing changes while held: cache whole pages. */
		mem_cache_enable(py->mem, true);
	} else {
		s->stopped = is->kind->stopped(is);
		s->per_thread = o->nonstop;
	}
	ro.tids = tids;
	ro.ntids = ntids;
	ro.ns = is->has_ns ? &is->ns : NULL;
	ro.os = os;
	ro.locals = o->locals;
	ro.repr_width = o->repr_width;
	ro.check_torn = !o->pause;
	s->warning = syscall_gap(is->pid, os, ntids);
	if (o->nonstop && !o->pause)
		rc = session_nonstop_threads(is, &ro, o->native, s, e);
	else
		rc = py_read_threads(py, &ro, s, e);
	t_unwind = clock_mono_ns();
	if (!rc && o->native && o->pause && !stopped)
		read_native(is, tids, os, ntids, s);
	else if (!rc && o->native && !o->nonstop)
		for (size_t j = 0; j < s->nthreads; j++)
			py_native_merge(py->L.major, py->L.minor, &s->threads[j],
					"no native stack: the target was "
					"stopped (SIGSTOP) before snakescope "
					"came, and unwinding needs it running");
	t_unwound = clock_mono_ns();
	if (!rc && o->tasks) {
		py_read_tasks(py, s);
		/* Timers are compared with our clock: in a core they fell due
		 * long ago, and a stopped process's loop is stopped, not
		 * blocked. */
		if (!is->core && !s->stopped)
			snap_find_blocked_loops(s);
	}
	if (!rc && o->locks) {
		/* Best effort over data that is not expected to move (blocked
		 * threads): whole pages, also when not paused. */
		mem_cache_enable(py->mem, true);
		py_read_locks(py, s);
		py_read_futures(py, s);
		mem_cache_enable(py->mem, o->pause);
	}
	if (!rc && o->pause && is->held_hook)
		rc = is->held_hook(is, is->held_arg, e);
	if (o->pause) {
		uint64_t t_resume = clock_mono_ns();

		mem_cache_enable(py->mem, false);
		is->kind->release(is);
		is->held_ns = clock_mono_ns() - t_pause;
		if (getenv("SNAKESCOPE_TIMING"))
			fprintf(stderr, "snakescope timing: threads %zu, pause %.1f "
				"us, resume %.1f us, native unwind %.1f us, "
				"paused for %.1f us\n", ntids,
				(t_paused - t_pause) / 1e3,
				(clock_mono_ns() - t_resume) / 1e3,
				(t_unwound - t_unwind) / 1e3,
				(clock_mono_ns() - t_pause) / 1e3);
	}
	if (waits) {
		session_waits_name(is, waits, s);
		if (!rc && o->locks)
			session_proc_waits(is, s);
	}
	free(os);
	free(tids);
	return rc;
}

/* ---- the target's ELF files, for pystructs (target.h) ------------- */

struct session_elf {
	struct elf_file *ef;
	uint64_t bias;
};

static struct py_elf *elf_open(void *ctx, const struct maps_entry *first,
				struct err *e)
{
	struct session *is = ctx;
	struct session_elf *f;
	struct elf_file *ef;
	uint64_t bias;
	int fd;

	if (is->kind->open_file(is, first, &fd, e))
		return NULL;
	ef = elfsym_open(fd, first->path, e);
	if (!ef || elfsym_bias(ef, &is->maps, first->path, &bias, e)) {
		elfsym_free(ef);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->ef = ef;
	f->bias = bias;
	return (struct py_elf *)f;
}

static void elf_close(void *ctx, struct py_elf *pf)
{
	struct session_elf *f = (struct session_elf *)pf;

	(void)ctx;
	if (f) {
		elfsym_free(f->ef);
		free(f);
	}
}

static bool elf_symbol(void *ctx, struct py_elf *pf, const char *name,
			uint64_t *addr, uint64_t *size)
{
	struct session_elf *f = (struct session_elf *)pf;

	(void)ctx;
	if (!elfsym_lookup(f->ef, name, addr, size))
		return false;
	*addr += f->bias;
	return true;
}

static bool elf_section(void *ctx, struct py_elf *pf, const char *name,
			 uint64_t *addr, uint64_t *size)
{
	struct session_elf *f = (struct session_elf *)pf;

	(void)ctx;
	if (!elfsym_section(f->ef, name, addr, size))
		return false;
	*addr += f->bias;
	return true;
}

static const struct py_target_ops elf_ops = {
	.open = elf_open,
	.close = elf_close,
	.symbol = elf_symbol,
	.section = elf_section,
};

/* ---- open, close ----------------------------------------------------- */

int session_find_runtime(struct session *is, struct err *e)
{
	struct py_target t;
	int rc;

	session_target(is, &t);
	rc = py_locate(&t, &is->rt, e);
	if (!rc)
		rc = py_proc_open(&is->py, is->mem, &is->rt, e);
	if (rc)
		return rc;
	is->py_ready = true;
	if (is->py.L.asyncio.ts_tasks_head != LAYOUT_NONE) {
		uint64_t words[ASYNCIO_DEBUG_WORDS];

		if (py_locate_asyncio_debug(&t, &is->rt, words,
					    ASYNCIO_DEBUG_WORDS))
			py_asyncio_debug_apply(&is->py.L, words);
	}
	return 0;
}

void session_close(struct session *is)
{
	if (!is)
		return;
	py_sampler_free(is->sampler);
	session_nonstop_free(is);
	py_task_tracer_free(is->tracer);
	if (is->sampling_ready)
		py_proc_release(&is->sampling);
	if (is->py_ready)
		py_proc_release(&is->py);
	unwinder_free(is->unwinder);
	is->kind->close(is);
	if (is->root >= 0)
		close(is->root);
	mem_reader_free(is->mem);
	maps_release(&is->maps);
	free(is);
}

void session_target(struct session *is, struct py_target *t)
{
	t->name = is->name;
	t->mem = is->mem;
	t->maps = &is->maps;
	t->executable = is->exe;
	t->ops = &elf_ops;
	t->ctx = is;
}

pid_t session_pid(const struct session *is)
{
	return is->pid;
}

bool session_gone(const struct session *is)
{
	return is->kind->gone(is);
}

const char *session_version(const struct session *is)
{
	return is->py.version;
}

bool session_stopped(const struct session *is)
{
	return is->kind->stopped(is);
}

/* ---- snapshots ------------------------------------------------------- */

int session_snapshot(struct session *is, const struct session_opts *o,
		     struct snapshot **out, struct err *e)
{
	struct session_opts held;
	struct snapshot *s = NULL;
	pid_t pid = is->pid;
	int rc = 0;

	*out = NULL;
	if (is->core && !o->pause) {
		/* Nothing moves in a core: every read of it is "paused". */
		held = *o;
		held.pause = true;
		o = &held;
	}
	for (int attempt = 0; attempt < (o->pause ? 1 : UNPAUSED_TRIES); attempt++) {
		struct err te;

		err_clear(&te);
		snap_free(s);
		s = snap_new();
		py_proc_forget(&is->py);
		rc = read_snapshot(is, o, s, &te);
		if (!rc || rc == SS_EPERM || rc == SS_EEXITED || rc == SS_ENOPROC) {
			if (rc)
				*e = te;
			break;
		}
		*e = te;
	}
	if (rc) {
		snap_free(s);
		return check_gone(is, rc, e);
	}
	fill_comm_names(is, s);
	s->pid = pid;
	s->ns_pid = is->has_ns ? is->nsmap.ns_pid : 0;
	py_proc_recheck_version(&is->py);
	s->version = xstrdup(is->py.version);
	s->executable = xstrdup(is->exe[0] ? is->exe : "?");
	s->libpython = is->rt.in_libpython ? xstrdup(is->rt.binary) : NULL;
	/* A core does not record the machine it was dumped on (no note
	 * carries the nodename): its host stays unknown. */
	if (is->kind == &session_live) {
		struct utsname u;

		if (uname(&u) == 0 && u.nodename[0])
			s->host = xstrdup(u.nodename);
	}
	if (is->py.warning[0]) {
		char *gap = s->warning;
		struct strbuf sb;

		strbuf_init(&sb);
		strbuf_addstr(&sb, is->py.warning);
		if (gap)
			strbuf_addf(&sb, "; %s", gap);
		free(gap);
		s->warning = strbuf_detach(&sb);
	}
	if (is->core)
		session_core_origin(is, s);
	*out = s;
	return 0;
}

int session_paused(struct session *is,
		   int (*fn)(void *arg, struct session *s, struct err *e),
		   void *arg, struct err *e)
{
	bool stopped;
	int rc = is->kind->hold(is, &stopped, e);

	if (rc)
		return rc;
	rc = fn(arg, is, e);
	is->kind->release(is);
	return rc;
}

const struct py_runtime_info *session_runtime(const struct session *is)
{
	return &is->rt;
}

/* ---- samples --------------------------------------------------------- */

int session_sampler_start(struct session *is, session_keep_fn keep,
			  void *keep_arg, struct err *e)
{
	struct py_sampler_opts so = { 0 };

	so.keep = keep;
	so.keep_arg = keep_arg;
	return session_sampler_open(is, &so, e);
}

int session_sampler_open(struct session *is, const struct py_sampler_opts *o,
			 struct err *e)
{
	struct py_sampler_opts so = *o;
	pid_t *tids = NULL;
	size_t ntids = 0;
	int rc;

	if (is->sampler)
		return 0;
	rc = py_proc_open(&is->sampling, is->mem, &is->rt, e);
	if (rc)
		return rc;
	is->sampling_ready = true;
	/* The layout the snapshot reader settled (3.14+ asyncio words). */
	is->sampling.L = is->py.L;
	is->kind->tids(is, &tids, &ntids, NULL);
	so.tids = tids;
	so.ntids = ntids;
	so.ns = is->has_ns ? &is->ns : NULL;
	is->sampler = py_sampler_new(&is->sampling, &so);
	free(tids);
	return 0;
}

/* One sample, the target as it is (held or not). */
static int sample_take(struct session *is, uint64_t now_ns,
		       struct sample *out, struct err *e)
{
	int rc = py_sampler_take(is->sampler, now_ns, out, e);

	if (!rc && out->threads_left_out) {
		pid_t *tids = NULL;
		size_t ntids = 0;

		/* The bound came from an older task count: threads started
		 * since.  Once more with today's. */
		if (!is->kind->tids(is, &tids, &ntids, NULL)) {
			py_sampler_set_tids(is->sampler, tids, ntids);
			rc = py_sampler_take(is->sampler, now_ns, out, e);
		}
		free(tids);
	}
	return rc;
}

int session_sample(struct session *is, bool pause, uint64_t now_ns,
		   struct sample *out, struct err *e)
{
	bool stopped;
	int rc;

	if (pause) {
		rc = is->kind->hold(is, &stopped, e);
		if (rc)
			return rc;
	}
	rc = sample_take(is, now_ns, out, e);
	if (pause)
		is->kind->release(is);
	return rc;
}

int session_sample_tasks(struct session *is, bool pause, uint64_t now_ns,
			 struct sample *out, const struct task_chain **chains,
			 size_t *nchains, struct err *e)
{
	bool stopped;
	int rc;

	*chains = NULL;
	*nchains = 0;
	if (!is->tracer_tried) {
		is->tracer = py_task_tracer_new(&is->sampling);
		is->tracer_tried = true;
	}
	if (pause) {
		rc = is->kind->hold(is, &stopped, e);
		if (rc)
			return rc;
	}
	rc = sample_take(is, now_ns, out, e);
	/* right after the stacks, so that the running task is the one
	 * they show as often as possible */
	if (!rc && is->tracer)
		py_task_tracer_take(is->tracer, out, now_ns, chains, nchains);
	if (pause)
		is->kind->release(is);
	return rc;
}

static int source_open(void *arg, const char *name, uint64_t max, int *fd)
{
	struct session *is = arg;

	return is->kind->open_source(is, name, max, fd);
}

struct source_cache *session_source(struct session *is)
{
	return source_new(source_open, is);
}

const char *session_supported_range(void)
{
	return py_supported_range();
}
