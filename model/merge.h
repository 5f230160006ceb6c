/*
 * merge.h - the Python stacks of many processes, on many hosts, as one
 * tree (STAT-style), and the processes grouped by their stacks.
 *
 * `snakescope merge` reads the dump --json documents gathered from many
 * machines (ssh, pdsh, kubectl exec, a scheduler's hook) and adds each
 * process here.  Every thread's Python stack, from its outermost frame
 * (the root) in, is a path in one prefix tree; each node knows the
 * processes that reach it and how many threads pass and end there, so a
 * rank stuck somewhere else than its peers is a branch of its own.
 *
 * Two frames are the same when their function, file and line are (as
 * thread_groups.h compares frames); two processes are alike when their
 * threads' stacks are the same, thread for thread in any order (the
 * multiset of the paths' ends).  Unlike thread_groups, thread states
 * are not compared: dumps of many hosts are taken at different moments,
 * and a state changes faster than a stack.
 *
 * Pure: reads parsed documents (common/jsonparse.h), keeps copies of
 * what it uses.  Everything in a document is untrusted: lengths were
 * bounded by the parser, the counts here (MERGE_MAX_*).
 */
#ifndef SNAKESCOPE_MERGE_H
#define SNAKESCOPE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/jsonparse.h"

#define MERGE_MAX_PROCS 100000   /* processes in one merge */
#define MERGE_MAX_NODES 1000000  /* distinct stack prefixes */
#define MERGE_MAX_FRAMES 4096    /* frames of one thread used */

#define MERGE_NONE SIZE_MAX

struct merge_proc {
	char *host;     /* NULL: unknown (a core) */
	int64_t pid;
	char *source;   /* where it was read ("FILE:LINE") */
	size_t nthreads;
	size_t *ends;   /* per thread, the node its stack ends at; sorted */
	size_t group;   /* its index in merge.groups (after merge_finish) */
};

struct merge_node {
	char *function; /* NULL at the root */
	char *filename;
	int64_t line;   /* -1: none */
	size_t parent;  /* MERGE_NONE at the root (node 0) */
	size_t first_child, next_sibling; /* MERGE_NONE: none; children in
					     the order first seen */
	size_t depth;   /* 0 at the root */
	size_t *procs;  /* processes that reach it: ascending, unique */
	size_t nprocs, procs_cap;
	size_t threads; /* threads whose stack passes through it */
	size_t ends;    /* threads whose stack ends here (innermost) */
};

struct merge_group {
	size_t *procs;  /* ascending */
	size_t n;
	bool odd;       /* not the largest group: an odd one out */
};

struct merge {
	struct merge_proc *procs;
	size_t nprocs, procs_cap;
	struct merge_node *nodes; /* nodes[0] is the root */
	size_t nnodes, nodes_cap;
	size_t nthreads;
	size_t repeats;    /* documents of a process already added */
	/* (host, pid) -> process, open addressing */
	size_t *seen;
	size_t seen_cap;
	/* merge_finish(): */
	struct merge_group *groups; /* largest first */
	size_t ngroups;
	size_t nhosts;     /* distinct host names (unknown counts once) */
};

void merge_init(struct merge *m);
void merge_release(struct merge *m);

/*
 * Add the processes of one document: a dump --json (or watch --json
 * line) document, or {"processes": [document...]}.  'source' names where
 * it was read, for the report (copied).  0: added (a process seen
 * before, same host and PID, is skipped and counted in m->repeats: watch
 * --json repeats a process; the first document of it counts);
 * SS_EINVAL: not such a document (e says why; nothing of it added);
 * SS_ELIMIT: over a bound.
 */
int merge_add(struct merge *m, const struct jv *doc, const char *source,
	      struct err *e);

/* Group the processes and count the hosts; call once, after the last
 * merge_add(). */
void merge_finish(struct merge *m);

/* Order of processes for reports: by host (unknown last), then PID. */
int merge_proc_cmp(const struct merge *m, size_t a, size_t b);

#endif
