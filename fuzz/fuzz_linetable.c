/*
 * fuzz_linetable.c - libFuzzer target: every line-table decoder
 * (pystructs/linetable.h) over one table (format in fuzz/harness.h).
 */
#include <config.h>

#include "fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run_linetable(data, size);
	return 0;
}
