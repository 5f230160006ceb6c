/*
 * fuzz_merge.c - libFuzzer target: `snakescope merge`'s reader of
 * documents from other machines (common/jsonparse.h: every document in
 * the input, resynchronising after an error, as cmd_merge.c does) and the
 * merge of what parses (model/merge.h).  An input is the text of a file
 * given to merge.
 */
#include <config.h>

#include <stdint.h>
#include <stddef.h>

#include "common/jsonparse.h"
#include "model/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonparse p;
	struct merge m;
	struct err e;

	merge_init(&m);
	jsonparse_init(&p, (const char *)data, size);
	while (!jsonparse_at_end(&p)) {
		struct jv *doc;

		if (jsonparse_next(&p, &doc, &e)) {
			jsonparse_resync(&p);
			continue;
		}
		merge_add(&m, doc, "fuzz", &e);
		jv_free(doc);
	}
	merge_finish(&m);
	merge_release(&m);
	return 0;
}
