/*
 * core_write.h - write an ELF core file (x86-64) of a process from parts
 * gathered by the caller: its threads' registers, the files it had mapped
 * and the memory to keep.  The file is what core.h reads back, and what
 * gdb loads: ELF64 ET_CORE EM_X86_64, one PT_NOTE (NT_PRSTATUS per
 * thread, NT_PRPSINFO, NT_AUXV when given, NT_FILE), one PT_LOAD per
 * segment.  Knows ELF, not CPython.
 */
#ifndef SNAKESCOPE_CORE_WRITE_H
#define SNAKESCOPE_CORE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"

/* At most this many segments (PT_LOAD): e_phnum's own bound, without
 * PN_XNUM. */
#define CORE_WRITE_MAX_SEGMENTS 65000

struct core_write_thread {
	pid_t tid;
	struct user_regs_struct regs;
};

/* A mapped file for NT_FILE: [lo, hi) maps the file at byte 'offset' (a
 * multiple of the page size). */
struct core_write_file {
	uint64_t lo, hi, offset;
	const char *path;
};

/* Memory to keep: [vaddr, vaddr + len), page-aligned, the bytes at data;
 * r, w, x become the PT_LOAD's flags. */
struct core_write_segment {
	uint64_t vaddr;
	size_t len;
	const void *data;
	bool r, w, x;
};

struct core_write {
	pid_t pid, ppid;
	uid_t uid;
	gid_t gid;
	const char *fname;   /* the process's name (pr_fname, cut to 15) */
	const char *psargs;  /* its command line, spaces between (cut to 79) */
	const struct core_write_thread *threads; /* the first is the
						    "current" one */
	size_t nthreads;
	const struct core_write_file *files;
	size_t nfiles;
	const struct core_write_segment *segs; /* sorted, not overlapping */
	size_t nsegs;
	const void *auxv;    /* the process's auxiliary vector, or NULL */
	size_t auxv_len;
};

/* The size of the file core_write_fd() would write. */
uint64_t core_write_size(const struct core_write *cw);

/*
 * Write the core described by cw to fd (from its current offset on; a
 * regular file).  Returns 0, or SS_EINVAL (segments unsorted, overlapping
 * or too many; no thread), SS_EIO (a write failed: e says why).
 */
int core_write_fd(int fd, const struct core_write *cw, struct err *e);

/*
 * Write it to path atomically: a temporary file beside it, renamed over
 * path once complete (never a half-written core at path).  Refused with
 * SS_ELIMIT when it would be larger than max_size bytes.  Returns 0 with
 * *size (may be NULL) the bytes written, or an error as core_write_fd().
 */
int core_write_file(const char *path, const struct core_write *cw,
		    uint64_t max_size, uint64_t *size, struct err *e);

#endif
