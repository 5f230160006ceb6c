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

/* Will 'future' be run by a thread not (yet) found stuck? */
static bool future_free(const struct snapshot *s, const bool *stuck,
			uint64_t future)
{
	const struct snap_work *w = snap_find_work(s, future);
	bool any = false;

	if (!w)
		return true;
	if (w->running) {
		size_t u = thread_index(s, w->thread_id);

		return u == (size_t)-1 || !stuck[u];
	}
	if (!w->executor)
		return true;
	for (size_t u = 0; u < s->nthreads; u++) {
		if (s->threads[u].executor != w->executor)
			continue;
		any = true;
		if (!stuck[u])
			return true;
	}
	/* No worker seen: the pool is shut down, or starts one later. */
	return !any;
}

/* The future that keeps thread i waiting, 0 when it goes on: result()'s,
 * or in wait() / as_completed() the first that will not be run (all of
 * them must not, when one is enough). */
static uint64_t blocking_future(const struct snapshot *s, const bool *stuck,
				size_t i)
{
	const struct snap_thread *t = &s->threads[i];
	uint64_t first = 0;

	if (t->waits_future)
		return future_free(s, stuck, t->waits_future) ? 0 :
		       t->waits_future;
	for (size_t k = 0; k < t->nwaits_futures; k++) {
		bool free_k = future_free(s, stuck, t->waits_futures[k]);

		if (free_k && t->waits_any)
			return 0;
		if (!free_k && !first)
			first = t->waits_futures[k];
		if (!free_k && !t->waits_any)
			return first;
	}
	return first;
}

/* Is thread i, stuck so far, freed by a thread that is not stuck? */
static bool freed(const struct snapshot *s, const bool *stuck, size_t i)
{
	return !blocking_future(s, stuck, i);
}

void snap_find_executor_deadlocks(struct snapshot *s)
{
	bool *stuck = xcalloc(s->nthreads + 1, sizeof(*stuck));
	struct snap_executor_deadlock *d;
	bool changed = true;
	size_t n = 0;

	for (size_t i = 0; i < s->nexecutor_deadlocks; i++)
		free(s->executor_deadlocks[i].waits);
	free(s->executor_deadlocks);
	s->executor_deadlocks = NULL;
	s->nexecutor_deadlocks = 0;
	for (size_t i = 0; i < s->nthreads; i++)
		stuck[i] = (s->threads[i].waits_future ||
			    s->threads[i].nwaits_futures) &&
			   !s->threads[i].future_timeout;
	/* Each pass frees at least one thread or ends: at most n passes. */
	for (size_t pass = 0; changed && pass <= s->nthreads; pass++) {
		changed = false;
		for (size_t i = 0; i < s->nthreads; i++)
			if (stuck[i] && freed(s, stuck, i)) {
				stuck[i] = false;
				changed = true;
			}
	}
	for (size_t i = 0; i < s->nthreads; i++)
		n += stuck[i];
	if (n) {
		d = s->executor_deadlocks = xcalloc(1, sizeof(*d));
		s->nexecutor_deadlocks = 1;
		d->waits = xcalloc(n, sizeof(*d->waits));
		for (size_t i = 0; i < s->nthreads; i++) {
			const struct snap_work *w;
			struct snap_future_wait *fw;

			if (!stuck[i])
				continue;
			fw = &d->waits[d->n++];
			fw->thread_id = s->threads[i].thread_id;
			fw->future = blocking_future(s, stuck, i);
			w = snap_find_work(s, fw->future);
			if (w && w->running) {
				fw->run_by = w->thread_id;
				fw->loop = w->loop;
			}
			else if (w)
				fw->executor = w->executor;
		}
	}
	free(stuck);
}
