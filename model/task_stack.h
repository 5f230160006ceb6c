/*
 * task_stack.h - a sampled stack continued by the asyncio tasks awaiting
 * the one it runs ('record --tasks'), so that a task's frames sit under
 * those of the tasks that wait for it, as in dump's task tree.
 *
 * Read from the root, a thread running task R, awaited by A1, itself
 * awaited by A0 (nobody awaits A0), becomes:
 *
 *   the thread's frames from the root down to the loop's step of R
 *       (<module>;run;...;_run_once;_run, and Task.__step where the
 *       version runs it in Python),
 *   <task A0>, A0's coroutine frames down to where it awaits,
 *   <task A1>, A1's coroutine frames down to where it awaits,
 *   <task R>, the thread's frames from R's coroutine up to the leaf.
 *
 * Pure: no memory is read here; pystructs/asyncio.h finds the chain.
 */
#ifndef SNAKESCOPE_MODEL_TASK_STACK_H
#define SNAKESCOPE_MODEL_TASK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/sample.h"

/* ---- what pystructs/asyncio.h finds, each sample ---------------- */

/* A coroutine frame of a task, named as the sampler names frames
 * (co_qualname on 3.11+, else co_name).  Strings here and in the links
 * are owned by whoever filled the chain (pystructs/asyncio.h's tracer:
 * until its next take). */
struct task_frame {
	char *function, *filename;
	int line, first_line;        /* -1 when unknown */
};

/* One task of a chain. */
struct task_link {
	char *name;
	struct task_frame *frames; /* its coroutine's await chain,
				      outermost first: an awaiter's down to
				      where it awaits; the running task's
				      only its own frame */
	size_t nframes;
};

/* The task thread_id runs now and who awaits it. */
struct task_chain {
	uint64_t thread_id;
	struct task_link *links;   /* outermost awaiter first, the
				      running task last */
	size_t nlinks;             /* >= 1 */
};

/* ---- the stack, continued ---------------------------------------- */

/* One task of a chain, as the caller keyed its frames. */
struct task_stack_link {
	struct sample_frame mark;          /* the "<task NAME>" frame */
	const struct sample_frame *frames; /* its coroutine's frames,
					      outermost first (not owned) */
	size_t nframes;
};

/*
 * Where task 'running' (the chain's last link, its frames[0] the task's
 * own coroutine) enters stack[0..n) (innermost first): the index of the
 * frame nearest the root with the same function, file and first line,
 * or -1 when there is none (the running link has no frame, or the stack
 * was cut short).
 */
long task_stack_entry(const struct sample_frame *stack, size_t n,
		      const struct task_stack_link *running);

/*
 * Append to out->frames stack[0..n) (innermost first, as a sample keeps
 * it) continued by links[0..nlinks) (outermost awaiter first, the running
 * task last), laid out as this header's comment says.  stack must not
 * point into out->frames.  Returns the number of frames appended: 0,
 * with nothing appended, when nlinks is 0 or task_stack_entry() finds no
 * entry (the caller keeps the stack as sampled).
 */
size_t task_stack_splice(struct sample *out, const struct sample_frame *stack,
			 size_t n, const struct task_stack_link *links,
			 size_t nlinks);

#endif
