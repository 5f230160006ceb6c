/*
 * inspect.h - take one snapshot of a process: check it, find its Python
 * runtime, pause it (unless asked not to), read all threads, resume it.
 * The glue between attach/ and pystructs/ that every command shares.
 */
#ifndef SNAKESCOPE_INSPECT_H
#define SNAKESCOPE_INSPECT_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "pystructs/snapshot.h"

struct inspect_opts {
	bool pause;        /* stop the target for the read (default) */
	unsigned hold_ms;  /* test hook: stay paused this long */
	bool tasks;        /* also read asyncio tasks */
	bool locks;        /* locks held and waited for, and the verdict */
	bool locals;       /* every frame's variables */
	size_t repr_width; /* their reprs' width (0: default) */
	bool native;       /* every thread's native stack, Python frames
			      merged in (needs pause) */
};

/* A process found to run Python, kept open for several reads. */
struct inspect_session;

/*
 * Check pid, find its Python runtime and layout.  Nothing is paused.
 * Returns 0 with *out (close with inspect_close()), or an SS_E* code with
 * a message in *e suitable for the user.
 */
int inspect_open(pid_t pid, struct inspect_session **out, struct err *e);
void inspect_close(struct inspect_session *is);

/* The runtime found, for the sampler (owned by the session). */
struct py_proc *inspect_py(struct inspect_session *is);

/* The target's PID namespace: its own TIDs when it is in a container. */
struct proc_nsmap *inspect_nsmap(struct inspect_session *is);

/* A snapshot as inspect_take() makes it, from an open session. */
int inspect_snapshot(struct inspect_session *is, const struct inspect_opts *o,
		     struct snapshot **out, struct err *e);

/*
 * Build a snapshot of pid into *out (free with snap_free()).  The target
 * is resumed before this returns, on every path.  Returns 0 or an SS_E*
 * code with a message in *e suitable for the user.
 */
int inspect_take(pid_t pid, const struct inspect_opts *o,
		 struct snapshot **out, struct err *e);

#endif
