#include <config.h>

#include "session/session.h"
#include "attach/elfsym.h"
#include "attach/maps.h"
#include "attach/pause.h"
#include "attach/privs.h"
#include "attach/proc.h"
#include "attach/rootfs.h"
#include "attach/unwind.h"
#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "memreader/mem.h"
#include "pystructs/asyncio.h"
#include "pystructs/locate.h"
#include "pystructs/locks.h"
#include "model/native.h"
#include "pystructs/pyproc.h"
#include "pystructs/repr.h"
#include "pystructs/sampler.h"
#include "pystructs/target.h"
#include "pystructs/threads.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(SESSION_REPR_WIDTH_MIN == PY_REPR_WIDTH_MIN &&
	       SESSION_REPR_WIDTH_MAX == PY_REPR_WIDTH_MAX,
	       "session.h's repr bounds are pystructs/repr.h's");

/* Unpaused reads can tear (a frame popped mid-walk): retry a few times. */
#define UNPAUSED_TRIES 3

/* A read that failed because the process went away says so. */
static int check_gone(pid_t pid, int rc, struct err *e)
{
	if (rc == SS_EEXITED || rc == SS_ENOPROC)
		return rc;
	if (proc_gone(pid))
		return err_set(e, SS_EEXITED, "process %d exited while being "
			       "read", (int)pid);
	return rc;
}

static void fill_comm_names(pid_t pid, struct snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		struct snap_thread *t = &s->threads[i];
		char comm[64];

		if (!t->name && t->native_id > 0 &&
		    proc_comm(pid, (pid_t)t->native_id, comm, sizeof(comm)))
			t->name = xstrdup(comm);
	}
}

/* The OS state of each thread, read before the pause changes it. */
static struct snap_os_thread *read_os_states(pid_t pid, const pid_t *tids,
					     size_t n)
{
	struct snap_os_thread *os = xcalloc(n + 1, sizeof(*os));

	for (size_t i = 0; i < n; i++) {
		os[i].state = proc_task_state(pid, tids[i]);
		os[i].syscall_unknown =
			!proc_task_syscall(pid, tids[i], os[i].syscall,
					   sizeof(os[i].syscall), &os[i].arg0) &&
			(os[i].state == 'S' || os[i].state == 'D');
	}
	return os;
}

/* A blocked thread whose system call /proc would not tell (its syscall
 * file is root's, mode 0400): the paused thread's registers tell it. */
static void syscalls_from_registers(const struct pause *pz, const pid_t *tids,
				    struct snap_os_thread *os, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long nr;

		if (os[i].syscall_unknown &&
		    pause_task_syscall(pz, tids[i], &nr, &os[i].arg0)) {
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

struct session {
	pid_t pid;
	struct maps maps;
	struct mem_reader *mem;
	char exe[4096];            /* as the map names it, or "" */
	char name[32];             /* "process PID", for messages */
	struct py_runtime_info rt;
	struct py_proc py;         /* snapshots' reader and caches */
	bool py_ready;
	struct unwinder *unwinder; /* made by the first --native read */
	struct proc_nsmap nsmap;
	struct py_ns ns;           /* nsmap for pystructs, when in use */
	/* Sampling (session_sampler_start()): a reader of its own, whose
	 * caches live across samples while snapshots drop theirs. */
	struct py_proc sampling;
	bool sampling_ready;
	struct py_sampler *sampler;
	struct proc_stat_files stat; /* the threads' /proc stat files */
};

static void add_native_frames(struct snap_thread *t,
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
		n->internal = f->path && !strcmp(f->path, interp_path);
	}
}

/* The paused target's native stacks: merged into its Python threads, and
 * a thread of its own for each OS thread that has no Python state. */
static void read_native(struct session *is, const struct pause *pz,
			const pid_t *tids, const struct snap_os_thread *os,
			size_t ntids, struct snapshot *s)
{
	size_t npy = s->nthreads;
	struct err e;

	if (!is->unwinder)
		is->unwinder = unwinder_new(is->pid, is->mem);
	err_clear(&e);
	if (unwind_begin(is->unwinder, &e)) {
		for (size_t j = 0; j < npy; j++)
			py_native_merge(is->py.L.major, is->py.L.minor,
					&s->threads[j], e.msg[0] ? e.msg :
					err_describe(e.code));
		return;
	}
	for (size_t i = 0; i < pz->n; i++) {
		pid_t tid = pz->task[i].tid;
		struct unwind_stack us = { 0 };
		struct snap_thread *t = NULL;

		for (size_t j = 0; j < npy && !t; j++)
			if (s->threads[j].native_id == tid)
				t = &s->threads[j];
		if (!t) {
			t = snap_add_thread(s);
			t->native_only = true;
			t->native_id = tid;
			t->ns_native_id = proc_nsmap_ns(&is->nsmap, tid);
			t->interp_id = -1;
			for (size_t j = 0; j < ntids; j++)
				if (tids[j] == tid)
					t->os = os[j];
		}
		err_clear(&e);
		if (unwind_thread(is->unwinder, tid, &us, &e) == 0)
			add_native_frames(t, &us, is->rt.binary);
		py_native_merge(is->py.L.major, is->py.L.minor, t,
				us.error ? us.error : e.code ? e.msg : NULL);
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
	pid_t pid = is->pid;
	struct py_proc *py = &is->py;
	struct py_read_opts ro = { 0 };
	struct snap_os_thread *os = NULL;
	struct pause pz;
	pid_t *tids = NULL;
	size_t ntids = 0;
	uint64_t t_pause, t_paused = 0, t_unwind, t_unwound;
	int rc;

	rc = proc_tasks(pid, &tids, &ntids, e);
	if (rc)
		return rc;
	os = read_os_states(pid, tids, ntids);
	t_pause = clock_mono_ns();
	if (o->pause) {
		rc = pause_target(pid, &pz, e);
		if (rc) {
			free(os);
			free(tids);
			return rc;
		}
		s->paused = true;
		s->stopped = pz.already_stopped;
		syscalls_from_registers(&pz, tids, os, ntids);
		if (o->hold_ms)
			clock_sleep_ms(o->hold_ms);
		t_paused = clock_mono_ns();
		/* Nothing changes while paused: cache whole pages. */
		mem_cache_enable(py->mem, true);
	}
	if (!o->pause) {
		char st = proc_task_state(pid, pid);

		s->stopped = st == 'T' || st == 't';
	}
	ro.tids = tids;
	ro.ntids = ntids;
	ro.ns = is->nsmap.ns_pid ? &is->ns : NULL;
	ro.os = os;
	ro.locals = o->locals;
	ro.repr_width = o->repr_width;
	ro.check_torn = !o->pause;
	s->warning = syscall_gap(pid, os, ntids);
	rc = py_read_threads(py, &ro, s, e);
	t_unwind = clock_mono_ns();
	if (!rc && o->native && o->pause && !pz.already_stopped)
		read_native(is, &pz, tids, os, ntids, s);
	else if (!rc && o->native)
		for (size_t j = 0; j < s->nthreads; j++)
			py_native_merge(py->L.major, py->L.minor, &s->threads[j],
					"no native stack: the target was "
					"stopped (SIGSTOP) before snakescope "
					"came, and unwinding needs it running");
	t_unwound = clock_mono_ns();
	if (!rc && o->tasks)
		py_read_tasks(py, s);
	if (!rc && o->locks) {
		/* Best effort over data that is not expected to move (blocked
		 * threads): whole pages, also when not paused. */
		mem_cache_enable(py->mem, true);
		py_read_locks(py, s);
		mem_cache_enable(py->mem, o->pause);
	}
	if (o->pause) {
		uint64_t t_resume = clock_mono_ns();
		size_t nthreads = pz.n;

		mem_cache_enable(py->mem, false);
		pause_resume(&pz);
		if (getenv("SNAKESCOPE_TIMING"))
			fprintf(stderr, "snakescope timing: threads %zu, pause %.1f "
				"us, resume %.1f us, native unwind %.1f us, "
				"paused for %.1f us\n", nthreads,
				(t_paused - t_pause) / 1e3,
				(clock_mono_ns() - t_resume) / 1e3,
				(t_unwound - t_unwind) / 1e3,
				(clock_mono_ns() - t_pause) / 1e3);
	}
	free(os);
	free(tids);
	return rc;
}

/* ---- the live process's ELF files, for pystructs (target.h) ---------- */

struct live_elf {
	struct elf_file *ef;
	uint64_t bias;
};

static struct py_elf *live_open(void *ctx, const struct maps_entry *first,
				struct err *e)
{
	struct session *is = ctx;
	struct live_elf *f;
	struct elf_file *ef;
	uint64_t bias;
	int fd;

	if (rootfs_open_mapped(is->pid, first, ROOTFS_MAX_ELF, &fd, e))
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

static void live_close(void *ctx, struct py_elf *pf)
{
	struct live_elf *f = (struct live_elf *)pf;

	(void)ctx;
	if (f) {
		elfsym_free(f->ef);
		free(f);
	}
}

static bool live_symbol(void *ctx, struct py_elf *pf, const char *name,
			uint64_t *addr, uint64_t *size)
{
	struct live_elf *f = (struct live_elf *)pf;

	(void)ctx;
	if (!elfsym_lookup(f->ef, name, addr, size))
		return false;
	*addr += f->bias;
	return true;
}

static bool live_section(void *ctx, struct py_elf *pf, const char *name,
			 uint64_t *addr, uint64_t *size)
{
	struct live_elf *f = (struct live_elf *)pf;

	(void)ctx;
	if (!elfsym_section(f->ef, name, addr, size))
		return false;
	*addr += f->bias;
	return true;
}

static const struct py_target_ops live_ops = {
	.open = live_open,
	.close = live_close,
	.symbol = live_symbol,
	.section = live_section,
};

/* The PID namespace, for pystructs (target.h). */
static size_t ns_own_tids(void *ctx, const pid_t **tids)
{
	struct proc_nsmap *m = ctx;

	*tids = m->ns;
	return m->n;
}

static int64_t ns_host_tid(void *ctx, int64_t own)
{
	return proc_nsmap_host(ctx, own);
}

/* ---- open, close ----------------------------------------------------- */

void session_close(struct session *is)
{
	if (!is)
		return;
	py_sampler_free(is->sampler);
	proc_stat_files_release(&is->stat);
	if (is->sampling_ready)
		py_proc_release(&is->sampling);
	if (is->py_ready)
		py_proc_release(&is->py);
	unwinder_free(is->unwinder);
	proc_nsmap_release(&is->nsmap);
	mem_reader_free(is->mem);
	maps_release(&is->maps);
	free(is);
}

/*
 * SS_EPERM when the memory may not be read, 0 otherwise (other failures
 * are left to the reads that need it).  Linux 6.x lets root without
 * CAP_SYS_PTRACE read another user's /proc/PID/maps, not its memory nor
 * its /proc/PID/exe: without this, the refusal would read as "not a Python
 * process".
 */
static int probe_memory(struct session *is, struct err *e)
{
	unsigned char byte;
	struct err pe;

	for (size_t i = 0; i < is->maps.n; i++) {
		if (!is->maps.e[i].r)
			continue;
		err_clear(&pe);
		if (mem_read(is->mem, is->maps.e[i].lo, &byte, 1, &pe) ==
		    SS_EPERM)
			return err_set(e, SS_EPERM, "%s", pe.msg);
		return 0;
	}
	return 0;
}

static void read_exe(struct session *is)
{
	size_t n;

	if (!proc_exe(is->pid, is->exe, sizeof(is->exe)))
		is->exe[0] = '\0';
	/* " (deleted)" is not part of the path in the map. */
	n = strlen(is->exe);
	if (n > 10 && !strcmp(is->exe + n - 10, " (deleted)"))
		is->exe[n - 10] = '\0';
}

int session_open(pid_t pid, struct session **out, struct err *e)
{
	struct session *is = xcalloc(1, sizeof(*is));
	struct py_target t;
	struct proc_info info;
	int rc;

	*out = NULL;
	is->pid = pid;
	proc_stat_files_init(&is->stat, pid);
	snprintf(is->name, sizeof(is->name), "process %d", (int)pid);
	rc = proc_check(pid, &info, e);
	if (!rc)
		rc = maps_load(pid, &is->maps, e);
	if (!rc) {
		is->mem = mem_process_new(pid);
		rc = probe_memory(is, e);
	}
	if (rc == SS_EPERM)
		err_set(e, SS_EPERM, "cannot inspect process %d: permission "
			"denied; %s", (int)pid, proc_permission_hint(pid));
	if (rc)
		goto fail;
	proc_nsmap_init(&is->nsmap, pid);
	is->ns.own_tids = ns_own_tids;
	is->ns.host_tid = ns_host_tid;
	is->ns.ctx = &is->nsmap;
	read_exe(is);
	session_target(is, &t);
	rc = py_locate(&t, &is->rt, e);
	if (!rc)
		rc = py_proc_init(&is->py, is->mem, &is->rt, e);
	if (rc)
		goto fail;
	is->py_ready = true;
	if (is->py.L.asyncio.ts_tasks_head != LAYOUT_NONE) {
		uint64_t words[ASYNCIO_DEBUG_WORDS];

		if (py_locate_asyncio_debug(&t, &is->rt, words,
					    ASYNCIO_DEBUG_WORDS))
			py_asyncio_debug_apply(&is->py.L, words);
	}
	*out = is;
	return 0;
fail:
	session_close(is);
	return rc;
}

void session_target(struct session *is, struct py_target *t)
{
	t->name = is->name;
	t->mem = is->mem;
	t->maps = &is->maps;
	t->executable = is->exe;
	t->ops = &live_ops;
	t->ctx = is;
}

pid_t session_pid(const struct session *is)
{
	return is->pid;
}

bool session_gone(const struct session *is)
{
	return proc_gone(is->pid);
}

const char *session_version(const struct session *is)
{
	return is->py.version;
}

/* ---- snapshots ------------------------------------------------------- */

int session_snapshot(struct session *is, const struct session_opts *o,
		     struct snapshot **out, struct err *e)
{
	struct snapshot *s = NULL;
	pid_t pid = is->pid;
	char exe[4096];
	int rc = 0;

	*out = NULL;
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
		return check_gone(pid, rc, e);
	}
	fill_comm_names(pid, s);
	s->pid = pid;
	s->ns_pid = is->nsmap.ns_pid;
	s->version = xstrdup(is->py.version);
	s->executable = xstrdup(proc_exe(pid, exe, sizeof(exe)) ? exe : "?");
	s->libpython = is->rt.in_libpython ? xstrdup(is->rt.binary) : NULL;
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
	*out = s;
	return 0;
}

int session_take(pid_t pid, const struct session_opts *o,
		 struct snapshot **out, struct err *e)
{
	struct session *is;
	int rc;

	*out = NULL;
	rc = session_open(pid, &is, e);
	if (rc)
		return rc;
	rc = session_snapshot(is, o, out, e);
	session_close(is);
	return rc;
}

int session_paused(struct session *is,
		   int (*fn)(void *arg, struct session *s, struct err *e),
		   void *arg, struct err *e)
{
	struct pause pz;
	int rc = pause_target(is->pid, &pz, e);

	if (rc)
		return rc;
	rc = fn(arg, is, e);
	pause_resume(&pz);
	return rc;
}

const struct py_runtime_info *session_runtime(const struct session *is)
{
	return &is->rt;
}

/* ---- samples --------------------------------------------------------- */

int session_sampler_start(struct session *is, py_sample_keep_fn keep,
			  void *keep_arg, struct err *e)
{
	struct py_sampler_opts so = { 0 };
	pid_t *tids = NULL;
	size_t ntids = 0;
	int rc;

	if (is->sampler)
		return 0;
	rc = py_proc_init(&is->sampling, is->mem, &is->rt, e);
	if (rc)
		return rc;
	is->sampling_ready = true;
	/* The layout the snapshot reader settled (3.14+ asyncio words). */
	is->sampling.L = is->py.L;
	proc_tasks(is->pid, &tids, &ntids, NULL);
	so.keep = keep;
	so.keep_arg = keep_arg;
	so.tids = tids;
	so.ntids = ntids;
	so.ns = is->nsmap.ns_pid ? &is->ns : NULL;
	is->sampler = py_sampler_new(&is->sampling, &so);
	free(tids);
	return 0;
}

int session_sample(struct session *is, bool pause, uint64_t now_ns,
		   struct py_sample *out, struct err *e)
{
	struct pause pz;
	int rc;

	if (pause) {
		rc = pause_target(is->pid, &pz, e);
		if (rc)
			return rc;
	}
	rc = py_sampler_take(is->sampler, now_ns, out, e);
	if (pause)
		pause_resume(&pz);
	return rc;
}

/* ---- the OS's view of the threads ------------------------------------ */

char session_thread_state(struct session *is, pid_t tid)
{
	return proc_stat_files_state(&is->stat, tid);
}

bool session_thread_cpu(struct session *is, pid_t tid, char *state,
			uint64_t *cpu_ticks)
{
	struct proc_task_stat st;

	if (!proc_stat_files_read(&is->stat, tid, &st))
		return false;
	*state = st.state;
	*cpu_ticks = st.cpu_ticks;
	return true;
}

bool session_stopped(const struct session *is)
{
	char st = proc_task_state(is->pid, is->pid);

	return st == 'T' || st == 't';
}

size_t session_children(pid_t pid, pid_t **out)
{
	return proc_children(pid, out);
}

/* ---- the whole program ------------------------------------------------ */

int session_init(struct err *e)
{
	int rc = privs_check(e);

	if (!rc)
		session_guard_install();
	return rc;
}

const char *session_supported_range(void)
{
	return py_supported_range();
}

void session_drop_privileges(void)
{
	privs_drop();
}

void session_guard_install(void)
{
	pause_guard_install();
	xalloc_set_fatal_hook(pause_emergency_resume);
}

void session_emergency_resume(void)
{
	pause_emergency_resume();
}
