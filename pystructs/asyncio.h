/*
 * asyncio.h - read every asyncio task of the target: name, state, loop
 * and thread, coroutine stack, what it waits for, who awaits it, and the
 * await cycles among them.
 */
#ifndef SNAKESCOPE_ASYNCIO_H
#define SNAKESCOPE_ASYNCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pystructs/pyproc.h"
#include "model/snapshot.h"

/* Bounds on what the target may claim. */
#define PY_MAX_TASKS 200000
#define PY_MAX_AWAIT_DEPTH 256   /* coroutines in one await chain */

/* Words of the 3.14+ .AsyncioDebug section (struct _Py_AsyncioModuleDebugOffsets). */
#define ASYNCIO_DEBUG_WORDS 13

/*
 * Overlay the task and thread-state offsets from a 3.14+ target's
 * .AsyncioDebug section (words as read from memory).  Returns false, and
 * leaves L alone, when the words are implausible.
 */
bool py_asyncio_debug_apply(struct py_layout *L,
			    const uint64_t words[ASYNCIO_DEBUG_WORDS]);

/*
 * Append the tasks of every interpreter to s->tasks and their await
 * cycles to s->cycles.  Needs s->threads already read (for thread states,
 * running tasks' stacks).  A target without asyncio has no tasks.  Never
 * fails: what cannot be read is noted in s->tasks_note or a task's error
 * (a target that exits meanwhile is caught by the thread read around it).
 */
void py_read_tasks(struct py_proc *p, struct snapshot *s);


#endif
