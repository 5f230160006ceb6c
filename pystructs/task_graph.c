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

#include "pystructs/asyncio.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct graph {
	size_t n;
	size_t *start;  /* CSR: edges of node i are adj[start[i]..start[i+1]) */
	size_t *adj;
	size_t *rstart; /* reversed edges */
	size_t *radj;
};

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

/* Build both edge arrays from awaited_by lists. */
static void graph_build(const struct snapshot *s, struct graph *g)
{
	size_t n = s->ntasks, m = 0, *deg, *rdeg;
	struct id_index *ids = xmalloc((n + 1) * sizeof(*ids));

	for (size_t i = 0; i < n; i++) {
		ids[i].id = s->tasks[i].id;
		ids[i].index = i;
		m += s->tasks[i].nawaited_by;
	}
	qsort(ids, n, sizeof(*ids), id_cmp);
	g->n = n;
	g->start = xcalloc(n + 1, sizeof(size_t));
	g->rstart = xcalloc(n + 1, sizeof(size_t));
	g->adj = xmalloc((m + 1) * sizeof(size_t));
	g->radj = xmalloc((m + 1) * sizeof(size_t));
	deg = xcalloc(n + 1, sizeof(size_t));
	rdeg = xcalloc(n + 1, sizeof(size_t));
	/* count, then place: edge awaiter -> awaited */
	for (size_t j = 0; j < n; j++) {
		for (size_t k = 0; k < s->tasks[j].nawaited_by; k++) {
			size_t i;

			if (find_index(ids, n, s->tasks[j].awaited_by[k], &i)) {
				g->start[i + 1]++;
				g->rstart[j + 1]++;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		g->start[i + 1] += g->start[i];
		g->rstart[i + 1] += g->rstart[i];
	}
	for (size_t j = 0; j < n; j++) {
		for (size_t k = 0; k < s->tasks[j].nawaited_by; k++) {
			size_t i;

			if (!find_index(ids, n, s->tasks[j].awaited_by[k], &i))
				continue;
			g->adj[g->start[i] + deg[i]++] = j;
			g->radj[g->rstart[j] + rdeg[j]++] = i;
		}
	}
	free(deg);
	free(rdeg);
	free(ids);
}

static void graph_free(struct graph *g)
{
	free(g->start);
	free(g->adj);
	free(g->rstart);
	free(g->radj);
}

/* Kosaraju: comp[i] = component number of node i. */
static void components(const struct graph *g, size_t *comp)
{
	size_t n = g->n, norder = 0, top;
	size_t *order = xmalloc((n + 1) * sizeof(size_t));
	size_t *stack = xmalloc((n + 1) * sizeof(size_t));
	size_t *next = xcalloc(n + 1, sizeof(size_t));
	bool *seen = xcalloc(n + 1, sizeof(bool));

	/* pass 1: finishing order on the forward graph */
	for (size_t r = 0; r < n; r++) {
		if (seen[r])
			continue;
		top = 0;
		stack[top++] = r;
		seen[r] = true;
		next[r] = g->start[r];
		while (top) {
			size_t v = stack[top - 1];

			if (next[v] < g->start[v + 1]) {
				size_t w = g->adj[next[v]++];

				if (!seen[w]) {
					seen[w] = true;
					next[w] = g->start[w];
					stack[top++] = w;
				}
			} else {
				order[norder++] = v;
				top--;
			}
		}
	}
	/* pass 2: reversed graph in reverse finishing order */
	for (size_t i = 0; i < n; i++)
		comp[i] = (size_t)-1;
	for (size_t c = 0, oi = norder; oi-- > 0;) {
		size_t r = order[oi];

		if (comp[r] != (size_t)-1)
			continue;
		top = 0;
		stack[top++] = r;
		comp[r] = c;
		while (top) {
			size_t v = stack[--top];

			for (size_t k = g->rstart[v]; k < g->rstart[v + 1]; k++) {
				size_t w = g->radj[k];

				if (comp[w] == (size_t)-1) {
					comp[w] = c;
					stack[top++] = w;
				}
			}
		}
		c++;
	}
	free(order);
	free(stack);
	free(next);
	free(seen);
}

/* Shortest cycle through s inside its component (BFS); its nodes in
 * await order into *out (caller frees), their number returned. */
static size_t cycle_through(const struct graph *g, const size_t *comp,
			    size_t s, size_t **out)
{
	size_t n = g->n, head = 0, tail = 0, len = 0, end = (size_t)-1;
	size_t *queue = xmalloc((n + 1) * sizeof(size_t));
	size_t *parent = xmalloc((n + 1) * sizeof(size_t));

	for (size_t i = 0; i < n; i++)
		parent[i] = (size_t)-1;
	queue[tail++] = s;
	while (head < tail && end == (size_t)-1) {
		size_t v = queue[head++];

		for (size_t k = g->start[v]; k < g->start[v + 1]; k++) {
			size_t w = g->adj[k];

			if (comp[w] != comp[s])
				continue;
			if (w == s) {
				end = v;
				break;
			}
			if (parent[w] == (size_t)-1) {
				parent[w] = v;
				queue[tail++] = w;
			}
		}
	}
	if (end != (size_t)-1) {
		for (size_t v = end; ; v = parent[v]) {
			len++;
			if (v == s)
				break;
		}
		*out = xmalloc(len * sizeof(size_t));
		for (size_t v = end, i = len; ; v = parent[v]) {
			(*out)[--i] = v;
			if (v == s)
				break;
		}
	}
	free(queue);
	free(parent);
	return len;
}

void snap_find_cycles(struct snapshot *s)
{
	struct graph g;
	size_t *comp, *size;
	bool *done;

	if (s->ntasks == 0)
		return;
	graph_build(s, &g);
	comp = xmalloc(g.n * sizeof(size_t));
	size = xcalloc(g.n + 1, sizeof(size_t));
	done = xcalloc(g.n + 1, sizeof(bool));
	components(&g, comp);
	for (size_t i = 0; i < g.n; i++)
		size[comp[i]]++;
	for (size_t i = 0; i < g.n; i++) {
		bool self_loop = false;
		size_t *nodes = NULL, len;
		struct snap_cycle *c;

		for (size_t k = g.start[i]; k < g.start[i + 1]; k++)
			self_loop |= g.adj[k] == i;
		/* one cycle per component, through its first task */
		if ((size[comp[i]] < 2 && !self_loop) || done[comp[i]])
			continue;
		done[comp[i]] = true;
		len = cycle_through(&g, comp, i, &nodes);
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
	graph_free(&g);
}
