/*
 * reader.h - a py_proc (pyproc.h) ready to read: its fixed description
 * set up, its version read from sys.version when nothing else names it,
 * and the caches the decoders share (code objects, attribute indexes,
 * type names), dropped between reads and freed at the end.
 */
#ifndef SNAKESCOPE_PY_READER_H
#define SNAKESCOPE_PY_READER_H

#include "common/err.h"
#include "memreader/mem.h"
#include "pystructs/pyproc.h"

/*
 * py_proc_init(), then the version from the target's sys.version when
 * its symbols and memory named none ("3.9.18"; else "major.minor").
 * Errors as py_proc_init().  Release with py_proc_release().
 */
int py_proc_open(struct py_proc *p, struct mem_reader *mem,
		 const struct py_runtime_info *info, struct err *e);

/* A version read while the target was starting up, before sys.version
 * existed ("3.9"): read sys.version again.  Cheap when it is whole. */
void py_proc_recheck_version(struct py_proc *p);

/* Drop caches keyed by target addresses (between samples). */
void py_proc_forget(struct py_proc *p);

/* Free the caches (p may be set up again). */
void py_proc_release(struct py_proc *p);

#endif
