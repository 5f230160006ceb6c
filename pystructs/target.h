/*
 * target.h - what pystructs is handed to find a CPython runtime: the
 * target's memory, its memory map, and a way to look into the ELF files it
 * maps, as callbacks (the pattern of elfutils' libdwfl).
 *
 * pystructs never opens a file, names a PID or reads /proc: the session
 * that opened the target (a live process now, a core file later) fills a
 * struct py_target, and the same decoders read either.
 */
#ifndef SNAKESCOPE_PY_TARGET_H
#define SNAKESCOPE_PY_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "memreader/maps.h"
#include "memreader/mem.h"

/* An ELF file of the target, opened by the ops; opaque to pystructs. */
struct py_elf;

struct py_target_ops {
	/*
	 * Open the ELF file whose lowest mapping is 'first' (an entry of the
	 * target's map): the very file mapped there.  NULL, with why in *e,
	 * when it cannot be read.  Close it with close().
	 */
	struct py_elf *(*open)(void *ctx, const struct maps_entry *first,
			       struct err *e);
	void (*close)(void *ctx, struct py_elf *f);
	/* The target's address of a defined symbol (.dynsym, then .symtab
	 * and the debug file), and its size when 'size' is not NULL.  False
	 * when the file defines none by that name. */
	bool (*symbol)(void *ctx, struct py_elf *f, const char *name,
		       uint64_t *addr, uint64_t *size);
	/* The target's address and the size of a section by name.  False
	 * when the file has none. */
	bool (*section)(void *ctx, struct py_elf *f, const char *name,
			uint64_t *addr, uint64_t *size);
};

/*
 * A target in another PID namespace (a container): its thread states hold
 * its own thread ids.  NULL where a py_ns is asked for: it shares ours.
 */
struct py_ns {
	/* The target's TIDs as it sees them; *tids stays valid until the
	 * next call of either function. */
	size_t (*own_tids)(void *ctx, const pid_t **tids);
	/* Our TID for the target's own one, -1 when unknown. */
	int64_t (*host_tid)(void *ctx, int64_t own);
	void *ctx;
};

/* Our TID for the target's own one (ns NULL: the same). */
static inline int64_t py_ns_host(const struct py_ns *ns, int64_t own)
{
	return ns && own > 0 ? ns->host_tid(ns->ctx, own) : own;
}

struct py_target {
	const char *name;         /* for messages: "process 1234" */
	struct mem_reader *mem;   /* its memory */
	const struct maps *maps;  /* what is mapped where */
	const char *executable;   /* its executable as the map names it, or
				     "" when unknown */
	const struct py_target_ops *ops;
	void *ctx;                /* the ops' own */
};

#endif
