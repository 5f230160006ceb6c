/*
 * loop_check.c - asyncio event loops that a synchronous call blocks.
 *
 * A loop makes progress in turns (BaseEventLoop._run_once): wait in the
 * selector until the earliest timer is due or a file is ready, move the
 * timers that are due to _ready, run the callbacks of _ready (task steps
 * among them), again.  A task step that calls time.sleep(), takes a
 * threading.Lock or reads a blocking socket keeps the loop's thread in
 * that call: no other task runs and the timers fall overdue.  So a loop
 * is blocked when its thread is not in the selector's select() and its
 * earliest timer is overdue by more than SNAP_LOOP_STUCK_MIN: the turn
 * that should have run that timer has not come for that long.
 *
 * A loop with no timer cannot be told blocked from busy this way (its
 * ready callbacks say nothing of how long they have waited): no verdict.
 */
#include <config.h>

#include "model/snapshot.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

bool snap_thread_in_selector(const struct snap_thread *t)
{
	const struct snap_frame *f;
	const char *fn;
	size_t len;

	if (!t->nframes)
		return false;
	/* selectors.py's select() calls the C poll, epoll.poll or
	 * select.select: no Python frame above it.  Its name is "select"
	 * before 3.11, then "_PollLikeSelector.select",
	 * "SelectSelector.select", ... */
	f = &t->frames[0];
	fn = f->function ? f->function : "";
	len = strlen(fn);
	return f->filename && str_ends_with(f->filename, "/selectors.py") &&
	       (!strcmp(fn, "select") ||
		(len > 7 && !strcmp(fn + len - 7, ".select")));
}

static const struct snap_thread *thread_of(const struct snapshot *s,
					   uint64_t thread_id)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].thread_id == thread_id)
			return &s->threads[i];
	return NULL;
}

void snap_find_blocked_loops(struct snapshot *s)
{
	free(s->blocked_loops);
	s->blocked_loops = NULL;
	s->nblocked_loops = 0;
	for (size_t i = 0; i < s->nloops; i++) {
		const struct snap_loop *l = &s->loops[i];
		const struct snap_thread *t;
		struct snap_blocked_loop *b;

		/* A timer overdue by less than the threshold, or NaN from a
		 * garbled float, is no evidence. */
		if (!l->has_thread || !l->has_next_timer ||
		    !(-l->next_timer > SNAP_LOOP_STUCK_MIN))
			continue;
		t = thread_of(s, l->thread_id);
		if (!t || !t->nframes || snap_thread_in_selector(t))
			continue;
		s->blocked_loops = xrealloc(s->blocked_loops,
					    (s->nblocked_loops + 1) *
					    sizeof(*s->blocked_loops));
		b = &s->blocked_loops[s->nblocked_loops++];
		memset(b, 0, sizeof(*b));
		b->loop = l->id;
		b->thread_id = l->thread_id;
		b->stuck = -l->next_timer;
		for (size_t j = 0; j < s->ntasks; j++) {
			const struct snap_task *k = &s->tasks[j];

			if (k->state == SNAP_TASK_RUNNING && k->loop == l->id) {
				b->has_task = true;
				b->task = k->id;
				break;
			}
		}
	}
}
