/*
 * locate.h - find the CPython runtime in a process from the ELF files it
 * has mapped (libpython*.so, then the executable): the _PyRuntime symbol
 * (.symtab or .dynsym) or the .PyRuntime section, and the exact version
 * from Py_Version, the debug offsets or, failing those, the file name.
 */
#ifndef SNAKESCOPE_LOCATE_H
#define SNAKESCOPE_LOCATE_H

#include <sys/types.h>

#include "attach/maps.h"
#include "memreader/mem.h"
#include "pystructs/pyproc.h"

/*
 * Fill *out for process pid, whose map is m, reading its memory through
 * mem.  Files are opened through /proc/PID/root.  Errors: SS_ENOTPY (no
 * Python runtime anywhere), SS_EUNSUPPORTED (a Python too old to have
 * _PyRuntime; message names it), SS_EBADBUILD, read errors.
 */
int py_locate(pid_t pid, const struct maps *m, struct mem_reader *mem,
	      struct py_runtime_info *out, struct err *e);

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

/* Read the first nwords words of the .AsyncioDebug section (3.14+) of
 * the target, from _asyncio*.so or the runtime's own file.  False when
 * there is none (asyncio not loaded). */
bool py_locate_asyncio_debug(pid_t pid, const struct maps *m,
			     struct mem_reader *mem,
			     const struct py_runtime_info *rt, uint64_t *words,
			     size_t nwords);

#endif
