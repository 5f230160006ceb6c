/*
 * mem.h - the only way snakescope reads a target's memory.
 *
 * A struct mem_reader wraps a backend (an ops table): a live process
 * (process_vm_readv, falling back to /proc/PID/mem) or an in-memory image
 * for tests.  Every failed read becomes an error value, never a crash.
 *
 * The reader can keep a page cache.  It is off by default; turn it on only
 * while the target cannot change (paused, or for a one-shot image) and call
 * mem_cache_reset() between samples, since addresses are reused.
 */
#ifndef SNAKESCOPE_MEM_H
#define SNAKESCOPE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* One range of a batched read. */
struct mem_span {
	uint64_t addr;
	void *buf;
	size_t len;
	bool ok; /* out: read in full */
};

struct mem_ops {
	/* Read exactly len bytes at addr into buf: 0, or SS_EREAD /
	 * SS_EEXITED / SS_EPERM with *e filled. */
	int (*read)(void *priv, uint64_t addr, void *buf, size_t len,
		    struct err *e);
	/* Optional: read many ranges in one go (see mem_read_spans);
	 * returns how many were read in full. */
	size_t (*readv)(void *priv, struct mem_span *spans, size_t n);
	void (*free)(void *priv);
};

struct mem_cache;

struct mem_reader {
	const struct mem_ops *ops;
	void *priv;
	struct mem_cache *cache; /* NULL when caching is off */
};

/* Build a reader over a backend; takes ownership of priv. */
struct mem_reader *mem_reader_new(const struct mem_ops *ops, void *priv);

/* Free the reader and its backend.  NULL is fine. */
void mem_reader_free(struct mem_reader *m);

/*
 * Read len bytes at addr.  Returns 0, or a negative SS_E* code with *e
 * (optional) describing the failure; buf contents are then unspecified.
 */
int mem_read(struct mem_reader *m, uint64_t addr, void *buf, size_t len,
	     struct err *e);

/* Read one 8-byte little-endian word. */
int mem_read_u64(struct mem_reader *m, uint64_t addr, uint64_t *out,
		 struct err *e);

/*
 * Read every span (bypassing the page cache), as few system calls as the
 * backend allows: one process_vm_readv for up to 1024 spans on a live
 * process.  Sets each span's ok and returns how many were read in full;
 * a span that fails does not stop the others.
 */
size_t mem_read_spans(struct mem_reader *m, struct mem_span *spans, size_t n);

/* Turn the page cache on or off (off drops it). */
void mem_cache_enable(struct mem_reader *m, bool on);

/* Forget cached pages (call between samples). */
void mem_cache_reset(struct mem_reader *m);

/*
 * Live-process backend.  Reads with process_vm_readv, or /proc/PID/mem when
 * the kernel lacks it.  Needs the same permission as ptrace attach.
 */
struct mem_reader *mem_process_new(pid_t pid);

/*
 * In-memory image backend (tests, fuzzing, later core files): a set of
 * segments; a read must lie entirely inside one segment.
 */
struct mem_reader *mem_image_new(void);

/* Add a copy of data as the segment [addr, addr+len).  The reader must have
 * been made by mem_image_new().  Segments may overlap: a read is served by
 * any one that holds all of it. */
void mem_image_add(struct mem_reader *m, uint64_t addr, const void *data,
		   size_t len);

/*
 * Segment backend (core files): the address space as a sorted set of
 * segments, each [vaddr, vaddr + memsz) of which the first filesz bytes
 * are stored at 'offset' of some byte source, the rest not (a core's
 * PT_LOAD: pages it did not dump).
 */
struct mem_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
};

struct mem_segments_ops {
	/* Read exactly len bytes at offset off of the byte source: 0, or a
	 * negative SS_E* code with *e (optional) filled.  Required. */
	int (*read_bytes)(void *arg, uint64_t off, void *buf, size_t len,
			  struct err *e);
	/* Bytes of [addr, addr + len) that lie in some segment's
	 * [vaddr + filesz, vaddr + memsz) (never across two segments): 0, or
	 * a negative SS_E* code with *e filled.  NULL: such reads fail with
	 * SS_EREAD. */
	int (*fallback)(void *arg, uint64_t addr, void *buf, size_t len,
			struct err *e);
	/* Frees arg with the reader; may be NULL. */
	void (*free)(void *arg);
};

/*
 * Build a reader over n segments (copied; any order).  A read is served
 * piecewise across adjacent segments; a byte in no segment fails the read
 * (SS_EREAD).  Segments with memsz 0, whose end or stored end wraps past
 * 2^64, or that overlap one with a lower vaddr are left out; filesz is cut
 * to memsz.  ops must outlive the reader; arg is handed to its callbacks
 * and freed by ops->free with the reader.
 */
struct mem_reader *mem_segments_new(const struct mem_segment *segs, size_t n,
				    const struct mem_segments_ops *ops,
				    void *arg);

/*
 * Recording reader: forwards every read to inner (not owned, must outlive
 * it) and remembers each range read in full, with its bytes, in the order
 * read (a page-cached read records the whole page).  For learning which
 * memory a read of the target needs (fuzz/capture.c, a snapshot's core).
 */
struct mem_range {
	uint64_t addr;
	size_t len;
	const uint8_t *data; /* len bytes, owned by the recorder */
};

struct mem_reader *mem_recorder_new(struct mem_reader *inner);

/* The ranges recorded so far (owned by m, valid until the next read, add
 * or clear); 0 when m is not a recorder. */
size_t mem_recorder_ranges(struct mem_reader *m, const struct mem_range **out);

/* Record [addr, addr + len) as if read, with these bytes. */
void mem_recorder_add(struct mem_reader *m, uint64_t addr, const void *buf,
		      size_t len);

/* Forget every range. */
void mem_recorder_clear(struct mem_reader *m);

#endif
