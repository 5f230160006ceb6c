/*
 * session.h - the one place that puts the layers together for a command.
 *
 * A session opens a target (today a live process: /proc, ptrace and its
 * ELF files from attach/; a core file is the next kind), finds its Python
 * runtime through pystructs/ (handing it the target's memory, map and ELF
 * symbols as target.h callbacks), and then reads it as often as the
 * command wants: a snapshot (model: pystructs/snapshot.h) or a sample
 * (pystructs/sampler.h).  Pausing is done here and only here: a read that
 * pauses resumes the target before it returns, on every path, and
 * session_guard_install() makes fatal signals resume it too.  The target's
 * PID namespace is also handled here: threads carry our TIDs, with the
 * target's own beside them.
 *
 * cli/ and tui/ call this and read the model; they never pause a process
 * themselves.
 */
#ifndef SNAKESCOPE_SESSION_H
#define SNAKESCOPE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "model/sample.h"
#include "model/snapshot.h"
#include "session/source.h"

struct py_target;
struct py_runtime_info;
struct task_chain;

/* Is this thread wanted in a sample?  Asked before its stack is read
 * (see session_sampler_start()). */
typedef bool (*session_keep_fn)(void *arg, const struct sample_thread *t);

/* The bounds of session_opts.repr_width (pystructs/repr.h). */
#define SESSION_REPR_WIDTH_MIN 16
#define SESSION_REPR_WIDTH_MAX 1000000

/* What a snapshot reads, and how. */
struct session_opts {
	bool pause;        /* stop the target for the read (default) */
	unsigned hold_ms;  /* test hook: stay paused this long */
	bool tasks;        /* also read asyncio tasks */
	bool locks;        /* locks held and waited for, and the verdict */
	bool locals;       /* every frame's variables */
	size_t repr_width; /* their reprs' width (0: default) */
	bool native;       /* every thread's native stack, Python frames
			      merged in (needs pause) */
};

/* A process found to run Python, kept open for many reads. */
struct session;

/*
 * Check pid, find its Python runtime and layout.  Nothing is paused.
 * Returns 0 with *out (close with session_close()), or an SS_E* code with
 * a message in *e for the user: SS_ENOPROC, SS_EZOMBIE, SS_EPERM (with
 * what is missing and how to get it), SS_ENOTPY, SS_EUNSUPPORTED,
 * SS_EBADBUILD.
 */
int session_open(pid_t pid, struct session **out, struct err *e);

/* Where a core file's mapped files are found (see session_open_core()). */
struct session_core_opts {
	const char *exe;      /* the executable, when its path in the core
				 does not lead to it (NULL) */
	const char *sysroot;  /* a copy of the root of the machine the core
				 came from: every path is looked for under it
				 (NULL: this machine's) */
	const char *const *lib_paths; /* directories searched by build-id */
	size_t nlib_paths;
};

/*
 * Open a core file (gcore, the kernel's, systemd-coredump's; plain or
 * compressed with zstd, lz4, xz, gzip) as a target: the same reads as for
 * a live process, from its memory and the files it had mapped, found as
 * o says and kept only when their build-id is the one the core holds (a
 * mismatch is said in the snapshot's warning).  Errors as
 * session_open(), and SS_EIO for a core that cannot be read.
 */
int session_open_core(const char *path, const struct session_core_opts *o,
		      struct session **out, struct err *e);

/* Close s and free it (NULL is fine).  Nothing is left paused. */
void session_close(struct session *s);

pid_t session_pid(const struct session *s);

/* Has the target exited (or become a zombie)?  Not merely unreadable. */
bool session_gone(const struct session *s);

/* "3.12.1": the target's Python version (owned by s). */
const char *session_version(const struct session *s);

/* The target as pystructs sees it (target.h), valid while s is open. */
void session_target(struct session *s, struct py_target *t);

/*
 * Read a snapshot of every thread (and what o asks for) into *out (free
 * with snap_free()).  Paused when o->pause, and resumed before this
 * returns; read without pausing, a read that tears is tried again.
 * Returns 0, or an SS_E* code with a message in *e (SS_EEXITED when the
 * target went away).
 */
int session_snapshot(struct session *s, const struct session_opts *o,
		     struct snapshot **out, struct err *e);

/*
 * Run fn(arg, s, e) with the target paused, and resume it before this
 * returns, whatever fn returns: for tools that read the target their own
 * way (fuzz/capture.c).  Returns the pause's error, or fn's result.
 */
int session_paused(struct session *s,
		   int (*fn)(void *arg, struct session *s, struct err *e),
		   void *arg, struct err *e);

/* What session_write_core() did. */
struct session_core_stats {
	double pause_ms;   /* how long the target was held */
	uint64_t size;     /* bytes written */
	size_t nthreads;
	size_t nsegments;  /* memory ranges kept (PT_LOAD) */
};

/* session_write_core()'s default bound on the file's size. */
#define SESSION_CORE_MAX_SIZE (UINT64_C(1) << 30)

/*
 * Pause the live process of s, read a snapshot of it (tasks, locks,
 * locals; and with native its native stacks) while recording the memory
 * read, and write an ELF core file at path (atomically: a temporary file
 * renamed) holding only that memory, the mapped files' first pages, the
 * threads' registers and, with native, each thread's stack (8 MiB at
 * most): `snakescope dump --core` reads it back as a dump of that instant
 * would have read the process, and gdb loads it.  The target is resumed
 * before the file is written.  Returns 0 with *st filled, or an SS_E*
 * code with a message in *e: SS_EINVAL (s is a core), SS_ELIMIT (the
 * core would exceed max_size bytes), SS_EIO (cannot write), or a
 * snapshot's error.
 */
int session_write_core(struct session *s, const char *path, bool native,
		       uint64_t max_size, struct session_core_stats *st,
		       struct err *e);

/* Where the runtime is (owned by s). */
const struct py_runtime_info *session_runtime(const struct session *s);

/*
 * Get ready to sample s: a sampler (pystructs/sampler.h) over a reader of
 * its own, whose caches live from sample to sample.  keep (NULL: every
 * thread) picks the threads whose stacks are read.  Once per session;
 * returns 0 or an error.
 */
int session_sampler_start(struct session *s, session_keep_fn keep,
			  void *keep_arg, struct err *e);

/*
 * One sample into *out (as pystructs/sampler.h takes it), the target paused for it
 * when 'pause' (and resumed before this returns).  now_ns: a monotonic
 * clock reading.  Returns 0 or an SS_E* code (SS_EEXITED, SS_EPERM ...).
 */
int session_sample(struct session *s, bool pause, uint64_t now_ns,
		   struct sample *out, struct err *e);

/*
 * The same, and then (still paused, with 'pause') the asyncio task each
 * sampled thread's loop runs and the tasks awaiting it (pystructs/
 * asyncio.h's py_task_tracer_take()): *chains, *nchains (owned by s,
 * until its next sample; none before 3.8 or without asyncio).
 */
int session_sample_tasks(struct session *s, bool pause, uint64_t now_ns,
			 struct sample *out, const struct task_chain **chains,
			 size_t *nchains, struct err *e);

/*
 * Sampling thread by thread, instead of session_sampler_start(): each
 * wanted thread (keep, as there) is stopped alone, its Python stack read
 * (and with native, its registers taken and its native stack unwound),
 * and let go before the next; the process as a whole never stops, and a
 * thread that is not wanted is never touched.  Each thread's stack is of
 * one instant, its own; the threads' instants differ.  A live process
 * only (SS_EINVAL for a core, or when sampling started already).  Once
 * per session; 0 or an error.
 */
int session_nonstop_start(struct session *s, session_keep_fn keep,
			  void *keep_arg, bool native, struct err *e);

/*
 * One sample that way into *out (as session_sample(), whose 'pause' it
 * stands for); with native, also *snap (free with snap_free()): the
 * wanted threads, and the wanted OS threads that run no Python
 * (native_only), each with its native stack merged with its Python
 * frames (has_native; frames carry function, file and line only) and
 * its /proc state before it was stopped (os.state).  Every thread
 * stopped is let go before this returns, and by the fatal-signal guard.
 * Returns 0, or an SS_E* code (SS_EEXITED; SS_EPERM when a thread could
 * not be stopped: another tracer).
 */
int session_nonstop_sample(struct session *s, uint64_t now_ns,
			   struct sample *out, struct snapshot **snap,
			   struct err *e);

/* The source files the target names, read as it sees them (source.h),
 * for as long as s is open: free with source_free() before closing s. */
struct source_cache *session_source(struct session *s);

/* ---- the OS's view of the target's threads (no pause, no memory) ----- */

/* The state letter of thread tid (R, S, D, T, ...), 0 when it is gone.
 * Cheap: its /proc stat file stays open between calls. */
char session_thread_state(struct session *s, pid_t tid);

/* Its state and the CPU time it has used (user + system, in clock ticks:
 * sysconf(_SC_CLK_TCK) a second).  False when it is gone. */
bool session_thread_cpu(struct session *s, pid_t tid, char *state,
			uint64_t *cpu_ticks);

/* Is the process stopped (SIGSTOP, job control, a debugger)? */
bool session_stopped(const struct session *s);

/* The children of process pid, into a malloc'ed array (caller frees);
 * returns how many (0 when none or unreadable). */
size_t session_children(pid_t pid, pid_t **out);

/* The command line of process pid, its arguments joined by spaces, at
 * most size-1 bytes (the target's text: untrusted, unescaped); false when
 * it cannot be read (then buf is ""). */
bool session_cmdline(pid_t pid, char *buf, size_t size);

/* ---- the program ------------------------------------------------------ */

/*
 * Once, at start: refuse to run set-user-ID (SS_EPERM: that would let any
 * user read any process), and make fatal signals and allocation failures
 * resume a paused target before the program dies.
 */
int session_init(struct err *e);

/* "2.7, 3.6-3.15": the Python versions this build reads. */
const char *session_supported_range(void);

/* Let go of every capability the reads do not need (attach/privs.h);
 * 'run' calls it once its program has started with ours. */
void session_drop_privileges(void);

/* Once, at start: fatal signals and allocation failures resume a paused
 * target before the program dies. */
void session_guard_install(void);

/* Resume whatever is paused now (async-signal-safe): for a program's own
 * emergency exits (the TUI restoring the terminal). */
void session_emergency_resume(void);

#endif
