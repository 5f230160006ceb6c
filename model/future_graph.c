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
 * for that task; a task awaiting one task waits for it.  A cycle through
 * them (a worker waiting for a task that awaits the worker's own item)
 * stays stuck the same way.
 */
#include <config.h>

#include "model/snapshot.h"
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

static size_t thread_index(const struct snapshot *s, uint64_t thread_id)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].thread_id == thread_id)
			return i;
	return (size_t)-1;
}

static size_t task_index(const struct snapshot *s, uint64_t id)
{
	for (size_t i = 0; id && i < s->ntasks; i++)
		if (s->tasks[i].id == id)
			return i;
	return (size_t)-1;
}

/* The task whose end sets 'future' (run_coroutine_threadsafe()), or -1. */
static size_t setter_task(const struct snapshot *s, uint64_t future)
{
	for (size_t i = 0; future && i < s->ntasks; i++)
		if (s->tasks[i].sets_future == future)
			return i;
	return (size_t)-1;
}

/* The thread holding the lock thread i waits for, for good (a Lock or
 * RLock whose holder is a thread, no timeout), or (size_t)-1; its
 * address in *lock. */
static size_t lock_holder(const struct snapshot *s, size_t i, uint64_t *lock)
{
	const struct snap_thread *t = &s->threads[i];
	const struct snap_lock *l = snap_find_lock(s, t->waits_for);
	struct snap_party me = { false, t->thread_id };

	if (t->waits_future || t->nwaits_futures || !l || !l->has_holder ||
	    l->holder.is_task || snap_lock_type_holderless(l->type))
		return (size_t)-1;
	for (size_t k = 0; k < l->nwaiters; k++)
		if (snap_same_party(&l->waiters[k].who, &me) &&
		    l->waiters[k].timeout)
			return (size_t)-1;
	*lock = l->address;
	return thread_index(s, l->holder.id);
}

/* The parties of the fixed point: the threads, then the tasks. */
struct stuck {
	bool *thread;
	bool *task;
};

/* Will 'future' be run by a thread (or set by a task) not (yet) found
 * stuck? */
static bool future_free(const struct snapshot *s, const struct stuck *st,
			uint64_t future)
{
	const struct snap_work *w = snap_find_work(s, future);
	bool any = false;
	size_t k;

	if (!w) {
		k = setter_task(s, future);
		return k == (size_t)-1 || !st->task[k];
	}
	if (w->running) {
		size_t u = thread_index(s, w->thread_id);

		return u == (size_t)-1 || !st->thread[u];
	}
	if (!w->executor)
		return true;
	for (size_t u = 0; u < s->nthreads; u++) {
		if (s->threads[u].executor != w->executor)
			continue;
		any = true;
		if (!st->thread[u])
			return true;
	}
	/* No worker seen: the pool is shut down, or starts one later. */
	return !any;
}

/* The future that keeps thread i waiting, 0 when it goes on: result()'s,
 * or in wait() / as_completed() the first that will not be run (all of
 * them must not, when one is enough). */
static uint64_t blocking_future(const struct snapshot *s,
				const struct stuck *st, size_t i)
{
	const struct snap_thread *t = &s->threads[i];
	uint64_t first = 0;

	if (t->waits_future)
		return future_free(s, st, t->waits_future) ? 0 :
		       t->waits_future;
	for (size_t k = 0; k < t->nwaits_futures; k++) {
		bool free_k = future_free(s, st, t->waits_futures[k]);

		if (free_k && t->waits_any)
			return 0;
		if (!free_k && !first)
			first = t->waits_futures[k];
		if (!free_k && !t->waits_any)
			return first;
	}
	return first;
}

/* Does task i wait for something the fixed point follows: a future
 * chained to a concurrent.futures.Future, or one other task? */
static bool task_waits(const struct snapshot *s, size_t i)
{
	const struct snap_await *w = &s->tasks[i].awaiting;

	return s->tasks[i].state == SNAP_TASK_WAITING &&
	       (w->cfuture || (w->kind == SNAP_AWAIT_TASK && w->ntasks == 1));
}

/* Is task i, stuck so far, freed by a party that is not stuck? */
static bool task_freed(const struct snapshot *s, const struct stuck *st,
		       size_t i)
{
	const struct snap_await *w = &s->tasks[i].awaiting;
	size_t k;

	if (w->cfuture)
		return future_free(s, st, w->cfuture);
	k = task_index(s, w->tasks[0]);
	return k == (size_t)-1 || !st->task[k];
}

/* Is thread i free: its future will be run or set, or the holder of its
 * lock is free? */
static bool thread_freed(const struct snapshot *s, const struct stuck *st,
			 size_t i)
{
	uint64_t lock;
	size_t h;

	if (s->threads[i].waits_future || s->threads[i].nwaits_futures)
		return !blocking_future(s, st, i);
	h = lock_holder(s, i, &lock);
	return h == (size_t)-1 || !st->thread[h];
}

/* Do the holders from thread i's lock lead to a stuck thread that waits
 * for a future (not a lock cycle of its own)? */
static bool lock_reaches_future(const struct snapshot *s,
				const struct stuck *st, size_t i)
{
	uint64_t lock;

	for (size_t step = 0; step <= s->nthreads; step++) {
		size_t h = lock_holder(s, i, &lock);

		if (h == (size_t)-1)
			return st->thread[i] &&
			       (s->threads[i].waits_future ||
				s->threads[i].nwaits_futures);
		i = h;
	}
	return false;
}

static void add_thread_wait(const struct snapshot *s, const struct stuck *st,
			    size_t i, struct snap_future_wait *fw)
{
	const struct snap_work *w;
	size_t k;

	fw->thread_id = s->threads[i].thread_id;
	if (!s->threads[i].waits_future && !s->threads[i].nwaits_futures) {
		k = lock_holder(s, i, &fw->lock);
		fw->held_by = k != (size_t)-1 ? s->threads[k].thread_id : 0;
		return;
	}
	fw->future = blocking_future(s, st, i);
	w = snap_find_work(s, fw->future);
	if (w && w->running) {
		fw->run_by = w->thread_id;
		fw->loop = w->loop;
	} else if (w) {
		fw->executor = w->executor;
	} else if ((k = setter_task(s, fw->future)) != (size_t)-1) {
		fw->set_by_task = s->tasks[k].id;
	}
}

static void add_task_wait(const struct snapshot *s, size_t i,
			  struct snap_future_wait *fw)
{
	const struct snap_task *t = &s->tasks[i];
	const struct snap_work *w;
	size_t k;

	fw->task = t->id;
	fw->thread_id = t->has_thread ? t->thread_id : 0;
	if (!t->awaiting.cfuture) {
		fw->awaits_task = t->awaiting.tasks[0];
		return;
	}
	fw->future = t->awaiting.cfuture;
	w = snap_find_work(s, fw->future);
	if (w && w->running) {
		fw->run_by = w->thread_id;
		fw->loop = w->loop;
	} else if (w) {
		fw->executor = w->executor;
	} else if ((k = setter_task(s, fw->future)) != (size_t)-1) {
		fw->set_by_task = s->tasks[k].id;
	}
}

void snap_find_executor_deadlocks(struct snapshot *s)
{
	struct stuck st;
	struct snap_executor_deadlock *d;
	bool changed = true, bridged = false;
	size_t n = 0;

	for (size_t i = 0; i < s->nexecutor_deadlocks; i++)
		free(s->executor_deadlocks[i].waits);
	free(s->executor_deadlocks);
	s->executor_deadlocks = NULL;
	s->nexecutor_deadlocks = 0;
	st.thread = xcalloc(s->nthreads + 1, sizeof(*st.thread));
	st.task = xcalloc(s->ntasks + 1, sizeof(*st.task));
	for (size_t i = 0; i < s->nthreads; i++) {
		uint64_t lock;

		st.thread[i] = ((s->threads[i].waits_future ||
				 s->threads[i].nwaits_futures) &&
				!s->threads[i].future_timeout) ||
			       lock_holder(s, i, &lock) != (size_t)-1;
	}
	for (size_t i = 0; i < s->ntasks; i++)
		st.task[i] = task_waits(s, i);
	/* Each pass frees at least one party or ends: at most n passes. */
	for (size_t pass = 0; changed && pass <= s->nthreads + s->ntasks;
	     pass++) {
		changed = false;
		for (size_t i = 0; i < s->nthreads; i++)
			if (st.thread[i] && thread_freed(s, &st, i)) {
				st.thread[i] = false;
				changed = true;
			}
		for (size_t i = 0; i < s->ntasks; i++)
			if (st.task[i] && task_freed(s, &st, i)) {
				st.task[i] = false;
				changed = true;
			}
	}
	/* Tasks that only await tasks are await cycles (snap_find_cycles):
	 * here only when a thread or a bridge is stuck with them. */
	for (size_t i = 0; i < s->nthreads; i++) {
		bool futures = s->threads[i].waits_future ||
			       s->threads[i].nwaits_futures;

		/* A lock waiter only behind a future's waiter. */
		if (st.thread[i] && !futures && !lock_reaches_future(s, &st, i))
			st.thread[i] = false;
		n += st.thread[i];
		bridged = bridged || (st.thread[i] && futures);
	}
	for (size_t i = 0; i < s->ntasks; i++) {
		n += st.task[i];
		bridged = bridged || (st.task[i] && s->tasks[i].awaiting.cfuture);
	}
	if (n && bridged) {
		d = s->executor_deadlocks = xcalloc(1, sizeof(*d));
		s->nexecutor_deadlocks = 1;
		d->waits = xcalloc(n, sizeof(*d->waits));
		for (size_t i = 0; i < s->nthreads; i++)
			if (st.thread[i])
				add_thread_wait(s, &st, i, &d->waits[d->n++]);
		for (size_t i = 0; i < s->ntasks; i++)
			if (st.task[i])
				add_task_wait(s, i, &d->waits[d->n++]);
	}
	free(st.thread);
	free(st.task);
}
