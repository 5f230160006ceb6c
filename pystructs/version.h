/*
 * version.h - a CPython version from what names it: a file name, or the
 * text Py_GetVersion() leaves in memory.  Pure functions over strings.
 */
#ifndef SNAKESCOPE_PY_VERSION_H
#define SNAKESCOPE_PY_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse "python3.12" / "libpython3.7m.so" style names: true and sets
 * *major, *minor when the basename of path names a Python version. */
bool py_version_from_name(const char *path, unsigned *major,
			  unsigned *minor);

/*
 * Find a "3.X.Y (" version text (what Py_GetVersion() writes into a static
 * buffer at start-up) in buf; it must start the buffer or follow a NUL.
 * Returns true and sets *major, *minor and the version ("3.9.18") in
 * out[size].
 */
bool py_version_from_text(const uint8_t *buf, size_t len, unsigned *major,
			  unsigned *minor, char *out, size_t size);

#endif
