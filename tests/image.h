/*
 * image.h - build fake CPython memory images for unit tests.
 *
 * An image is one contiguous arena at a fixed fake address; objects are
 * carved out of it and their fields written at the offsets of a chosen
 * py_layout, so the decoders in pystructs/ can be run over it through the
 * reader's in-memory backend.
 */
#ifndef SNAKESCOPE_TEST_IMAGE_H
#define SNAKESCOPE_TEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "memreader/mem.h"
#include "pystructs/layout.h"

#define IMAGE_BASE 0x10000000ULL
#define IMAGE_SIZE (1u << 20)

struct image {
	const struct py_layout *L;
	uint8_t *buf;
	size_t used;
	uint64_t type_str, type_bytes, type_code, type_int;
};

void image_init(struct image *im, const struct py_layout *L);
void image_release(struct image *im);

/* Reserve n bytes (16-aligned, zeroed); returns the fake address. */
uint64_t image_alloc(struct image *im, size_t n);
void image_put64(struct image *im, uint64_t addr, uint64_t v);
void image_put32(struct image *im, uint64_t addr, uint32_t v);
void image_put8(struct image *im, uint64_t addr, uint8_t v);
void image_putbytes(struct image *im, uint64_t addr, const void *p, size_t n);

/* A type object whose tp_name is name. */
uint64_t image_type(struct image *im, const char *name);
/* A compact str with 'kind' bytes per character holding the code points. */
uint64_t image_str_kind(struct image *im, const uint32_t *cp, size_t n,
			unsigned kind);
/* A compact ASCII str. */
uint64_t image_str(struct image *im, const char *s);
uint64_t image_bytes(struct image *im, const void *p, size_t n);
/* A code object named name in file, with a line table (raw bytes). */
uint64_t image_code(struct image *im, const char *name, const char *file,
		    int firstlineno, const uint8_t *table, size_t tlen,
		    size_t ncode_units);

/* A runtime with one interpreter and two threads, newest first: ts[1] ->
 * ts[0].  Thread ids are 0x7f0000001000 + i; native ids (3.8+) 1000 + i. */
struct image_runtime {
	uint64_t runtime, interp, ts[2];
};
struct image_runtime image_runtime(struct image *im);
/* Make frame the top frame of thread state ts (through a cframe where the
 * layout has one). */
void image_set_top_frame(struct image *im, uint64_t ts, uint64_t frame);

/* A reader over a copy of the image. */
struct mem_reader *image_reader(struct image *im);

#endif
