#include <config.h>

#include "common/digraph.h"
#include "common/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>

void digraph_build(struct digraph *g, size_t n,
		   const struct digraph_edge *edges, size_t m)
{
	size_t *deg = xcalloc(n + 1, sizeof(size_t));
	size_t *rdeg = xcalloc(n + 1, sizeof(size_t));

	g->n = n;
	g->start = xcalloc(n + 2, sizeof(size_t));
	g->rstart = xcalloc(n + 2, sizeof(size_t));
	g->adj = xmalloc((m + 1) * sizeof(size_t));
	g->radj = xmalloc((m + 1) * sizeof(size_t));
	/* count, then place */
	for (size_t k = 0; k < m; k++) {
		if (edges[k].from >= n || edges[k].to >= n)
			continue;
		g->start[edges[k].from + 1]++;
		g->rstart[edges[k].to + 1]++;
	}
	for (size_t i = 0; i < n; i++) {
		g->start[i + 1] += g->start[i];
		g->rstart[i + 1] += g->rstart[i];
	}
	for (size_t k = 0; k < m; k++) {
		size_t a = edges[k].from, b = edges[k].to;

		if (a >= n || b >= n)
			continue;
		g->adj[g->start[a] + deg[a]++] = b;
		g->radj[g->rstart[b] + rdeg[b]++] = a;
	}
	free(deg);
	free(rdeg);
}

void digraph_free(struct digraph *g)
{
	free(g->start);
	free(g->adj);
	free(g->rstart);
	free(g->radj);
	g->start = g->adj = g->rstart = g->radj = NULL;
}

bool digraph_self_loop(const struct digraph *g, size_t i)
{
	for (size_t k = g->start[i]; k < g->start[i + 1]; k++)
		if (g->adj[k] == i)
			return true;
	return false;
}

/* Kosaraju: comp[i] = component number of node i. */
void digraph_components(const struct digraph *g, size_t *comp)
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

size_t digraph_cycle_through(const struct digraph *g, const size_t *comp,
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

