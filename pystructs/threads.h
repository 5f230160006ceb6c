/*
 * threads.h - walk interpreters, their threads and each thread's frames
 * into a snapshot.
 */
#ifndef SNAKESCOPE_THREADS_H
#define SNAKESCOPE_THREADS_H

#include <stddef.h>
#include <sys/types.h>

#include "pystructs/pyproc.h"
#include "model/snapshot.h"
#include "pystructs/target.h"


/* Bounds on what the target may claim (CPYTHON_INTERNALS.md section 7). */
#define PY_MAX_INTERPS 64
#define PY_MAX_THREADS 4096
#define PY_MAX_FRAMES 4096

/*
 * Append every thread of every interpreter to s->threads (main thread of
 * the main interpreter first), with thread ids, native ids, threading
 * names, GIL and hook state, frames (and what o asks for).  o->tids is
 * used to find native ids before 3.11 and to match o->os to threads.
 *
 * A thread whose stack cannot be read completely is kept with the frames
 * read so far and an error note.  A runtime with no interpreter (starting
 * up or finalizing) gives no threads and success.  Returns an error only
 * when no thread list can be read at all (SS_EREAD, SS_EEXITED, SS_ECORRUPT).
 */
/* The interpreters, newest first (the main one last): at most
 * PY_MAX_INTERPS addresses in interps[], their number in *n. */
int py_interp_list(struct py_proc *p, uint64_t *interps, size_t *n,
		   struct err *e);

/* What to read besides the stacks; a zeroed struct reads stacks only. */
struct py_read_opts {
	const pid_t *tids;   /* the process's TIDs (from /proc), or NULL */
	size_t ntids;
	const struct py_ns *ns; /* its own TIDs when it is in another PID
				   namespace (target.h), else NULL */
	const struct snap_os_thread *os; /* per TID, or NULL */
	bool locals;         /* every frame's variables */
	size_t repr_width;   /* their reprs' width (0: the default) */
	bool check_torn;     /* reading unpaused: re-read each stack and
				mark frames that changed meanwhile */
};

int py_read_threads(struct py_proc *p, const struct py_read_opts *o,
		    struct snapshot *s, struct err *e);

/* A thread's name as threading knows it. */
struct py_thread_name {
	uint64_t ident; /* threading.get_ident() */
	char *name;
};

/*
 * The names in threading._active of the interpreter at interp, best
 * effort (none when threading is not imported).  Stores a malloc'd array
 * in *out (free with py_thread_names_free) and returns its length.
 */
size_t py_thread_names_read(struct py_proc *p, uint64_t interp,
			    struct py_thread_name **out);
void py_thread_names_free(struct py_thread_name *v, size_t n);

/*
 * The native TID of the thread whose state was copied into ts (L.tstate
 * bytes), or -1.  3.11+ store it; before, it is read from glibc's struct
 * pthread, whose tid offset is found once by matching the TIDs in tids.
 * With tids, the result must be one of them; without (ntids 0), any
 * positive TID read at the offset found before is taken.
 */
int64_t py_thread_native_id(struct py_proc *p, const uint8_t *ts,
			    const pid_t *tids, size_t ntids);

#endif
