/*
 * fuzz_objects.c - libFuzzer target: every object decoder (str, bytes,
 * int, float, dict, set, list, tuple, repr) on two roots and what they
 * contain, over a memory image (format in fuzz/harness.h).
 */
#include <config.h>

#include "fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_hdr h;
	struct mem_reader *m = fuzz_image_parse(data, size, &h);

	if (m) {
		fuzz_run(FUZZ_OBJECTS, m, &h);
		mem_reader_free(m);
	}
	return 0;
}
