/*
 * snap_locks.c - locks in a snapshot: names, lookups, and the wait-for
 * graph that turns "who holds what, who waits for what" into a verdict.
 *
 * The graph's nodes are parties (threads, then tasks).  A party that
 * waits for a lock with a known holder has an edge to the holder; a task
 * that awaits other tasks has edges to them.  A cycle through at least
 * one lock edge is a deadlock (pure await cycles are task_graph.c's); one
 * shortest cycle is reported per strongly connected component.  A
 * chain of lock edges that ends at a party waiting, with no timeout, on
 * something nobody holds (an Event no one sets, a Condition no one
 * notifies) is a likely hang.  Pure: reads no memory.
 */
#include <config.h>

#include "model/snapshot.h"
#include "common/digraph.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[SNAP_LOCK_TYPES] = {
	[SNAP_LOCK_NONE] = "",
	[SNAP_LOCK_LOCK] = "threading.Lock",
	[SNAP_LOCK_RLOCK] = "threading.RLock",
	[SNAP_LOCK_CONDITION] = "threading.Condition",
	[SNAP_LOCK_SEMAPHORE] = "threading.Semaphore",
	[SNAP_LOCK_BOUNDED_SEMAPHORE] = "threading.BoundedSemaphore",
	[SNAP_LOCK_EVENT] = "threading.Event",
	[SNAP_LOCK_BARRIER] = "threading.Barrier",
	[SNAP_LOCK_QUEUE] = "queue.Queue",
	[SNAP_LOCK_THREAD] = "thread",
	[SNAP_LOCK_IMPORT] = "import",
	[SNAP_LOCK_ASYNC_LOCK] = "asyncio.Lock",
	[SNAP_LOCK_ASYNC_SEMAPHORE] = "asyncio.Semaphore",
	[SNAP_LOCK_ASYNC_BOUNDED_SEMAPHORE] = "asyncio.BoundedSemaphore",
	[SNAP_LOCK_ASYNC_CONDITION] = "asyncio.Condition",
	[SNAP_LOCK_ASYNC_EVENT] = "asyncio.Event",
	[SNAP_LOCK_ASYNC_QUEUE] = "asyncio.Queue",
};

const char *snap_lock_type_name(int type)
{
	return type > 0 && type < SNAP_LOCK_TYPES ? type_names[type] : "?";
}

bool snap_lock_type_holderless(int type)
{
	switch (type) {
	case SNAP_LOCK_CONDITION:
	case SNAP_LOCK_SEMAPHORE:
	case SNAP_LOCK_BOUNDED_SEMAPHORE:
	case SNAP_LOCK_EVENT:
	case SNAP_LOCK_BARRIER:
	case SNAP_LOCK_QUEUE:
	case SNAP_LOCK_ASYNC_SEMAPHORE:
	case SNAP_LOCK_ASYNC_BOUNDED_SEMAPHORE:
	case SNAP_LOCK_ASYNC_CONDITION:
	case SNAP_LOCK_ASYNC_EVENT:
	case SNAP_LOCK_ASYNC_QUEUE:
		return true;
	default:
		return false;
	}
}

const char *snap_evidence_name(int evidence)
{
	switch (evidence) {
	case SNAP_EVIDENCE_OWNER: return "owner_field";
	case SNAP_EVIDENCE_WITH: return "with_statement";
	case SNAP_EVIDENCE_IMPORT: return "import_owner";
	case SNAP_EVIDENCE_THREAD: return "thread";
	default: return NULL;
	}
}

const char *snap_verdict_name(int verdict)
{
	switch (verdict) {
	case SNAP_VERDICT_DEADLOCK: return "deadlock";
	case SNAP_VERDICT_LIKELY_HANG: return "likely_hang";
	default: return "none";
	}
}

int snap_verdict(const struct snapshot *s)
{
	bool process_deadlock = false, process_hang = false;

	for (size_t i = 0; i < s->nproc_waits; i++) {
		process_deadlock |= s->proc_waits[i].deadlock;
		process_hang |= !s->proc_waits[i].deadlock;
	}
	if (s->ncycles || s->nlock_cycles || s->nexecutor_deadlocks ||
	    process_deadlock)
		return SNAP_VERDICT_DEADLOCK;
	if (s->nhangs || s->nblocked_loops || process_hang || s->ngil_held)
		return SNAP_VERDICT_LIKELY_HANG;
	return SNAP_VERDICT_NONE;
}

const struct snap_lock *snap_find_lock(const struct snapshot *s,
				       uint64_t address)
{
	size_t lo = 0, hi = s->nlocks;

	while (address && lo < hi) { /* s->locks is sorted by address */
		size_t mid = lo + (hi - lo) / 2;

		if (s->locks[mid].address == address)
			return &s->locks[mid];
		if (s->locks[mid].address < address)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct snap_thread *snap_party_thread(const struct snapshot *s,
					    const struct snap_party *who)
{
	for (size_t i = 0; !who->is_task && i < s->nthreads; i++)
		if (s->threads[i].thread_id == who->id)
			return &s->threads[i];
	return NULL;
}

const struct snap_task *snap_party_task(const struct snapshot *s,
					const struct snap_party *who)
{
	for (size_t i = 0; who->is_task && i < s->ntasks; i++)
		if (s->tasks[i].id == who->id)
			return &s->tasks[i];
	return NULL;
}

static void place_release(struct snap_place *pl)
{
	free(pl->function);
	free(pl->filename);
}

static void chains_release(struct snap_chain *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].links);
	free(c);
}

void snap_locks_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->nlocks; i++) {
		struct snap_lock *l = &s->locks[i];

		free(l->name);
		place_release(&l->held_since);
		for (size_t j = 0; j < l->nwaiters; j++)
			place_release(&l->waiters[j].at);
		free(l->waiters);
	}
	free(s->locks);
	chains_release(s->lock_cycles, s->nlock_cycles);
	chains_release(s->hangs, s->nhangs);
	s->locks = NULL;
	s->lock_cycles = s->hangs = NULL;
	s->nlocks = s->nlock_cycles = s->nhangs = 0;
}

/* ---- the wait-for graph -------------------------------------------- */

#define HANGS_MAX 64        /* hang chains reported */
#define CHAIN_MAX 1024      /* links of one hang chain */

/* A party and its wait: nodes are threads [0, nthreads), then tasks. */
struct node {
	struct snap_party who;
	uint64_t lock;      /* lock waited for (0: none) */
	bool timeout;       /* that wait has a timeout */
	size_t lock_to;     /* node of its holder, or SIZE_MAX */
	size_t nin;         /* lock edges into this node */
};

struct graph {
	struct node *v;
	size_t n, nthreads;
	struct digraph g;   /* lock edges and await edges */
};

struct party_index {
	bool is_task;
	uint64_t id;
	size_t node;
};

static int party_cmp(const void *x, const void *y)
{
	const struct party_index *a = x, *b = y;

	if (a->is_task != b->is_task)
		return a->is_task ? 1 : -1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static size_t node_of(const struct party_index *idx, size_t n,
		      const struct snap_party *who)
{
	struct party_index key = { who->is_task, who->id, 0 };
	const struct party_index *hit = bsearch(&key, idx, n, sizeof(key),
						party_cmp);

	return hit ? hit->node : SIZE_MAX;
}

static void edge_add(struct digraph_edge **e, size_t *n, size_t *cap,
		     size_t from, size_t to)
{
	*e = xgrow(*e, cap, *n + 1, sizeof(**e));
	(*e)[*n].from = from;
	(*e)[(*n)++].to = to;
}

static void build(struct graph *gr, const struct snapshot *s)
{
	struct party_index *idx;
	struct digraph_edge *edges = NULL;
	size_t nedges = 0, cap = 0;

	gr->nthreads = s->nthreads;
	gr->n = s->nthreads + s->ntasks;
	gr->v = xcalloc(gr->n + 1, sizeof(*gr->v));
	idx = xcalloc(gr->n + 1, sizeof(*idx));
	for (size_t i = 0; i < gr->n; i++) {
		struct node *nd = &gr->v[i];

		nd->who.is_task = i >= s->nthreads;
		nd->who.id = nd->who.is_task ? s->tasks[i - s->nthreads].id :
			     s->threads[i].thread_id;
		nd->lock = nd->who.is_task ? s->tasks[i - s->nthreads].waits_for :
			   s->threads[i].waits_for;
		nd->lock_to = SIZE_MAX;
		idx[i].is_task = nd->who.is_task;
		idx[i].id = nd->who.id;
		idx[i].node = i;
	}
	qsort(idx, gr->n, sizeof(*idx), party_cmp);
	for (size_t i = 0; i < s->nlocks; i++) {
		const struct snap_lock *l = &s->locks[i];

		for (size_t j = 0; j < l->nwaiters; j++) {
			size_t k = node_of(idx, gr->n, &l->waiters[j].who);

			if (k != SIZE_MAX && gr->v[k].lock == l->address)
				gr->v[k].timeout = l->waiters[j].timeout;
		}
	}
	for (size_t i = 0; i < gr->n; i++) {
		struct node *nd = &gr->v[i];
		const struct snap_lock *l = snap_find_lock(s, nd->lock);

		if (l) {
			if (l->has_holder)
				nd->lock_to = node_of(idx, gr->n, &l->holder);
			if (nd->lock_to != SIZE_MAX) {
				gr->v[nd->lock_to].nin++;
				edge_add(&edges, &nedges, &cap, i, nd->lock_to);
			}
		} else if (nd->who.is_task) {
			const struct snap_await *w =
				&s->tasks[i - s->nthreads].awaiting;

			for (size_t j = 0; j < w->ntasks; j++) {
				struct snap_party p = { true, w->tasks[j] };
				size_t to = node_of(idx, gr->n, &p);

				if (to != SIZE_MAX)
					edge_add(&edges, &nedges, &cap, i, to);
			}
		}
	}
	digraph_build(&gr->g, gr->n, edges, nedges);
	free(edges);
	free(idx);
}

static struct snap_chain *chain_add(struct snap_chain **v, size_t *n)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

/* A link per node; an await (no lock) has lock 0: the next party is the
 * task awaited. */
static void chain_fill(struct snap_chain *c, const struct graph *gr,
		       const size_t *nodes, size_t n, size_t first)
{
	c->links = xcalloc(n + 1, sizeof(*c->links));
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &gr->v[nodes[(first + i) % n]];

		c->links[i].who = nd->who;
		c->links[i].lock = nd->lock_to != SIZE_MAX ? nd->lock : 0;
	}
}

/* One cycle per component, through its first party that waits for a
 * lock (a cycle of awaits only is task_graph.c's). */
static void find_cycles(struct snapshot *s, const struct graph *gr,
			bool *in_cycle)
{
	size_t *comp = xcalloc(gr->n + 1, sizeof(*comp));
	bool *done = xcalloc(gr->n + 1, sizeof(*done));

	digraph_components(&gr->g, comp);
	for (size_t u = 0; u < gr->n; u++) {
		size_t *nodes = NULL, len, first = 0;

		if (gr->v[u].lock_to == SIZE_MAX || done[comp[u]] ||
		    comp[gr->v[u].lock_to] != comp[u])
			continue;
		len = digraph_cycle_through(&gr->g, comp, u, &nodes);
		if (!len)
			continue;
		done[comp[u]] = true;
		/* start at the lowest node: the same story every run */
		for (size_t i = 1; i < len; i++)
			if (nodes[i] < nodes[first])
				first = i;
		chain_fill(chain_add(&s->lock_cycles, &s->nlock_cycles), gr,
			   nodes, len, first);
		for (size_t i = 0; i < len; i++)
			in_cycle[nodes[i]] = true;
		free(nodes);
	}
	free(comp);
	free(done);
}

/*
 * From each waiter nobody waits for, along the holders of what each
 * waits for: a chain that ends at a party waiting, with no timeout, on
 * something nobody holds (no one in the chain waiting with a timeout).
 */
static void find_hangs(struct snapshot *s, const struct graph *gr,
		       const bool *in_cycle)
{
	size_t *chain = xcalloc(CHAIN_MAX + 1, sizeof(*chain));

	for (size_t u = 0; u < gr->n && s->nhangs < HANGS_MAX; u++) {
		size_t len = 0, v = u;
		bool timed = false;
		const struct snap_lock *last;

		if (gr->v[u].lock_to == SIZE_MAX || gr->v[u].nin || in_cycle[u])
			continue;
		while (len < CHAIN_MAX && !in_cycle[v]) {
			chain[len++] = v;
			timed |= gr->v[v].timeout;
			if (gr->v[v].lock_to == SIZE_MAX)
				break;
			v = gr->v[v].lock_to;
		}
		last = snap_find_lock(s, gr->v[v].lock);
		if (len < 2 || in_cycle[v] || timed || !last ||
		    gr->v[v].lock_to != SIZE_MAX ||
		    !snap_lock_type_holderless(last->type))
			continue;
		chain_fill(chain_add(&s->hangs, &s->nhangs), gr, chain, len, 0);
		/* the chain's last link waits for the holderless lock */
		s->hangs[s->nhangs - 1].links[len - 1].lock = gr->v[v].lock;
	}
	free(chain);
}

void snap_find_deadlocks(struct snapshot *s)
{
	struct graph gr;
	bool *in_cycle;

	build(&gr, s);
	in_cycle = xcalloc(gr.n + 1, sizeof(*in_cycle));
	find_cycles(s, &gr, in_cycle);
	find_hangs(s, &gr, in_cycle);
	free(in_cycle);
	digraph_free(&gr.g);
	free(gr.v);
}
