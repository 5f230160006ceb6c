/*
 * out.h - writers: render a snapshot.  They only format; they never read
 * the target.
 */
#ifndef SNAKESCOPE_OUT_H
#define SNAKESCOPE_OUT_H

#include <stdbool.h>

#include "common/strbuf.h"
#include "pystructs/snapshot.h"

struct out_opts {
	bool color; /* ANSI colour (decided by the caller: TTY, NO_COLOR) */
};

/* Human-readable dump, traceback style, innermost frame first. */
void out_text_dump(struct strbuf *sb, const struct snapshot *s,
		   const struct out_opts *o);

/* One JSON document (see README.md for the schema), newline-terminated. */
void out_json_dump(struct strbuf *sb, const struct snapshot *s);

#endif
