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
#include "model/sample.h"
#include "model/task_stack.h"
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

/* ---- record --tasks: the running tasks, sample after sample ---------- */

#define PY_MAX_TASK_CHAIN 32     /* tasks in one awaiter chain */
#define PY_MAX_TASK_THREADS 64   /* threads running a task at once */

struct py_task_tracer;

/* A tracer over p (not owned; it must outlive the tracer).  NULL when
 * the target's Python has no task layout (before 3.8). */
struct py_task_tracer *py_task_tracer_new(struct py_proc *p);
void py_task_tracer_free(struct py_task_tracer *tr);

/*
 * Find, for the threads of sample s, the task each one's event loop runs
 * now (3.14+: the thread state's running task; before: asyncio.tasks.
 * _current_tasks, each loop's thread by its _thread_id) and the chain of
 * tasks awaiting it, each awaiter the first one dump lists (pystructs/
 * asyncio.c's awaiters_of), until a task nobody awaits, a task met before
 * or PY_MAX_TASK_CHAIN.  Reads only those tasks; the module's dict, the
 * loops' threads and the types are looked up again once now_ns moves a
 * second on (a tenth of one while asyncio is not found).  Call it
 * right after the sample, with the target as it was (paused or not).
 * The chains (*out, *n; owned by tr) last until the next call.  Never
 * fails: a task that cannot be read ends its chain, a thread whose task
 * cannot be read has no chain.
 */
void py_task_tracer_take(struct py_task_tracer *tr, const struct sample *s,
			 uint64_t now_ns, const struct task_chain **out,
			 size_t *n);


#endif
