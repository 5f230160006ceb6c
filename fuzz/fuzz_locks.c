/*
 * fuzz_locks.c - libFuzzer target: threads, tasks (and blocked loops),
 * then locks, concurrent.futures and the deadlock analyses, over a memory
 * image (format in fuzz/harness.h).
 */
#include <config.h>

#include "fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_hdr h;
	struct mem_reader *m = fuzz_image_parse(data, size, &h);

	if (m) {
		fuzz_run(FUZZ_LOCKS, m, &h);
		mem_reader_free(m);
	}
	return 0;
}
