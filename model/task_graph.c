/*
 * task_graph.c - await cycles among the tasks of a snapshot.
 *
 * Edges go from an awaiting task to the task it awaits (the reverse of
 * awaited_by).  Every strongly connected component with more than one
 * task, or a task that awaits itself, holds at least one cycle; one
 * shortest cycle through its first task is reported per component.
 * Everything is iterative: a chain of 100,000 tasks is not a recursion.
 */
#include <config.h>

#include "model/snapshot.h"
#include "common/digraph.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct id_index {
	uint64_t id;
	size_t index;
};

static int id_cmp(const void *x, const void *y)
{
	const struct id_index *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

static bool find_index(const struct id_index *ids, size_t n, uint64_t id,
		       size_t *index)
{
	struct id_index key = { id, 0 };
	const struct id_index *hit = bsearch(&key, ids, n, sizeof(key), id_cmp);

	if (hit)
		*index = hit->index;
	return hit != NULL;
}

/* The graph of awaits: an edge from an awaiting task to the task it
 * awaits (the reverse of awaited_by). */
static void graph_build(const struct snapshot *s, struct digraph *g)
{
	size_t n = s->ntasks, m = 0;
	struct id_index *ids = xmalloc((n + 1) * sizeof(*ids));
	struct digraph_edge *edges;

	for (size_t i = 0; i < n; i++) {
		ids[i].id = s->tasks[i].id;
		ids[i].index = i;
		m += s->tasks[i].nawaited_by;
	}
	qsort(ids, n, sizeof(*ids), id_cmp);
	edges = xmalloc((m + 1) * sizeof(*edges));
	m = 0;
	for (size_t j = 0; j < n; j++) {
		for (size_t k = 0; k < s->tasks[j].nawaited_by; k++) {
			size_t i;

			if (find_index(ids, n, s->tasks[j].awaited_by[k], &i)) {
				edges[m].from = i;
				edges[m++].to = j;
			}
		}
	}
	digraph_build(g, n, edges, m);
	free(edges);
	free(ids);
}

void snap_find_cycles(struct snapshot *s)
{
	struct digraph g;
	size_t *comp, *size;
	bool *done;

	if (s->ntasks == 0)
		return;
	graph_build(s, &g);
	comp = xmalloc(g.n * sizeof(size_t));
	size = xcalloc(g.n + 1, sizeof(size_t));
	done = xcalloc(g.n + 1, sizeof(bool));
	digraph_components(&g, comp);
	for (size_t i = 0; i < g.n; i++)
		size[comp[i]]++;
	for (size_t i = 0; i < g.n; i++) {
		bool self_loop = digraph_self_loop(&g, i);
		size_t *nodes = NULL, len;
		struct snap_cycle *c;

		/* one cycle per component, through its first task */
		if ((size[comp[i]] < 2 && !self_loop) || done[comp[i]])
			continue;
		done[comp[i]] = true;
		len = digraph_cycle_through(&g, comp, i, &nodes);
		if (!len)
			continue;
		s->cycles = xrealloc(s->cycles, (s->ncycles + 1) *
				     sizeof(*s->cycles));
		c = &s->cycles[s->ncycles++];
		c->n = len;
		c->tasks = xmalloc(len * sizeof(uint64_t));
		for (size_t k = 0; k < len; k++)
			c->tasks[k] = s->tasks[nodes[k]].id;
		free(nodes);
	}
	free(comp);
	free(size);
	free(done);
	digraph_free(&g);
}
