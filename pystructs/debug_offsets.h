/*
 * debug_offsets.h - read a target's own _Py_DebugOffsets (3.13+).
 *
 * From 3.13, _PyRuntime begins with a table of struct sizes and field
 * offsets that CPython keeps for debuggers.  snakescope prefers it to its
 * built-in tables.  The table's own shape differs by version (3.15 inserted
 * fields mid-table), so a descriptor per version says which index is which
 * field; the version is taken from the table and checked.
 */
#ifndef SNAKESCOPE_DEBUG_OFFSETS_H
#define SNAKESCOPE_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "pystructs/layout.h"

#define DEBUG_OFFSETS_COOKIE "xdebugpy"
/* cookie[8], version, free_threaded */
#define DEBUG_OFFSETS_HEADER 24

/* Size of the whole table for the version in the header, or 0 when the
 * table layout of that version is unknown. */
size_t debug_offsets_size(const uint8_t *hdr);

/* PY_VERSION_HEX from a header that starts with the cookie, or 0 when the
 * cookie is absent. */
uint32_t debug_offsets_version(const uint8_t *hdr);

/*
 * Overlay the offsets in buf (a whole table, len bytes) onto *L, which
 * must hold the built-in layout of the same minor version (for the few
 * facts the table lacks).  Every offset is bounds-checked against its
 * section's declared size.  Errors: SS_EBADBUILD (cookie, version,
 * free-threaded build, an offset out of bounds).
 */
int debug_offsets_apply(struct py_layout *L, const uint8_t *buf, size_t len,
			struct err *e);

#endif
