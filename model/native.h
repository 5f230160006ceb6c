/*
 * native.h - place a thread's Python frames in its native stack.
 *
 * The native stack (unwound by attach/unwind.h) holds one frame per
 * activation of the interpreter's evaluation loop; each Python frame
 * records which activation runs it (struct snap_frame's activation).  The
 * merge puts the Python frames of the k-th activation, counted from the
 * innermost, just above the k-th evaluation-loop frame.  Pure: reads no
 * memory.
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

/* Is entry i of t's native stack shown?  Without 'all', the
 * interpreter's own frames are hidden: the evaluation loop's (their Python
 * frames stand in for them) and the rest (calls, builtins, the GIL). */
bool py_native_shown(const struct snap_thread *t, size_t i, bool all);

#endif
