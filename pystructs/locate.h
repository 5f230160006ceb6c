/*
 * locate.h - find the CPython runtime in a process from the ELF files it
 * has mapped (libpython*.so, then the executable): the _PyRuntime symbol
 * (.symtab or .dynsym) or the .PyRuntime section, and the exact version
 * from Py_Version, the debug offsets or, failing those, the file name.
 */
#ifndef SNAKESCOPE_LOCATE_H
#define SNAKESCOPE_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "pystructs/pyproc.h"
#include "pystructs/target.h"

/*
 * Fill *out for the target t (target.h): its libpython, else its
 * executable, is looked into through t's ops.  Errors: SS_ENOTPY (no
 * Python runtime anywhere), SS_EUNSUPPORTED (a Python too old to have
 * _PyRuntime; message names it), SS_EBADBUILD, the reason a file that may
 * hold it could not be read (SS_EPERM ...), read errors.
 */
int py_locate(const struct py_target *t, struct py_runtime_info *out,
	      struct err *e);

/* Read the first nwords words of the .AsyncioDebug section (3.14+) of
 * the target, from _asyncio*.so or the runtime's own file.  False when
 * there is none (asyncio not loaded). */
bool py_locate_asyncio_debug(const struct py_target *t,
			     const struct py_runtime_info *rt, uint64_t *words,
			     size_t nwords);

#endif
