/*
 * fuzz_core.c - libFuzzer target: core_open_fd() (attach/core.h) over
 * any bytes - plain or compressed ELF cores - then the core's memory
 * reader (segments, the file fallback, build-ids) over what it parsed.
 * Seeds: fuzz/corpus/core/, written by fuzz/core-seeds.py.
 */
#include <config.h>

#include "attach/core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A compressed input may not grow past this (a bomb stops here). */
#define FUZZ_CORE_MAX_DECOMPRESSED (16u << 20)
/* Segments and mappings read from, per input. */
#define FUZZ_CORE_READS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The mapped files: a pattern, failing at odd offsets. */
static int fuzz_file(void *arg, const struct maps_entry *me, uint64_t off,
		     void *buf, size_t len)
{
	(void)arg;
	(void)me;
	if (off & 1)
		return SS_EREAD;
	memset(buf, (int)(off & 0xff), len);
	return 0;
}

static void read_around(struct mem_reader *m, uint64_t addr)
{
	uint8_t buf[32];

	mem_read(m, addr, buf, sizeof(buf), NULL);
	mem_read(m, addr - 16, buf, sizeof(buf), NULL);
	mem_read(m, addr - 1, buf, 1, NULL);
}

static void exercise(struct core *c)
{
	struct mem_reader *m = core_mem_new(c, fuzz_file, NULL);
	struct mem_reader *bare = core_mem_new(c, NULL, NULL);
	uint8_t buf[64], b2[16];
	unsigned char id[64];
	struct mem_span spans[3];

	for (size_t i = 0; i < c->nsegs && i < FUZZ_CORE_READS; i++) {
		const struct core_segment *s = &c->segs[i];

		read_around(m, s->vaddr);
		read_around(m, s->vaddr + s->filesz);
		read_around(m, s->vaddr + s->memsz);
		read_around(bare, s->vaddr + s->filesz);
	}
	for (size_t i = 0; i < c->maps.n && i < FUZZ_CORE_READS; i++) {
		read_around(m, c->maps.e[i].lo);
		read_around(m, c->maps.e[i].hi);
		core_build_id(m, &c->maps.e[i], id, sizeof(id));
		core_build_id(bare, &c->maps.e[i], id, 20);
	}
	for (size_t i = 0; i < c->nthreads && i < FUZZ_CORE_READS; i++)
		read_around(m, c->threads[i].regs.rsp);
	if (c->nsegs) {
		spans[0] = (struct mem_span){ c->segs[0].vaddr, buf, 8, 0 };
		spans[1] = (struct mem_span){ c->si_fault_addr, buf + 8, 8, 0 };
		spans[2] = (struct mem_span){ c->segs[c->nsegs - 1].vaddr +
					      c->segs[c->nsegs - 1].memsz - 4,
					      b2, sizeof(b2), 0 };
		mem_read_spans(m, spans, 3);
	}
	mem_cache_enable(m, true);
	for (size_t i = 0; i < c->nsegs && i < FUZZ_CORE_READS; i++)
		read_around(m, c->segs[i].vaddr + 4090);
	core_read(c, c->size / 2, buf, sizeof(buf), NULL);
	mem_reader_free(bare);
	mem_reader_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct core *c;
	struct err e;

	if (fd < 0)
		fd = memfd_create("fuzz-core", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (core_open_fd(fd, "fuzz.core", FUZZ_CORE_MAX_DECOMPRESSED, &c,
			 &e) == 0) {
		exercise(c);
		core_free(c);
	}
	return 0;
}
