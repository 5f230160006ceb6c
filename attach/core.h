/*
 * core.h - an ELF core file: what gcore, the kernel (a crash under
 * `ulimit -c unlimited`) or systemd-coredump wrote of a process.
 *
 * core_open() reads the file (plain, or compressed with zstd, lz4, xz or
 * gzip, told by its magic bytes, as systemd-coredump and people store
 * them) and parses what a dump needs: the process (NT_PRPSINFO), every
 * thread with its registers (NT_PRSTATUS), the files it had mapped
 * (NT_FILE), the signal that killed it (NT_SIGINFO) and its memory
 * (PT_LOAD).  Everything in the file is untrusted: counts, sizes, offsets
 * and strings are bounded and checked; a malformed core is an error, never
 * a crash.  x86-64 cores only (the registers are struct user_regs_struct).
 */
#ifndef SNAKESCOPE_CORE_H
#define SNAKESCOPE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"
#include "memreader/maps.h"
#include "memreader/mem.h"

/* Bounds on what a core may make us hold. */
#define CORE_MAX_THREADS 65536
#define CORE_MAX_SEGMENTS (1 << 20)
#define CORE_MAX_DECOMPRESSED (UINT64_C(64) << 30)
/* The notes (PT_NOTE) are read whole: every thread's registers, the
 * NT_FILE table. */
#define CORE_MAX_NOTES (UINT64_C(256) << 20)

struct core_thread {
	pid_t tid;
	int cursig;                   /* pr_cursig: the signal it stopped
					 with, 0 */
	struct user_regs_struct regs; /* NT_PRSTATUS pr_reg */
};

/* One PT_LOAD segment: [vaddr, vaddr + memsz) of the process, of which
 * the first filesz bytes are in the core at 'offset' (the rest was not
 * dumped: read it from the mapped file, or it is zero). */
struct core_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	bool r, w, x;
};

struct core {
	char *path;                 /* as given */
	char *compression;          /* "zstd", "lz4", "xz", "gzip" or NULL */
	pid_t pid;                  /* NT_PRPSINFO pr_pid */
	uid_t uid;
	char comm[17];              /* pr_fname */
	char args[81];              /* pr_psargs: the command line, cut */
	struct core_thread *threads; /* in note order: the first is the one
					that got the signal (the kernel's
					order) */
	size_t nthreads;
	struct core_segment *segs;  /* sorted by vaddr */
	size_t nsegs;
	/* NT_FILE: the mapped files (path, [lo, hi), file offset), as a
	 * memory map; anonymous segments are not in it.  dev and ino are 0
	 * (a core does not record them).  r, w, x are the covering
	 * PT_LOAD's; with none (gcore leaves out the mappings it does not
	 * dump), r alone. */
	struct maps maps;
	/* NT_SIGINFO of the thread that got the signal (a crash). */
	bool has_siginfo;
	int si_signo, si_code;
	/* The faulting address (SIGSEGV, SIGBUS, SIGILL, SIGFPE raised by
	 * the kernel), else 0.  Not named si_addr: <signal.h> defines that
	 * as a macro, which would break every file that includes both. */
	uint64_t si_fault_addr;
	pid_t si_tid;               /* the thread it came with (0: none
				       before it) */
	/* The file ends before the bytes some PT_LOAD says it holds (a
	 * core cut short by RLIMIT_CORE or a full disk): reads there fail. */
	bool truncated;
	/* The core's own bytes: read with core_read(). */
	int fd;                     /* the file, or a decompressed copy */
	uint64_t size;
};

/*
 * Open and parse the core file at path.  Returns 0 with *out (free with
 * core_free()), or SS_EIO (cannot read, bad or truncated ELF, not a core:
 * e says which), SS_EUNSUPPORTED (not an x86-64 core), SS_ELIMIT (over a
 * bound above).
 */
int core_open(const char *path, struct core **out, struct err *e);

/*
 * The same over an open file descriptor (a regular file or a memfd; it
 * is read with pread, its offset is left alone, and it stays the
 * caller's: the core keeps a duplicate).  name stands for the file in
 * messages and becomes c->path.  max_decompressed bounds a compressed
 * core's decompressed size (CORE_MAX_DECOMPRESSED for core_open(); the
 * fuzzer passes less): over it, SS_ELIMIT.
 */
int core_open_fd(int fd, const char *name, uint64_t max_decompressed,
		 struct core **out, struct err *e);
void core_free(struct core *c);

/* Read len bytes at offset off of the core's (decompressed) bytes: 0 or
 * SS_EIO. */
int core_read(const struct core *c, uint64_t off, void *buf, size_t len,
	      struct err *e);

/*
 * A file the core's process had mapped, for memory the core does not hold
 * (a file-backed mapping's unmodified pages are not dumped): read len
 * bytes of the file mapped at 'me' at file offset 'off'.  0, or SS_EREAD.
 * Bytes past the file's end read as zeros, as in the last page of a
 * mapping: the callback fills them (pread's short count) or fails.
 */
typedef int (*core_file_read_fn)(void *arg, const struct maps_entry *me,
				 uint64_t off, void *buf, size_t len);

/*
 * A memory reader over the core (built on memreader's segment backend,
 * mem_segments_new()): a read is served by the PT_LOAD segments that hold
 * it (across adjacent ones); the part past a segment's filesz by the
 * NT_FILE mapping that covers it, through file_read at the entry's
 * offset + (addr - lo) (file_read may be NULL: then such a read fails);
 * so does an NT_FILE mapping that no PT_LOAD covers (gcore writes none
 * for the file mappings it does not dump); anything else fails
 * (SS_EREAD): memory in no segment, an anonymous segment's undumped
 * part, or bytes of a truncated core.  c must outlive
 * the reader; arg is the caller's.
 */
struct mem_reader *core_mem_new(const struct core *c,
				core_file_read_fn file_read, void *arg);

/* The build-id of the ELF object mapped at me (its ELF header at me->lo,
 * me->offset 0), read through mem (the core's memory, and the file when
 * mem falls back to it): ELF header, program headers, PT_NOTE
 * NT_GNU_BUILD_ID, into id[size].  Returns its length, or 0 when mem does
 * not hold it, it is malformed, or longer than size. */
size_t core_build_id(struct mem_reader *mem, const struct maps_entry *me,
		     unsigned char *id, size_t size);

#endif
