/*
 * with_stack.h - what a frame's value stack says about the locks it holds
 * and the one it is acquiring.
 *
 * A `with X:` / `async with X:` statement keeps X's bound __exit__ (3.14+:
 * the pair __exit__, X) on the frame's value stack for as long as the body
 * runs, below every temporary of the statement being executed.  Which part
 * of the stack is "below" comes from the code itself: the block stack
 * (<=3.10: SETUP_FINALLY blocks - 2.7: SETUP_WITH ones - whose handler is
 * a SETUP_WITH's target) or
 * the exception table (3.11+: the entry covering the current instruction
 * says how deep the stack stays; a with's cleanup handler starts
 * PUSH_EXC_INFO, WITH_EXCEPT_START).  Above that live part are the operands
 * of the current instruction - for a thread blocked in `lock.acquire()` or
 * in `with lock:`, the lock itself.
 */
#ifndef SNAKESCOPE_WITH_STACK_H
#define SNAKESCOPE_WITH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pystructs/pyproc.h"

#define PY_WITH_MAX 32     /* with statements nested in one frame */
#define PY_PENDING_MAX 16  /* operands looked at above the live stack */

struct py_with {
	uint64_t object; /* the context manager (a method's self unwrapped) */
	int line;        /* the with statement's line, -1 when unknown */
};

struct py_frame_stack {
	struct py_with with[PY_WITH_MAX]; /* outermost first */
	size_t nwith;
	/* Objects above the live part, top of stack first, methods'
	 * self unwrapped.  Slots of a running frame above its real top may
	 * hold stale pointers: callers must confirm what they find. */
	uint64_t pending[PY_PENDING_MAX];
	size_t npending;
};

/* What each code object says (its exception table or bytecode, whether
 * it has a with statement), kept across frames of one snapshot (code
 * addresses are reused later). */
struct py_stack_cache;
struct py_stack_cache *py_stack_cache_new(void);
void py_stack_cache_free(struct py_stack_cache *cache);

/*
 * Scan the frame at 'frame' (a PyFrameObject <=3.10, an interpreter frame
 * 3.11+) running the code object at 'code'.  'pending': also collect the
 * operands above the live stack (else a frame of code without a with
 * statement costs no read at all).  cache may be NULL.  Returns 0 (out
 * may be empty) or a read error.
 */
int py_frame_stack_scan(struct py_proc *p, struct py_stack_cache *cache,
			uint64_t frame, uint64_t code, bool pending,
			struct py_frame_stack *out, struct err *e);

#endif
