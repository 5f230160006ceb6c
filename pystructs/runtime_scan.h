/*
 * runtime_scan.h - find the CPython runtime without symbols or sections.
 *
 * For binaries stripped of their symbol tables and section headers (the
 * loader needs neither).  The runtime's data still sits in the file's
 * writable mappings (.data) and the anonymous mapping right after them
 * (.bss):
 *   - 3.13+: _PyRuntime starts with the _Py_DebugOffsets cookie "xdebugpy";
 *   - before: the version text Py_GetVersion() wrote at start-up gives the
 *     version, hence the layout, and the interpreter list head is the first
 *     word w such that w->threads_head->interp == w and a whole walk of
 *     the threads and frames from it succeeds (py-spy's approach).
 */
#ifndef SNAKESCOPE_RUNTIME_SCAN_H
#define SNAKESCOPE_RUNTIME_SCAN_H

#include <stdbool.h>

#include "memreader/maps.h"
#include "memreader/mem.h"
#include "pystructs/pyproc.h"

/*
 * Scan the writable memory of the mapped file 'path'.  On success fill
 * out->runtime_kind, runtime and the version fields, and return true.
 * Reads are bounded (RUNTIME_SCAN_MAX bytes in all).
 */
bool runtime_scan(const struct maps *m, struct mem_reader *mem,
		  const char *path, struct py_runtime_info *out);

#endif
