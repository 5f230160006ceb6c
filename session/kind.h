/*
 * kind.h - inside session/: what a kind of target (a live process, a core
 * file) gives the session, as an ops table, and the session's own state.
 * Not for use outside session/.
 */
#ifndef SNAKESCOPE_SESSION_KIND_H
#define SNAKESCOPE_SESSION_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

#include "attach/pause.h"
#include "attach/proc.h"
#include "attach/unwind.h"
#include "common/err.h"
#include "memreader/maps.h"
#include "memreader/mem.h"
#include "model/native.h"
#include "model/snapshot.h"
#include "pystructs/asyncio.h"
#include "pystructs/pyproc.h"
#include "pystructs/sampler.h"
#include "pystructs/target.h"

struct core;
struct session;

struct session_kind {
	/* The target's threads now: a malloc'ed array of TIDs. */
	int (*tids)(struct session *s, pid_t **tids, size_t *n,
		    struct err *e);
	/* Each thread's OS state (os[i] for tids[i]), before a hold changes
	 * it. */
	void (*os_states)(struct session *s, const pid_t *tids, size_t n,
			  struct snap_os_thread *os);
	/* Hold the target still for a read: 0 or an error.  *stopped when
	 * it was stopped before we came (nothing moves, but its registers
	 * cannot be had).  Undone by release(), on every path. */
	int (*hold)(struct session *s, bool *stopped, struct err *e);
	void (*release)(struct session *s);
	/* The threads held, in order (valid until release()). */
	size_t (*held)(struct session *s, const pid_t **tids);
	/* A held thread's registers: false when they cannot be had. */
	bool (*regs)(struct session *s, pid_t tid,
		     struct user_regs_struct *r);
	/* Is the target stopped, read without holding it? */
	bool (*stopped)(const struct session *s);
	/* The OS's name of a thread (comm), false when unknown. */
	bool (*comm)(struct session *s, pid_t tid, char *buf, size_t size);
	/* Has the target gone (exited)?  A core never does. */
	bool (*gone)(const struct session *s);
	/* Its memory map now, into *m (released by the caller). */
	int (*maps)(struct session *s, struct maps *m, struct err *e);
	/* Open the very file mapped at 'first': 0 with *fd, or an error
	 * with a message in e (may be NULL). */
	int (*open_file)(struct session *s, const struct maps_entry *first,
			 int *fd, struct err *e);
	/* Open a source file the target names (absolute, or relative to
	 * its working directory), as it sees it: 0 with *fd, or an error. */
	int (*open_source)(struct session *s, const char *name, uint64_t max,
			   int *fd);
	/* Free what the kind keeps in s. */
	void (*close)(struct session *s);
};

struct session {
	const struct session_kind *kind;
	pid_t pid;
	char name[64];             /* "process PID" / "core 'FILE'", for
				      messages */
	struct maps maps;          /* as of opening */
	struct mem_reader *mem;
	char exe[4096];            /* as the map names it, or "" */
	int root;                  /* a directory descriptor of the target's
				      root (debug files), or -1 */
	struct py_runtime_info rt;
	struct py_proc py;         /* snapshots' reader and caches */
	bool py_ready;
	struct unwinder *unwinder; /* made by the first --native read */
	struct py_ns ns;           /* its own TIDs, when it has them */
	bool has_ns;
	/* Sampling (session_sampler_start()): a reader of its own, whose
	 * caches live across samples while snapshots drop theirs. */
	struct py_proc sampling;
	bool sampling_ready;
	struct py_sampler *sampler;
	struct py_task_tracer *tracer; /* session_sample_tasks()'s */
	bool tracer_tried;
	/* Thread by thread (nonstop.c): what a sample read that way
	 * keeps while its threads are held one after the other. */
	struct session_nonstop *nonstop;

	/* session_write_core() (snapshot.c): run while a snapshot's read
	 * still holds the target, after the read; its result is the read's
	 * when that succeeded.  held_ns: how long the last read held it. */
	int (*held_hook)(struct session *s, void *arg, struct err *e);
	void *held_arg;
	uint64_t held_ns;

	/* A live process (session/live.c). */
	struct proc_nsmap nsmap;
	struct proc_stat_files stat; /* the threads' /proc stat files */
	struct pause pz;           /* while held */
	pid_t *held_tids;          /* the last held() list */

	/* A core file (session/core.c). */
	struct core *core;
	struct session_core *corex;   /* core.c's own */
};

extern const struct session_kind session_live;
extern const struct session_kind session_core;

/* session.c: the unwinder's file opener (attach/unwind.h), over the
 * kind's open_file. */
int session_unwind_open(void *arg, const struct maps_entry *first, int *fd);

/* core.c: where a snapshot of a core came from (snap->core), and the
 * warnings about its files. */
void session_core_origin(struct session *s, struct snapshot *snap);

/* waits.c: while a live target is held, take what each blocked thread's
 * system call waits on (os[i] for tids[i], read before the hold); once
 * it is released, name it into the snapshot's threads (t->waits_on) and
 * free w. */
struct session_waits;
struct session_waits *session_waits_take(struct session *s,
					 const pid_t *tids,
					 const struct snap_os_thread *os,
					 size_t n);
void session_waits_name(struct session *s, struct session_waits *w,
			struct snapshot *snap);

/* procwait.c: the waits across processes that the snapshot's threads'
 * waits_on open (a child, a pipe's other end held by one process),
 * followed through the blocked peers' /proc files into snap->proc_waits
 * when they come back to a cycle.  Reads /proc only: call it once the
 * target runs again. */
void session_proc_waits(struct session *s, struct snapshot *snap);

/* session.c: start is->sampler (once; a later call changes nothing)
 * with so's keep, hold and done; the TIDs, namespace and reader are the
 * session's. */
int session_sampler_open(struct session *s, const struct py_sampler_opts *so,
			 struct err *e);

/* session.c: append us's frames to t's native stack (before the merge);
 * frames of interp_path (the interpreter's binary) are marked internal. */
void session_add_native_frames(struct snap_thread *t,
			       const struct unwind_stack *us,
			       const char *interp_path);

/* live.c: a read of thread tid without a stop that is one instant all
 * the same (attach/proc.h's proc_quiet_begin()): begin is true when tid
 * is off CPU now; read it, then end is true when it stayed off.  Nothing
 * else may read s's /proc files between the two. */
bool session_quiet_begin(struct session *s, pid_t tid, struct proc_quiet *q);
bool session_quiet_end(struct session *s, struct proc_quiet *q);

/* session.c: how the evaluation loop's frames are found in a native
 * stack: by name where it has one, else by the stack; by the stack alone
 * with SNAKESCOPE_EVAL=stack (as in a stripped interpreter: the live
 * tests use it). */
enum py_eval_find session_eval_find(void);

/* nonstop.c: free s->nonstop. */
void session_nonstop_free(struct session *s);

/* nonstop.c: a snapshot's threads read one at a time (session_opts.
 * nonstop): ro as for py_read_threads(), its hold hooks set here; with
 * native, each held thread's registers and stack copied before it is let
 * go and unwound after, then the OS threads that run no Python, the same
 * way.  s->stopped must be set (a stopped process is read as it is).
 * SS_EINVAL for a core; SS_EPERM when a thread cannot be stopped. */
struct py_read_opts;
int session_nonstop_threads(struct session *s, struct py_read_opts *ro,
			    bool native, struct snapshot *snap,
			    struct err *e);

/* session.c: what both kinds share once the memory and map are set:
 * find the runtime, set up the reader.  On failure s is left for
 * session_close(). */
int session_find_runtime(struct session *s, struct err *e);

#endif
