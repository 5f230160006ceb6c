/*
 * pyproc.h - one inspected CPython runtime: where it is, which version,
 * which layout (set up here), and the caches the decoders share (their
 * lifecycle is reader.h's).
 *
 * Everything in pystructs/ reads the target only through p->mem; no
 * function here needs the target paused, but results are only consistent
 * when it is (otherwise they may be torn and are validated as far as
 * possible).
 */
#ifndef SNAKESCOPE_PYPROC_H
#define SNAKESCOPE_PYPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "memreader/mem.h"
#include "pystructs/layout.h"

struct code_cache;

#define PY_ATTR_CACHE 16
#define PY_TNAME_CACHE 32
#define PY_TNAME_CACHED 64

struct py_proc {
	struct mem_reader *mem; /* not owned */
	struct py_layout L;     /* this target's layout */
	const char *layout_source; /* "built-in table" / "_Py_DebugOffsets" */
	uint64_t runtime;       /* address of _PyRuntime (<=3.6: of
				   interp_head) */
	uint64_t tstate_current; /* <=3.6: address of _PyThreadState_Current;
				    0 otherwise (see L.runtime) */
	char version[32];       /* "3.12.1" */
	char warning[256];      /* set when the layout is a guess: a target
				   newer than snakescope knows */

	/* Type object addresses, learnt (by tp_name) on first sight. */
	uint64_t type_str, type_bytes, type_code;
	uint64_t type_int;    /* arbitrary-size int (2.7: 'long') */
	uint64_t type_int27;  /* 2.7's machine-word 'int' */

	int pthread_tid_offset; /* glibc struct pthread tid, -1 unknown */

	/* Symbols for what no layout reaches (0 when not found): */
	uint64_t eval_frame_default; /* _PyEval_EvalFrameDefault (3.6-3.10
					store it as the "no hook" value) */
	uint64_t gil_static;      /* <=3.6: the GIL's condition variable
				     (3.6 gil_cond) or a pointer to its lock
				     (2.7 interpreter_lock) */
	uint64_t gil_static_size;
	bool gil_static_is_ptr;
	uint64_t gc_collecting_static; /* <=3.6: gcmodule.c's 'collecting' */
	bool hooks_unknown; /* the eval hook and monitoring tools cannot be
			       read (debug builds) */

	/* Index of an attribute name in a shared-keys object, so that many
	 * instances of one class (threads) cost one keys scan.  Keyed by
	 * remote address: dropped by py_proc_forget(). */
	struct {
		uint64_t keys;
		const char *name; /* static string of the caller */
		size_t index;
	} attr_index[PY_ATTR_CACHE];
	/* tp_name of recently seen types (by type address). */
	struct {
		uint64_t type;
		char name[PY_TNAME_CACHED];
	} tname[PY_TNAME_CACHE];
	struct code_cache *codes;
	/* Counts py_proc_forget() calls: who keeps pointers into the caches
	 * (the sampler) checks it to know they went. */
	uint64_t generation;
};

/* Where the runtime is, as found from ELF symbols of the mapped files. */
struct py_runtime_info {
	int runtime_kind;     /* enum layout_runtime_kind: what 'runtime' is */
	uint64_t runtime;     /* address of _PyRuntime in the target, or
				 (<=3.6) of the variable interp_head */
	uint64_t tstate_current; /* <=3.6: &_PyThreadState_Current, or 0 */
	bool debug_build;     /* Py_DEBUG (_Py_NegativeRefcount exists) */
	unsigned version_hex; /* from Py_Version / debug offsets; 0 if not */
	unsigned major, minor; /* from version_hex, memory or a file name */
	char version_text[32]; /* "3.9.18" found in memory, or "" */
	char binary[4096];    /* file that holds the runtime, as mapped */
	bool in_libpython;    /* binary is a libpython shared object */
	/* Symbols copied to struct py_proc (see there); 0 when absent. */
	uint64_t eval_frame_default;
	uint64_t gil_static, gil_static_size;
	bool gil_static_is_ptr;
	uint64_t gc_collecting_static;
};

/*
 * Set up the fixed description in *p of the runtime described by info,
 * reading the target through mem (not owned): the layout (built-in table,
 * overlaid with the target's _Py_DebugOffsets on 3.13+) and the version
 * its symbols or memory name (p->version stays "" when only sys.version
 * would tell: see py_proc_open() in reader.h, which also readies the
 * caches).  Allocates nothing.  Errors: SS_EUNSUPPORTED (names the
 * version and the supported range), SS_EBADBUILD, read errors.
 */
int py_proc_init(struct py_proc *p, struct mem_reader *mem,
		 const struct py_runtime_info *info, struct err *e);

/*
 * Does the interpreter at 'interp' hold together under layout L: its
 * first thread state (stored in *first, 0 when it has none) points back at
 * it, with a plausible frame pointer?  A cheap test that offsets describe
 * this process, used before trusting a guessed layout or a scanned word.
 */
bool py_interp_links_back(struct mem_reader *mem, const struct py_layout *L,
			  uint64_t interp, uint64_t *first);

/* "2.7, 3.6-3.15": the versions this build of snakescope reads. */
const char *py_supported_range(void);

/* A word out of a struct copied from the target in one read. */
static inline uint64_t py_rd64(const uint8_t *buf, int off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

/*
 * Plausible object pointer: non-NULL, 8-aligned, in user space.  Cheap;
 * reads still check the rest.
 */
static inline bool py_ptr_ok(uint64_t addr)
{
	return addr >= 4096 && (addr & 7) == 0 && addr < (1ULL << 47);
}

#endif
