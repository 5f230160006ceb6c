/*
 * digraph.h - a directed graph in compressed form, its strongly connected
 * components, and shortest cycles: the one cycle finder behind await
 * cycles (task_graph.c) and lock cycles (snap_locks.c).  Everything is
 * iterative: a chain of 100,000 nodes is not a recursion.
 */
#ifndef SNAKESCOPE_DIGRAPH_H
#define SNAKESCOPE_DIGRAPH_H

#include <stdbool.h>
#include <stddef.h>

struct digraph_edge {
	size_t from, to;
};

struct digraph {
	size_t n;
	size_t *start;  /* edges of node i are adj[start[i]..start[i+1]) */
	size_t *adj;
	size_t *rstart; /* the reversed edges, likewise */
	size_t *radj;
};

/* Build g over nodes [0, n) from m edges (edges naming a node >= n are
 * dropped).  Free with digraph_free(). */
void digraph_build(struct digraph *g, size_t n,
		   const struct digraph_edge *edges, size_t m);
void digraph_free(struct digraph *g);

/* comp[i] = the strongly connected component of node i (n entries). */
void digraph_components(const struct digraph *g, size_t *comp);

/* Does node i have an edge to itself? */
bool digraph_self_loop(const struct digraph *g, size_t i);

/*
 * A shortest cycle through node s inside its component (BFS): its nodes
 * in edge order, s first, in *out (caller frees); their number, 0 when
 * s is on no cycle.
 */
size_t digraph_cycle_through(const struct digraph *g, const size_t *comp,
			     size_t s, size_t **out);

#endif
