/*
 * code.h - decoded code objects, cached by address.
 *
 * A code object is decoded once per snapshot (name, qualified name, file,
 * first line, line table).  The cache is keyed by remote address; call
 * py_proc_forget() between samples, since addresses are reused.
 */
#ifndef SNAKESCOPE_CODE_H
#define SNAKESCOPE_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pystructs/linetable.h"
#include "pystructs/pyproc.h"
#include "model/snapshot.h"

/* Function and file names are cut (with "...") past this many
 * characters. */
#define PY_CODE_NAME_MAX 4096

struct py_code {
	uint64_t addr;
	char *name;      /* co_qualname on 3.11+, else co_name */
	char *filename;
	int firstlineno;
	uint8_t *linetable;
	size_t linetable_len;
	size_t ncode_units; /* 3.11+: Py_SIZE(code); 0 before */
	bool shim;          /* CPython's own trampoline (3.13+
			       _Py_InitCleanup, named "__init__" in file
			       "__init__"): tracebacks never show it */
};

/*
 * Decode (or fetch from the cache) the code object at addr.  The returned
 * object belongs to the cache; valid until py_proc_forget() or release.
 * NULL on failure with *e set.
 */
const struct py_code *py_code_get(struct py_proc *p, uint64_t addr,
				  struct err *e);

/* Drop the decoded code object at addr from the cache (it changed);
 * pointers to it become invalid. */
void py_code_forget(struct py_proc *p, uint64_t addr);

/* Line (and 3.11+ columns) of the instruction at 'lasti': a byte offset
 * up to 3.10 (f_lasti * layout frame.lasti_scale), a code-unit index from
 * 3.11.  Negative means "not started" and gives the first line. */
void py_code_location(const struct py_proc *p, const struct py_code *c,
		      int lasti, struct py_location *loc);

/* Location index (for py_code_location) of a frame whose header was
 * copied into fr (at least frame.localsplus bytes), running 'code'. */
int py_frame_lasti(const struct py_proc *p, const uint8_t *fr, uint64_t code,
		   const struct py_code *c);

/* The address just past the top of a frame's value stack, as the frame
 * saved it (exact for a suspended generator's frame, possibly stale for a
 * running one), or 0 when it is not plausible.  fr: its header, as for
 * py_frame_lasti. */
uint64_t py_frame_stack_end(const struct py_proc *p, uint64_t frame,
			    const uint8_t *fr);

/* Store loc in a snapshot frame: the line, and the span on 3.11+ (the
 * span fields are -1 before 3.11, whose tables have no columns). */
void py_frame_set_location(const struct py_proc *p,
			   const struct py_location *loc, struct snap_frame *f);

void code_cache_free(struct code_cache *cc);

#endif
