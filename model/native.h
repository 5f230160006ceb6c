/*
 * native.h - place a thread's Python frames in its native stack.
 *
 * The native stack (unwound by attach/unwind.h) holds one frame per
 * activation of the interpreter's evaluation loop; each Python frame
 * records which activation runs it (struct snap_frame's activation).  The
 * merge puts the Python frames of the k-th activation, counted from the
 * innermost, just above the k-th evaluation-loop frame.  Pure: reads no
 * memory.  When the evaluation loop has no name (a stripped
 * interpreter), its activations are found by where they keep their
 * entry frame (3.12+) or _PyCFrame (3.11) on the C stack.
 */
#ifndef SNAKESCOPE_MODEL_NATIVE_H
#define SNAKESCOPE_MODEL_NATIVE_H

#include <stdbool.h>

#include "model/snapshot.h"

/* The evaluation loop's function for Python major.minor. */
const char *py_eval_function(unsigned major, unsigned minor);

/* Is 'name' that function, or a compiler's copy of part of it
 * ("_PyEval_EvalFrameDefault.cold", ".lto_priv.0", ...)? */
bool py_is_eval_function(const char *eval, const char *name);

/*
 * On entry t->native holds only NATIVE entries, innermost first, with
 * 'internal' set for frames in the interpreter's own binary, and
 * 'unwind_error' (or NULL) says why unwinding stopped early.  Marks the
 * evaluation-loop frames, inserts the PYTHON entries, and notes Python
 * frames that could not be placed (they follow, after a MARK).
 */
void py_native_merge(unsigned major, unsigned minor, struct snap_thread *t,
		     const char *unwind_error);

/* How py_native_merge_by() finds the evaluation-loop frames. */
enum py_eval_find {
	PY_EVAL_FIND_ANY = 0, /* by name; without one, by the stack */
	PY_EVAL_FIND_STACK,   /* by the stack only (tests the fallback) */
};

/*
 * py_native_merge(), choosing how.  By the stack: the native frame whose
 * stack range (its stack pointer up to the next frame's) holds the local
 * an activation keeps on the C stack (t->eval_at, 3.11+) is that
 * activation; it needs no symbol, so it serves stripped interpreters.
 */
void py_native_merge_by(unsigned major, unsigned minor, struct snap_thread *t,
			const char *unwind_error, enum py_eval_find how);

/* Is entry i of t's native stack shown?  Without 'all', the
 * interpreter's own frames are hidden: the evaluation loop's (their Python
 * frames stand in for them) and the rest (calls, builtins, the GIL). */
bool py_native_shown(const struct snap_thread *t, size_t i, bool all);

/*
 * For a view that lists one stack (top's): t's frames become its whole
 * merged stack as shown (py_native_shown()), innermost first: its Python
 * frames where they run (with their locals), each C frame a frame of its
 * library (function its symbol or "??", filename the library or "??",
 * line -1), a mark "[note]" of "snakescope"; t's native entries are
 * dropped.  A thread without native entries is left as it is.
 */
void py_native_flatten(struct snap_thread *t, bool all);

#endif
