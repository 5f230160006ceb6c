/*
 * threads.h - walk interpreters, their threads and each thread's frames
 * into a snapshot.
 */
#ifndef SNAKESCOPE_THREADS_H
#define SNAKESCOPE_THREADS_H

#include <stddef.h>
#include <sys/types.h>

#include "pystructs/pyproc.h"
#include "pystructs/snapshot.h"

/* Bounds on what the target may claim (CPYTHON_INTERNALS.md section 7). */
#define PY_MAX_INTERPS 64
#define PY_MAX_THREADS 4096
#define PY_MAX_FRAMES 4096

/*
 * Append every thread of every interpreter to s->threads (main thread of
 * the main interpreter first), with thread ids, native ids, threading
 * names, GIL holder and frames.  'tids' lists the process's TIDs (from
 * /proc), used to find native ids before 3.11; it may be NULL.
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

int py_read_threads(struct py_proc *p, const pid_t *tids, size_t ntids,
		    struct snapshot *s, struct err *e);

#endif
