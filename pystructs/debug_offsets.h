/*
 * debug_offsets.h - read a target's own _Py_DebugOffsets (3.13+).
 *
 * From 3.13, _PyRuntime begins with a table of struct sizes and field
 * offsets that CPython keeps for debuggers.  snakescope prefers it to its
 * built-in tables.  The table's own shape differs by version (3.15 inserted
 * fields mid-table), so a descriptor per version, generated from that
 * version's headers (struct layout_dbg_desc, pystructs/layouts_gen.c), says
 * which index is which field.
 */
#ifndef SNAKESCOPE_DEBUG_OFFSETS_H
#define SNAKESCOPE_DEBUG_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "pystructs/layout.h"

#define DEBUG_OFFSETS_COOKIE "xdebugpy"
/* cookie[8], version, free_threaded */
#define DEBUG_OFFSETS_HEADER 24

/* PY_VERSION_HEX from a header that starts with the cookie, or 0 when the
 * cookie is absent. */
uint32_t debug_offsets_version(const uint8_t *hdr);

/* Whether the header says the build is free-threaded (Py_GIL_DISABLED). */
bool debug_offsets_free_threaded(const uint8_t *hdr);

/*
 * The table shape to read the header's version with.  For a final release
 * of a minor version snakescope knows, that version's shape (*guess =
 * false).  For a pre-release of a known minor, that minor's shape, and for
 * a minor newer than any known, the newest known shape; both with *guess =
 * true: the table may differ and must pass the strict checks.  NULL when
 * there is no cookie or no shape fits (an older minor, Python 4).
 */
const struct layout_dbg_desc *debug_offsets_desc(const uint8_t *hdr,
						 bool *guess);

/*
 * Overlay the offsets in buf (a whole table of d->size bytes, len read)
 * onto *L, which must hold the built-in layout of d's minor version (for
 * the facts the table lacks).  Every field must fit (8 bytes) inside its
 * section's declared size, and a frame's fields inside the frame header
 * the walkers copy (its first localsplus bytes, at most 512); 'strict'
 * (for guessed shapes) also requires
 * every section size to look like a struct size.  Errors: SS_EBADBUILD
 * (cookie, free-threaded build, an entry out of bounds).
 */
int debug_offsets_apply(struct py_layout *L, const struct layout_dbg_desc *d,
			const uint8_t *buf, size_t len, bool strict,
			struct err *e);

#endif
