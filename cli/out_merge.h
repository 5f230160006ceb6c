/*
 * out_merge.h - `snakescope merge`'s report of a merged tree
 * (model/merge.h), as text or JSON.  Both read a finished merge
 * (merge_finish() called) and append to sb; names from the documents are
 * escaped (common/escape.h).
 */
#ifndef SNAKESCOPE_OUT_MERGE_H
#define SNAKESCOPE_OUT_MERGE_H

#include "common/strbuf.h"
#include "model/merge.h"

/* A problem with one input, listed in the report. */
struct merge_problem {
	const char *source; /* "FILE:LINE" or "FILE" */
	const char *msg;
};

/*
 * The text report: a header (processes, hosts, threads), the groups of
 * alike processes with the odd ones out named, then the tree from the
 * root frame in, each frame with the processes that reach it, listed
 * where the set differs from the frame above.  Process lists are by
 * host, PIDs in runs, and hosts numbered in sequence with the same PIDs
 * as one item: "node[01-08]:4242", "box:101,103-105".
 */
void out_merge_text(struct strbuf *sb, const struct merge *m);

/* The JSON document (see README.md, "Many hosts"), newline-terminated;
 * 'problems' (n of them) are its "errors". */
void out_merge_json(struct strbuf *sb, const struct merge *m,
		    const struct merge_problem *problems, size_t n);

/* Append the list of processes idx[0..n) (indices into m->procs, any
 * order) in the compressed form above. */
void out_merge_procs(struct strbuf *sb, const struct merge *m,
		     const size_t *idx, size_t n);

#endif
