/*
 * unwind.h - native (C) stacks of a stopped target's threads.
 *
 * The caller hands each thread's registers (ptrace's PTRACE_GETREGS for a
 * paused process, NT_PRSTATUS for a core) and the target's memory map;
 * libunwind steps through the frames with the target's own .eh_frame_hdr
 * tables, read from its memory through the reader; names come from
 * snakescope's symbol tables (attach/symbols.h) of the mapped files, which
 * the caller's open function finds (the very file mapped: rootfs.h for a
 * live process, the sysroot for a core), never from libunwind's
 * nearest-symbol guess.  Code in an anonymous executable mapping (a JIT's
 * output: CPython 3.13+'s with PYTHON_JIT=1) is library "[jit]"; where
 * no unwind table covers a pc, libunwind steps by the frame-pointer
 * chain, else the stack above is scanned for a return address, and the
 * frame says so (caller_by).
 *
 * One struct unwinder serves many pauses of one target: libunwind's caches
 * and the symbol tables stay warm while the map does not change.
 */
#ifndef SNAKESCOPE_UNWIND_H
#define SNAKESCOPE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "memreader/maps.h"
#include "memreader/mem.h"

#include <sys/user.h>

/* At most this many native frames per thread. */
#define UNWIND_MAX_FRAMES 512

struct unwind_frame {
	uint64_t pc;          /* where the frame runs (innermost) or returns */
	const char *function; /* covering symbol, C++ names demangled; NULL
				 when none (owned by the unwinder, valid
				 until unwinder_free) */
	uint64_t offset;      /* pc - function start */
	int source;           /* enum sym_source */
	const char *library;  /* short name of the mapped file ("libc.so.6",
				 "[vdso]"), NULL when the address is in none
				 (owned by the unwinder) */
	const char *path;     /* its path as the target maps it, or NULL */
	uint64_t lib_offset;  /* pc - the object's load bias */
	uint64_t sp;          /* its stack pointer: its locals lie from there
				 up to the next frame's; 0 when unknown */
	int caller_by;        /* enum unwind_caller_by: how its caller was
				 found */
};

/* How a frame's caller was found. */
enum unwind_caller_by {
	UNWIND_BY_TABLE = 0, /* the unwind table covering pc (or none: the
				outermost frame) */
	UNWIND_BY_FP,        /* no table covers pc (JIT code, a file without
				.eh_frame_hdr): the frame-pointer chain */
	UNWIND_BY_SCAN,      /* no table and no frame-pointer chain (3.14's
				JIT code): the first word above it that is a
				return address just after a call into code
				with a table */
};

struct unwind_stack {
	struct unwind_frame *frames; /* innermost first */
	size_t n, cap;
	char *error; /* why unwinding stopped before the thread's first
			frame, or NULL */
};

struct unwinder;

/* Open the file mapped at 'first' (the lowest mapping of an object) for
 * reading: 0 with *fd, or an error. */
typedef int (*unwind_open_fn)(void *arg, const struct maps_entry *first,
			      int *fd);

/*
 * An unwinder reading through mem (borrowed; it must outlive the
 * unwinder), opening mapped files with open_file(arg, ...), and looking
 * for their debug files under 'root' (a directory descriptor of the
 * target's root, borrowed; -1: only ours).  Never fails; problems show
 * per thread.
 */
struct unwinder *unwinder_new(struct mem_reader *mem, unwind_open_fn open_file,
			      void *arg, int root);
void unwinder_free(struct unwinder *u);

/* Start unwinding a stopped target whose memory map is m (copied):
 * objects that did not move keep their tables. */
void unwind_begin(struct unwinder *u, const struct maps *m);

/*
 * Unwind one thread from its registers.  Fills *out (initialise it
 * zeroed; release with unwind_stack_release()).  Returns 0, also for a
 * partial stack (out->error says why it stopped); SS_EPTRACE when
 * libunwind cannot work at all.
 */
int unwind_thread(struct unwinder *u, const struct user_regs_struct *regs,
		  struct unwind_stack *out, struct err *e);

void unwind_stack_release(struct unwind_stack *s);

/* Name the function at pc in the target (pc as an unwound caller frame's
 * return address when 'caller').  For tests and the benchmark. */
void unwind_symbolize(struct unwinder *u, uint64_t pc, bool caller,
		      struct unwind_frame *out);

#endif
