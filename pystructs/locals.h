/*
 * locals.h - a frame's arguments and local variables (cell and free
 * variables included), named and repr'ed from memory.
 */
#ifndef SNAKESCOPE_LOCALS_H
#define SNAKESCOPE_LOCALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pystructs/code.h"
#include "pystructs/pyproc.h"
#include "model/snapshot.h"

/* At most this many variables of one frame are shown. */
#define PY_MAX_LOCALS 1024

/*
 * Append to f->locals the bound variables of the frame at 'frame' running
 * code object c: arguments first (in co_varnames order), then the others;
 * each with a repr of at most 'width' code points.  Best effort: what
 * cannot be read is left out.
 */
void py_frame_locals(struct py_proc *p, const struct py_code *c,
		     uint64_t frame, size_t width, struct snap_frame *f);

/* The str in the frame's first variable slot (importlib's
 * _find_and_load(name, ...)), malloc'ed, or NULL. */
char *py_frame_first_str(struct py_proc *p, uint64_t frame);

/* The values (object addresses, cells read through) of the frame's
 * bound variables, in slot order, at most max; returns how many. */
size_t py_frame_values(struct py_proc *p, uint64_t code, uint64_t frame,
		       uint64_t *vals, size_t max);

/* Where a named variable lives in a frame of some code object. */
struct py_var_slot {
	int index; /* slot in localsplus, -1: the code has no such name */
	bool cell; /* the slot holds a cell (read through it) */
};

/* The slots of the NULL-terminated 'names' in frames of 'code' (out[k]
 * for names[k]): look them up once per code object, then read values
 * with py_frame_slot_value(). */
void py_code_var_slots(struct py_proc *p, uint64_t code,
		       const char *const *names, struct py_var_slot *out);

/* The value in a frame's slot (0: unbound or no such slot). */
uint64_t py_frame_slot_value(struct py_proc *p, uint64_t frame,
			     const struct py_var_slot *slot);

#endif
