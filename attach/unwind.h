/*
 * unwind.h - native (C) stacks of a paused target's threads.
 *
 * The registers come from ptrace (PTRACE_GETREGS); libunwind steps through
 * the frames with the target's own .eh_frame_hdr tables, read from its
 * memory through the reader (so nothing depends on files that may differ
 * in another mount namespace); names come from snakescope's symbol tables
 * (attach/symbols.h), never from libunwind's nearest-symbol guess.
 *
 * One struct unwinder serves many pauses of one process: libunwind's
 * caches and the symbol tables stay warm, and /proc/PID/maps is re-read at
 * each unwind_begin() so that libraries loaded meanwhile are seen.
 */
#ifndef SNAKESCOPE_UNWIND_H
#define SNAKESCOPE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "memreader/mem.h"

/* At most this many native frames per thread. */
#define UNWIND_MAX_FRAMES 512

struct unwind_frame {
	uint64_t pc;          /* where the frame runs (innermost) or returns */
	const char *function; /* covering symbol, NULL when none (owned by
				 the unwinder, valid until unwinder_free) */
	uint64_t offset;      /* pc - function start */
	int source;           /* enum sym_source */
	const char *library;  /* short name of the mapped file ("libc.so.6",
				 "[vdso]"), NULL when the address is in none
				 (owned by the unwinder) */
	const char *path;     /* its path as the target maps it, or NULL */
	uint64_t lib_offset;  /* pc - the object's load bias */
};

struct unwind_stack {
	struct unwind_frame *frames; /* innermost first */
	size_t n, cap;
	char *error; /* why unwinding stopped before the thread's first
			frame, or NULL */
};

struct unwinder;

/* An unwinder for process pid reading through mem (borrowed; it must
 * outlive the unwinder).  Never fails; problems show per thread. */
struct unwinder *unwinder_new(pid_t pid, struct mem_reader *mem);
void unwinder_free(struct unwinder *u);

/* Start a pause's unwinding (the target must be paused): re-reads the
 * memory map.  Returns 0 or an SS_E* code. */
int unwind_begin(struct unwinder *u, struct err *e);

/*
 * Unwind thread tid, which must be in a ptrace-stop of ours.  Fills *out
 * (initialise it zeroed; release with unwind_stack_release()).  Returns 0,
 * also for a partial stack (out->error says why it stopped); an SS_E*
 * code when not even the registers could be read.
 */
int unwind_thread(struct unwinder *u, pid_t tid, struct unwind_stack *out,
		  struct err *e);

void unwind_stack_release(struct unwind_stack *s);

/* Name the function at pc in the target (pc as an unwound caller frame's
 * return address when 'caller').  For tests and the benchmark. */
void unwind_symbolize(struct unwinder *u, uint64_t pc, bool caller,
		      struct unwind_frame *out);

#endif
