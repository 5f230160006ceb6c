/*
 * harness.h - what the fuzz targets run, and the memory-image format they
 * read.  Shared by the libFuzzer targets (fuzz/fuzz_*.c) and by the tool
 * that records their seed corpus from live processes (fuzz/capture.c), so
 * that a recorded seed drives exactly the code a fuzz input does.
 *
 * An image input (every target but linetable) is, little-endian:
 *
 *   offset  size  field
 *        0     1  layout: index into layout_builtin_all() (modulo)
 *        1     1  flags: FUZZ_F_*
 *        2     2  reserved (0)
 *        4     4  version_hex (0: the decoders read sys.version)
 *        8     8  runtime: _PyRuntime, or (<=3.6) &interp_head
 *       16     8  tstate_current: (<=3.6) &_PyThreadState_Current, or 0
 *       24     8  asyncio_debug: address of the 3.14+ .AsyncioDebug words
 *                 (ASYNCIO_DEBUG_WORDS of them), or 0
 *       32    16  root[2]: per target (objects: an object; code: a code
 *                 object and a frame running it)
 *       48        segments until the end: addr (8), len (4), len bytes
 *                 (a last segment cut short keeps the bytes there are)
 *
 * A linetable input is: firstlineno (4, signed), offset (4, signed), the
 * table's bytes.
 */
#ifndef SNAKESCOPE_FUZZ_HARNESS_H
#define SNAKESCOPE_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memreader/mem.h"

#define FUZZ_HDR_SIZE 48
#define FUZZ_SEG_HDR 12
#define FUZZ_MAX_SEGS 8192
#define FUZZ_LINETABLE_HDR 8

/* Read every frame's variables (threads, tasks, locks targets). */
#define FUZZ_F_LOCALS 0x1
/* Read as if unpaused: re-read each stack and compare. */
#define FUZZ_F_TORN 0x2
/* A Py_DEBUG build. */
#define FUZZ_F_DEBUG 0x4
/* threads: also take two samples (py_sampler_take). */
#define FUZZ_F_SAMPLER 0x8

/* Where capture puts the .AsyncioDebug words: above user space, so that
 * it never collides with a recorded segment. */
#define FUZZ_ASYNCIO_ADDR (1ULL << 47)

enum fuzz_target {
	FUZZ_OBJECTS,
	FUZZ_CODE,
	FUZZ_THREADS,
	FUZZ_TASKS,
	FUZZ_LOCKS,
};

struct fuzz_hdr {
	uint8_t layout;
	uint8_t flags;
	uint32_t version_hex;
	uint64_t runtime, tstate_current, asyncio_debug;
	uint64_t root[2];
};

/* Parse an image input: fills *h and returns a reader over its segments
 * (free with mem_reader_free()), or NULL when data is shorter than the
 * header.  Never allocates more than a bounded multiple of size. */
struct mem_reader *fuzz_image_parse(const uint8_t *data, size_t size,
				    struct fuzz_hdr *h);

/* Serialize the header (FUZZ_HDR_SIZE bytes) into out. */
void fuzz_hdr_write(const struct fuzz_hdr *h, uint8_t *out);

/* Index of major.minor in layout_builtin_all(), or -1. */
int fuzz_layout_index(unsigned major, unsigned minor);

/*
 * Run target t over the image mem describes, from the roots in h: set up
 * a struct py_proc (py_proc_init, the asyncio debug words) and call the
 * target's decoders.  Returns true when the runtime could be set up.
 */
bool fuzz_run(enum fuzz_target t, struct mem_reader *mem,
	      const struct fuzz_hdr *h);

/* Run every line-table decoder over a linetable input. */
void fuzz_run_linetable(const uint8_t *data, size_t size);

#endif
