/*
 * code.h - decoded code objects, cached by address.
 *
 * One cache per py_proc (p->codes), keyed by remote address, serves dumps
 * and the sampler.  A dump decodes each code object once per snapshot
 * (name, qualified name, file, first line, line table) and calls
 * py_proc_forget() before the next, since addresses are reused.  The
 * sampler keeps code objects across samples instead: it asks for them
 * with py_code_get_checked(), which records what must not change for the
 * object to still be the same, has every one a sample uses checked again
 * in one batch (py_code_check), and drops the
 * ones no sample used for a while (py_code_sweep).
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
	/* Kept for the sampler, which sets them (0 / INT32_MIN when
	 * decoded): the key it names this decoding by, and the location
	 * index last asked with the line it gave. */
	uint32_t key;
	int memo_lasti, memo_line;
};

/* The sampler starts the cache again (py_proc_forget) once it holds this
 * many code objects; py_code_get_checked() gives up on a code object
 * when the table cannot grow further. */
#define PY_CODE_CACHE_MAX 16384u

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

/* Code objects in the cache (with the slots of dropped ones). */
size_t py_code_count(const struct py_proc *p);

/*
 * The sampler's lookup: the code object at addr, decoded (or cached) as
 * py_code_get() does, with its identity recorded when it enters: its
 * header's type, name, file name, line table and first line, and a digest
 * of the bytes of the name, file name and line table.  A code object a
 * dump decoded is taken over with its identity as of now.  One entering
 * is marked checked in 'sample'.  Returns NULL when it cannot be read or
 * the cache is full (give up on the frame).  The object belongs to the
 * cache (valid until the next py_code_check, py_code_sweep or
 * py_proc_forget); the caller may set its key and memo fields.
 */
struct py_code *py_code_get_checked(struct py_proc *p, uint64_t addr,
				    uint64_t sample);

/*
 * Check again the cached code objects at addrs[0 .. n) (those that
 * py_code_get_checked took in; others are passed over), each at most once
 * per 'sample': read their headers and parts in one batch and drop each
 * that changed or went (pointers to it become invalid; it is decoded
 * again when next asked for).  Every sample: a reused address must not
 * show, even for a moment, the name of the code object that was there
 * before.
 */
void py_code_check(struct py_proc *p, const uint64_t *addrs, size_t n,
		   uint64_t sample);

/* Drop the code objects not checked since 'since' (a sample number) and
 * every one a dump decoded; shrink the table when far too big for the
 * rest.  Pointers to dropped objects become invalid. */
void py_code_sweep(struct py_proc *p, uint64_t since);

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

/* Free the cache (py_proc_forget and py_proc_release do). */
void code_cache_free(struct code_cache *cc);

#endif
