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
	 * (a core does not record them). */
	struct maps maps;
	/* NT_SIGINFO of the thread that got the signal (a crash). */
	bool has_siginfo;
	int si_signo, si_code;
	uint64_t si_addr;           /* the faulting address (SIGSEGV, SIGBUS) */
	pid_t si_tid;               /* the thread it came with */
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
void core_free(struct core *c);

/* Read len bytes at offset off of the core's (decompressed) bytes: 0 or
 * SS_EIO. */
int core_read(const struct core *c, uint64_t off, void *buf, size_t len,
	      struct err *e);

/*
 * A file the core's process had mapped, for memory the core does not hold
 * (a file-backed mapping's unmodified pages are not dumped): read len
 * bytes of the file mapped at 'me' at file offset 'off'.  0, or SS_EREAD.
 */
typedef int (*core_file_read_fn)(void *arg, const struct maps_entry *me,
				 uint64_t off, void *buf, size_t len);

/*
 * A memory reader over the core (built on memreader's segment backend,
 * mem_segments_new()): a read is served by the PT_LOAD segment that holds
 * it; the part past a segment's filesz by the mapped file (file_read, may
 * be NULL: then such a read fails), zeros past the file's end; anything
 * else fails (SS_EREAD).  c must outlive the reader.
 */
struct mem_reader *core_mem_new(const struct core *c,
				core_file_read_fn file_read, void *arg);

/* The build-id of the ELF object mapped at me, read from the core's
 * memory (its first page: ELF header, program headers, PT_NOTE), into
 * id[size]; returns its length, 0 when the core does not hold it. */
size_t core_build_id(struct mem_reader *mem, const struct maps_entry *me,
		     unsigned char *id, size_t size);

#endif
