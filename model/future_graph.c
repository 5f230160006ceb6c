/*
 * future_graph.c - threads that wait for concurrent.futures that only
 * they could run.
 *
 * A thread in Future.result() waits for whoever runs that work item: the
 * worker running it, or, while it is queued, any worker of its executor
 * (the first that comes back to the queue takes it).  That is an AND-OR
 * wait: a thread is stuck when the one worker running its future is
 * stuck, or when every worker of the executor holding it queued is.  The
 * stuck set is the greatest fixed point: start from every thread that
 * waits without a timeout and free, until nothing changes, each thread
 * whose future a free thread runs or could take, or whose future no
 * worker runs or holds (a Future someone else will set, a process pool:
 * no verdict).  What stays is blocked for good.  A pool whose one worker
 * waits for an item it submitted to its own queue is the smallest case;
 * an event loop's thread waiting in run_coroutine_threadsafe(...,
 * loop).result() for a coroutine its own loop would start is another
 * (the callback that starts it is an item run by the loop's thread).
 *
 * asyncio's bridges join tasks to it: a task awaiting a future chained
 * to a concurrent.futures.Future (run_in_executor(), to_thread()) waits
 * like a thread in result(); a future of run_coroutine_threadsafe() with
 * no work item is set when its task ends, so whoever waits for it waits
 * for that task; a task awaiting one task waits for it; a thread waiting
 * for a threading Lock or RLock (no timeout) waits for its holder.  A
 * cycle through them (a worker waiting for a task that awaits the
 * worker's own item) stays stuck the same way.
 */
#include <config.h>

#include "model/snapshot.h"
#include "common/digraph.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct snap_work *snap_add_work(struct snapshot *s)
{
	s->works = xgrow(s->works, &s->works_cap, s->nworks + 1,
			 sizeof(*s->works));
	memset(&s->works[s->nworks], 0, sizeof(*s->works));
	return &s->works[s->nworks++];
}

const struct snap_work *snap_find_work(const struct snapshot *s,
				       uint64_t future)
{
	const struct snap_work *queued = NULL;

	/* A running item wins over a stale copy of it still queued. */
	for (size_t i = 0; future && i < s->nworks; i++) {
		if (s->works[i].future != future)
			continue;
		if (s->works[i].running)
			return &s->works[i];
		if (!queued)
			queued = &s->works[i];
	}
	return queued;
}

const struct snap_frame *snap_thread_user_frame(const struct snap_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const char *fn = t->frames[i].filename;

		if (fn && !str_ends_with(fn, "/threading.py") &&
		    !strstr(fn, "/concurrent/futures/"))
			return &t->frames[i];
	}
	return NULL;
}

const struct snap_frame *snap_task_user_frame(const struct snap_task *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		const char *fn = t->frames[i].filename;

		if (fn && !strstr(fn, "/asyncio/"))
			return &t->frames[i];
	}
	return NULL;
}

void snap_add_loop_works(struct snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		uint64_t fut = s->threads[i].waits_future;

		if (!fut || snap_find_work(s, fut))
			continue;
		for (size_t l = 0; l < s->nloops; l++) {
			const struct snap_loop *lp = &s->loops[l];
			bool held = false;

			for (size_t k = 0; k < lp->nready_refs && !held; k++)
				held = lp->ready_refs[k] == fut;
			if (held && lp->has_thread) {
				struct snap_work *w = snap_add_work(s);

				w->future = fut;
				w->running = true;
				w->thread_id = lp->thread_id;
				w->loop = lp->id;
				break;
			}
		}
	}
}

/* ---- lookups ------------------------------------------------------ */

struct id_index {
	uint64_t id;
	size_t index;
};

static int id_cmp(const void *x, const void *y)
{
	const struct id_index *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* The index of 'id' in the sorted ids, or (size_t)-1 (id 0: none). */
static size_t id_find(const struct id_index *ids, size_t n, uint64_t id)
{
	struct id_index key = { id, 0 };
	const struct id_index *hit;

	if (!id || !n)
		return (size_t)-1;
	hit = bsearch(&key, ids, n, sizeof(key), id_cmp);
	return hit ? hit->index : (size_t)-1;
}

/*
 * The fixed point's graph.  Nodes: the threads [0, nt), then the tasks
 * [nt, nt + nk).  A waiting node has groups, one per future (or lock, or
 * awaited task) it waits for; a group is free when one of its members
 * is (the worker running the future, any worker of the pool queueing
 * it, the task setting it, the lock's holder, the awaited task), or when
 * it has none (nobody known runs it: someone else may).  A node is free
 * when all its groups are, or one of them with waits_any.
 */
struct fp {
	const struct snapshot *s;
	size_t nt, nk;
	struct id_index *threads, *tasks, *setters; /* sorted by id, by
						       sets_future */
	size_t nsetters;
	size_t *holder;          /* per thread: its lock's holder's node, or
				    (size_t)-1 */
	uint64_t *lock;          /* per thread: that lock */
	bool *waits;             /* per node: a candidate */
	bool *any;               /* per node: one free group is enough */
	size_t *gstart;          /* node i's groups: [gstart[i], gstart[i+1]) */
	size_t *mstart;          /* group g's members: [mstart[g], mstart[g+1]) */
	size_t *members;
	size_t ngroups, nmembers, gcap, mcap;
	bool *stuck;
};

static size_t thread_node(const struct fp *f, uint64_t thread_id)
{
	return id_find(f->threads, f->nt, thread_id);
}

static size_t task_node(const struct fp *f, uint64_t id)
{
	size_t k = id_find(f->tasks, f->nk, id);

	return k == (size_t)-1 ? k : f->nt + k;
}

/* The node of the task whose end sets 'future', or (size_t)-1. */
static size_t setter_node(const struct fp *f, uint64_t future)
{
	size_t k = id_find(f->setters, f->nsetters, future);

	return k == (size_t)-1 ? k : f->nt + k;
}

static void add_member(struct fp *f, size_t node)
{
	if (node == (size_t)-1)
		return;
	f->members = xgrow(f->members, &f->mcap, f->nmembers + 1,
			   sizeof(*f->members));
	f->members[f->nmembers++] = node;
}

static void begin_group(struct fp *f)
{
	f->mstart = xgrow(f->mstart, &f->gcap, f->ngroups + 2,
			  sizeof(*f->mstart));
	f->mstart[f->ngroups++] = f->nmembers;
	f->mstart[f->ngroups] = f->nmembers;
}

static void end_group(struct fp *f)
{
	f->mstart[f->ngroups] = f->nmembers;
}

/* A group for 'future': who runs it, the pool's workers, or its task. */
static void future_group(struct fp *f, uint64_t future)
{
	const struct snapshot *s = f->s;
	const struct snap_work *w = snap_find_work(s, future);

	begin_group(f);
	if (!w)
		add_member(f, setter_node(f, future));
	else if (w->running)
		add_member(f, thread_node(f, w->thread_id));
	else if (w->executor)
		for (size_t u = 0; u < s->nthreads; u++)
			if (s->threads[u].executor == w->executor)
				add_member(f, u);
	end_group(f);
}

/* Each thread's lock holder: a Lock or RLock held by a thread, waited
 * for with no timeout (one pass over the locks' waiters). */
static void lock_holders(struct fp *f)
{
	const struct snapshot *s = f->s;

	for (size_t i = 0; i < f->nt; i++)
		f->holder[i] = (size_t)-1;
	for (size_t k = 0; k < s->nlocks; k++) {
		const struct snap_lock *l = &s->locks[k];

		if (!l->has_holder || l->holder.is_task ||
		    snap_lock_type_holderless(l->type))
			continue;
		for (size_t w = 0; w < l->nwaiters; w++) {
			const struct snap_lock_waiter *lw = &l->waiters[w];
			size_t i;

			if (lw->who.is_task || lw->timeout ||
			    (i = thread_node(f, lw->who.id)) == (size_t)-1 ||
			    s->threads[i].waits_for != l->address ||
			    s->threads[i].waits_future ||
			    s->threads[i].nwaits_futures)
				continue;
			f->holder[i] = thread_node(f, l->holder.id);
			f->lock[i] = l->address;
		}
	}
}

static void build(struct fp *f, const struct snapshot *s)
{
	size_t n;

	memset(f, 0, sizeof(*f));
	f->s = s;
	f->nt = s->nthreads;
	f->nk = s->ntasks;
	n = f->nt + f->nk;
	f->threads = xmalloc((f->nt + 1) * sizeof(*f->threads));
	f->tasks = xmalloc((f->nk + 1) * sizeof(*f->tasks));
	f->setters = xmalloc((f->nk + 1) * sizeof(*f->setters));
	for (size_t i = 0; i < f->nt; i++)
		f->threads[i] = (struct id_index){ s->threads[i].thread_id, i };
	for (size_t i = 0; i < f->nk; i++) {
		f->tasks[i] = (struct id_index){ s->tasks[i].id, i };
		if (s->tasks[i].sets_future)
			f->setters[f->nsetters++] = (struct id_index){
				s->tasks[i].sets_future, i };
	}
	qsort(f->threads, f->nt, sizeof(*f->threads), id_cmp);
	qsort(f->tasks, f->nk, sizeof(*f->tasks), id_cmp);
	qsort(f->setters, f->nsetters, sizeof(*f->setters), id_cmp);
	f->holder = xcalloc(f->nt + 1, sizeof(*f->holder));
	f->lock = xcalloc(f->nt + 1, sizeof(*f->lock));
	f->waits = xcalloc(n + 1, sizeof(*f->waits));
	f->any = xcalloc(n + 1, sizeof(*f->any));
	f->stuck = xcalloc(n + 1, sizeof(*f->stuck));
	f->gstart = xcalloc(n + 1, sizeof(*f->gstart));
	lock_holders(f);
	for (size_t i = 0; i < n; i++) {
		f->gstart[i] = f->ngroups;
		if (i < f->nt) {
			const struct snap_thread *t = &s->threads[i];

			if (t->waits_future && !t->future_timeout) {
				future_group(f, t->waits_future);
			} else if (t->nwaits_futures && !t->future_timeout) {
				for (size_t k = 0; k < t->nwaits_futures; k++)
					future_group(f, t->waits_futures[k]);
				f->any[i] = t->waits_any;
			} else if (f->holder[i] != (size_t)-1) {
				begin_group(f);
				add_member(f, f->holder[i]);
				end_group(f);
			} else {
				continue;
			}
		} else {
			const struct snap_task *t = &s->tasks[i - f->nt];
			const struct snap_await *w = &t->awaiting;

			if (t->state != SNAP_TASK_WAITING)
				continue;
			if (w->cfuture) {
				future_group(f, w->cfuture);
			} else if (w->kind == SNAP_AWAIT_TASK &&
				   w->ntasks == 1) {
				begin_group(f);
				add_member(f, task_node(f, w->tasks[0]));
				end_group(f);
			} else {
				continue;
			}
		}
		f->waits[i] = f->stuck[i] = true;
	}
	f->gstart[n] = f->ngroups;
}

static void fp_free(struct fp *f)
{
	free(f->threads);
	free(f->tasks);
	free(f->setters);
	free(f->holder);
	free(f->lock);
	free(f->waits);
	free(f->any);
	free(f->stuck);
	free(f->gstart);
	free(f->mstart);
	free(f->members);
}

static bool group_free(const struct fp *f, size_t g)
{
	if (f->mstart[g] == f->mstart[g + 1])
		return true;
	for (size_t m = f->mstart[g]; m < f->mstart[g + 1]; m++)
		if (!f->stuck[f->members[m]])
			return true;
	return false;
}

/* The first group of node i that keeps it waiting, or (size_t)-1 when it
 * goes on. */
static size_t blocking_group(const struct fp *f, size_t i)
{
	size_t first = (size_t)-1;

	for (size_t g = f->gstart[i]; g < f->gstart[i + 1]; g++) {
		bool free_g = group_free(f, g);

		if (free_g && f->any[i])
			return (size_t)-1;
		if (!free_g && first == (size_t)-1)
			first = g;
		if (!free_g && !f->any[i])
			return first;
	}
	return first;
}

/*
 * The greatest fixed point, by a worklist: every candidate starts stuck;
 * a node found free frees nothing by itself, but its waiters are looked
 * at again.  Each node is looked at once plus once per member naming
 * it: linear in the graph, a chain of 100,000 is no quadratic walk.
 */
static void solve(struct fp *f)
{
	size_t n = f->nt + f->nk, nwork = 0;
	struct digraph g;
	struct digraph_edge *edges;
	size_t *work;

	/* member -> the node waiting on it */
	edges = xmalloc((f->nmembers + 1) * sizeof(*edges));
	for (size_t i = 0; i < n; i++)
		for (size_t gi = f->gstart[i]; gi < f->gstart[i + 1]; gi++)
			for (size_t m = f->mstart[gi]; m < f->mstart[gi + 1];
			     m++)
				edges[m] = (struct digraph_edge){
					f->members[m], i };
	digraph_build(&g, n, edges, f->nmembers);
	free(edges);
	work = xmalloc((n + f->nmembers + 1) * sizeof(*work));
	for (size_t i = n; i-- > 0;)
		if (f->stuck[i])
			work[nwork++] = i;
	while (nwork) {
		size_t i = work[--nwork];

		if (!f->stuck[i] || blocking_group(f, i) != (size_t)-1)
			continue;
		f->stuck[i] = false;
		for (size_t e = g.start[i]; e < g.start[i + 1]; e++)
			if (f->stuck[g.adj[e]])
				work[nwork++] = g.adj[e];
	}
	free(work);
	digraph_free(&g);
}

/*
 * Clear the stuck lock waiters whose holders do not lead to a thread
 * stuck on a future (a lock cycle of their own).  Each chain is walked
 * once: reach[] remembers the answer of every thread on it.
 */
static void drop_lock_only(struct fp *f)
{
	enum { UNKNOWN = 0, WALKING, YES, NO };
	unsigned char *reach = xcalloc(f->nt + 1, 1);
	size_t *path = xmalloc((f->nt + 1) * sizeof(*path));

	for (size_t i = 0; i < f->nt; i++) {
		size_t np = 0, j = i;
		unsigned char r;

		while (reach[j] == UNKNOWN && f->holder[j] != (size_t)-1) {
			reach[j] = WALKING;
			path[np++] = j;
			j = f->holder[j];
		}
		if (reach[j] == UNKNOWN)     /* the end: a future's waiter? */
			reach[j] = f->stuck[j] && f->holder[j] == (size_t)-1 &&
				   f->waits[j] ? YES : NO;
		r = reach[j] == YES ? YES : NO; /* WALKING: a cycle */
		while (np)
			reach[path[--np]] = r;
	}
	for (size_t i = 0; i < f->nt; i++)
		if (f->holder[i] != (size_t)-1 && reach[i] != YES)
			f->stuck[i] = false;
	free(reach);
	free(path);
}

/* Who would end a wait for 'future': its worker (or loop), its pool, or
 * its task. */
static void describe_future(const struct fp *f, uint64_t future,
			    struct snap_future_wait *fw)
{
	const struct snap_work *w = snap_find_work(f->s, future);
	size_t k;

	fw->future = future;
	if (w && w->running) {
		fw->run_by = w->thread_id;
		fw->loop = w->loop;
	} else if (w) {
		fw->executor = w->executor;
	} else if ((k = setter_node(f, future)) != (size_t)-1) {
		fw->set_by_task = f->s->tasks[k - f->nt].id;
	}
}

static void describe(const struct fp *f, size_t i,
		     struct snap_future_wait *fw)
{
	const struct snapshot *s = f->s;
	size_t g = blocking_group(f, i);

	if (i < f->nt) {
		const struct snap_thread *t = &s->threads[i];

		fw->thread_id = t->thread_id;
		if (t->waits_future)
			describe_future(f, t->waits_future, fw);
		else if (t->nwaits_futures && g != (size_t)-1)
			describe_future(f, t->waits_futures[g - f->gstart[i]],
					fw);
		else if (f->holder[i] != (size_t)-1) {
			fw->lock = f->lock[i];
			fw->held_by = s->threads[f->holder[i]].thread_id;
		}
		return;
	}
	{
		const struct snap_task *t = &s->tasks[i - f->nt];

		fw->task = t->id;
		fw->thread_id = t->has_thread ? t->thread_id : 0;
		if (t->awaiting.cfuture)
			describe_future(f, t->awaiting.cfuture, fw);
		else
			fw->awaits_task = t->awaiting.tasks[0];
	}
}

void snap_find_executor_deadlocks(struct snapshot *s)
{
	struct snap_executor_deadlock *d;
	bool bridged = false;
	struct fp f;
	size_t n = 0;

	for (size_t i = 0; i < s->nexecutor_deadlocks; i++)
		free(s->executor_deadlocks[i].waits);
	free(s->executor_deadlocks);
	s->executor_deadlocks = NULL;
	s->nexecutor_deadlocks = 0;
	build(&f, s);
	solve(&f);
	/* A lock waiter only behind a thread stuck on a future (a plain lock
	 * cycle is snap_locks.c's); tasks that only await tasks are await
	 * cycles (task_graph.c): here only with a thread or a bridge. */
	drop_lock_only(&f);
	for (size_t i = 0; i < f.nt + f.nk; i++) {
		if (!f.stuck[i])
			continue;
		n++;
		bridged = bridged || (i < f.nt ?
				      s->threads[i].waits_future ||
				      s->threads[i].nwaits_futures :
				      s->tasks[i - f.nt].awaiting.cfuture);
	}
	if (n && bridged) {
		d = s->executor_deadlocks = xcalloc(1, sizeof(*d));
		s->nexecutor_deadlocks = 1;
		d->waits = xcalloc(n, sizeof(*d->waits));
		for (size_t i = 0; i < f.nt + f.nk; i++)
			if (f.stuck[i])
				describe(&f, i, &d->waits[d->n++]);
	}
	fp_free(&f);
}
