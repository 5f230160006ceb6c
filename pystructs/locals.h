/*
 * locals.h - a frame's arguments and local variables (cell and free
 * variables included), named and repr'ed from memory.
 */
#ifndef SNAKESCOPE_LOCALS_H
#define SNAKESCOPE_LOCALS_H

#include <stddef.h>
#include <stdint.h>

#include "pystructs/code.h"
#include "pystructs/pyproc.h"
#include "pystructs/snapshot.h"

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

#endif
