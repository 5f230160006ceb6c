/*
 * Unit tests for the wait-for graph (pystructs/snap_locks.c) over
 * hand-made snapshots: lock cycles, a lock taken twice, hang chains and
 * what is not one, a cycle through an await, and a 100,000-long chain;
 * event loops blocked by a synchronous call (model/loop_check.c) and
 * loops that are not; threads waiting for futures only they could run
 * (model/future_graph.c) and those that will go on; a GIL held inside a C
 * call while others wait (model/gil_check.c), and what is not one.
 */
#include <config.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "common/xalloc.h"
#include "model/snapshot.h"

#define LOCK(i) (0x1000u + 16u * (uint64_t)(i))

/* A snapshot of n threads (thread_id 1..n) and n locks (LOCK(1..n)), no
 * holders or waits yet. */
static struct snapshot *threads_and_locks(size_t n)
{
	struct snapshot *s = snap_new();

	s->locks = xcalloc(n + 1, sizeof(*s->locks));
	for (size_t i = 1; i <= n; i++) {
		snap_add_thread(s)->thread_id = i;
		s->locks[s->nlocks].address = LOCK(i);
		s->locks[s->nlocks++].type = SNAP_LOCK_LOCK;
	}
	s->locks_read = true;
	return s;
}

/* LOCK(i) is s->locks[i - 1]. */
static struct snap_lock *lock_at(struct snapshot *s, uint64_t addr)
{
	return &s->locks[(addr - LOCK(1)) / 16];
}

static void hold(struct snapshot *s, uint64_t lock, bool task, uint64_t id)
{
	struct snap_lock *l = lock_at(s, lock);

	l->has_holder = true;
	l->holder.is_task = task;
	l->holder.id = id;
}

/* Thread 'id' waits for 'lock' (timeout or not). */
static void wait_on(struct snapshot *s, uint64_t id, uint64_t lock,
		    bool timeout)
{
	struct snap_lock *l = lock_at(s, lock);

	s->threads[id - 1].waits_for = lock;
	l->waiters = xrealloc(l->waiters, (l->nwaiters + 1) *
			      sizeof(*l->waiters));
	memset(&l->waiters[l->nwaiters], 0, sizeof(*l->waiters));
	l->waiters[l->nwaiters].who.id = id;
	l->waiters[l->nwaiters++].timeout = timeout;
}

START_TEST(test_two_thread_cycle)
{
	struct snapshot *s = threads_and_locks(3);

	hold(s, LOCK(1), false, 1);
	hold(s, LOCK(2), false, 2);
	wait_on(s, 1, LOCK(2), false);
	wait_on(s, 2, LOCK(1), false);
	wait_on(s, 3, LOCK(1), false); /* behind the cycle: not a hang */
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 1);
	ck_assert_uint_eq(s->nhangs, 0);
	ck_assert_uint_eq(s->lock_cycles[0].n, 2);
	/* lowest node first, each waits for what the next holds */
	ck_assert_uint_eq(s->lock_cycles[0].links[0].who.id, 1);
	ck_assert_uint_eq(s->lock_cycles[0].links[0].lock, LOCK(2));
	ck_assert_uint_eq(s->lock_cycles[0].links[1].who.id, 2);
	ck_assert_uint_eq(s->lock_cycles[0].links[1].lock, LOCK(1));
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_DEADLOCK);
	snap_free(s);
}
END_TEST

START_TEST(test_self_cycle)
{
	struct snapshot *s = threads_and_locks(1);

	hold(s, LOCK(1), false, 1);
	wait_on(s, 1, LOCK(1), false);
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 1);
	ck_assert_uint_eq(s->lock_cycles[0].n, 1);
	snap_free(s);
}
END_TEST

START_TEST(test_waits_are_not_deadlocks)
{
	/* 1 waits for 2's lock; 2 sleeps, or waits for a lock nobody is
	 * known to hold: no verdict */
	struct snapshot *s = threads_and_locks(3);

	hold(s, LOCK(2), false, 2);
	wait_on(s, 1, LOCK(2), false);
	wait_on(s, 2, LOCK(3), false);
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 0);
	ck_assert_uint_eq(s->nhangs, 0);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_NONE);
	snap_free(s);
}
END_TEST

START_TEST(test_hang_chain)
{
	/* 1 -> lock 2 held by 2 -> lock 3 held by 3 -> an Event (lock 4);
	 * _i == 1: 3's wait has a timeout, so no hang */
	struct snapshot *s = threads_and_locks(4);

	lock_at(s, LOCK(4))->type = SNAP_LOCK_EVENT;
	hold(s, LOCK(2), false, 2);
	hold(s, LOCK(3), false, 3);
	wait_on(s, 1, LOCK(2), false);
	wait_on(s, 2, LOCK(3), false);
	wait_on(s, 3, LOCK(4), _i == 1);
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 0);
	if (_i == 1) {
		ck_assert_uint_eq(s->nhangs, 0);
	} else {
		ck_assert_uint_eq(s->nhangs, 1);
		ck_assert_uint_eq(s->hangs[0].n, 3);
		ck_assert_uint_eq(s->hangs[0].links[0].who.id, 1);
		ck_assert_uint_eq(s->hangs[0].links[2].who.id, 3);
		ck_assert_uint_eq(s->hangs[0].links[2].lock, LOCK(4));
		ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_LIKELY_HANG);
	}
	snap_free(s);
}
END_TEST

START_TEST(test_cycle_through_await)
{
	/* task 100 waits for lock 1 held by task 200, which awaits task
	 * 100: a deadlock with one lock link and one await link */
	struct snapshot *s = threads_and_locks(1);
	struct snap_task *a = snap_add_task(s), *b;
	struct snap_lock *l;

	a->id = 100;
	a->waits_for = LOCK(1);
	b = snap_add_task(s);
	b->id = 200;
	b->awaiting.kind = SNAP_AWAIT_TASK;
	b->awaiting.tasks = xcalloc(1, sizeof(uint64_t));
	b->awaiting.tasks[0] = 100;
	b->awaiting.ntasks = 1;
	hold(s, LOCK(1), true, 200);
	l = lock_at(s, LOCK(1));
	l->type = SNAP_LOCK_ASYNC_LOCK;
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 1);
	ck_assert_uint_eq(s->lock_cycles[0].n, 2);
	ck_assert(s->lock_cycles[0].links[0].who.is_task);
	ck_assert_uint_eq(s->lock_cycles[0].links[0].who.id, 100);
	ck_assert_uint_eq(s->lock_cycles[0].links[0].lock, LOCK(1));
	ck_assert_uint_eq(s->lock_cycles[0].links[1].who.id, 200);
	ck_assert_uint_eq(s->lock_cycles[0].links[1].lock, 0);
	snap_free(s);
}
END_TEST

START_TEST(test_long_chain)
{
	/* 100,000 threads each waiting for the next one's lock: no
	 * recursion, no cycle, no hang (nobody at the end); closing the
	 * chain makes one cycle of all of them */
	size_t n = 100000;
	struct snapshot *s = threads_and_locks(n);

	for (size_t i = 1; i <= n; i++)
		hold(s, LOCK(i), false, i);
	for (size_t i = 1; i < n; i++)
		wait_on(s, i, LOCK(i + 1), false);
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 0);
	ck_assert_uint_eq(s->nhangs, 0);
	snap_locks_release(s);
	snap_free(s);
	s = threads_and_locks(n);
	for (size_t i = 1; i <= n; i++)
		hold(s, LOCK(i), false, i);
	for (size_t i = 1; i <= n; i++)
		wait_on(s, i, LOCK(i % n + 1), false);
	snap_find_deadlocks(s);
	ck_assert_uint_eq(s->nlock_cycles, 1);
	ck_assert_uint_eq(s->lock_cycles[0].n, n);
	snap_free(s);
}
END_TEST

/* A loop (id 0x500) run by thread 1, whose innermost frame is
 * 'function' in 'file', with a task 0x600 running on it, and its earliest
 * timer due in 'next' seconds. */
static struct snapshot *loop_snap(const char *function, const char *file,
				  double next)
{
	struct snapshot *s = snap_new();
	struct snap_thread *t = snap_add_thread(s);
	struct snap_frame *f;
	struct snap_task *k;
	struct snap_loop *l;

	t->thread_id = 1;
	f = snap_add_frame(t);
	f->function = xstrdup(function);
	f->filename = xstrdup(file);
	f->line = 7;
	f = snap_add_frame(t);
	f->function = xstrdup("BaseEventLoop._run_once");
	f->filename = xstrdup("/usr/lib/python3.12/asyncio/base_events.py");
	k = snap_add_task(s);
	k->id = 0x600;
	k->loop = 0x500;
	k->state = SNAP_TASK_RUNNING;
	k->has_thread = true;
	k->thread_id = 1;
	k = snap_add_task(s);  /* a task of the loop waiting: not named */
	k->id = 0x700;
	k->loop = 0x500;
	k->state = SNAP_TASK_WAITING;
	l = snap_add_loop(s);
	l->id = 0x500;
	l->has_thread = true;
	l->thread_id = 1;
	l->ntimers = 1;
	l->has_next_timer = true;
	l->next_timer = next;
	return s;
}

START_TEST(test_blocked_loop)
{
	struct snapshot *s = loop_snap("handler", "/srv/app.py", -2.5);

	snap_find_blocked_loops(s);
	ck_assert_uint_eq(s->nblocked_loops, 1);
	ck_assert_uint_eq(s->blocked_loops[0].loop, 0x500);
	ck_assert_uint_eq(s->blocked_loops[0].thread_id, 1);
	ck_assert(s->blocked_loops[0].has_task);
	ck_assert_uint_eq(s->blocked_loops[0].task, 0x600);
	ck_assert(s->blocked_loops[0].stuck > 2.49 &&
		  s->blocked_loops[0].stuck < 2.51);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_LIKELY_HANG);
	/* Found again: replaced, not added. */
	snap_find_blocked_loops(s);
	ck_assert_uint_eq(s->nblocked_loops, 1);
	snap_free(s);

	/* A callback, no task running: the loop is still blocked. */
	s = loop_snap("callback", "/srv/app.py", -2.5);
	s->tasks[0].state = SNAP_TASK_SCHEDULED;
	snap_find_blocked_loops(s);
	ck_assert_uint_eq(s->nblocked_loops, 1);
	ck_assert(!s->blocked_loops[0].has_task);
	snap_free(s);
}
END_TEST

/* What is not a blocked loop: idle in the selector (every version's
 * name for select()), a timer only slightly late, one not yet due, no
 * timer, no thread, a thread without frames. */
START_TEST(test_loop_not_blocked)
{
	static const struct {
		const char *function, *file;
		double next;
	} cases[] = {
		{ "_PollLikeSelector.select", "/usr/lib/python3.12/selectors.py",
		  -5.0 },
		{ "select", "/usr/lib/python3.8/selectors.py", -5.0 },
		{ "SelectSelector.select", "/x/selectors.py", -5.0 },
		{ "handler", "/srv/app.py", -(SNAP_LOOP_STUCK_MIN - 0.01) },
		{ "handler", "/srv/app.py", 3.0 },
		{ "handler", "/srv/app.py", NAN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot *s = loop_snap(cases[i].function,
					       cases[i].file, cases[i].next);

		snap_find_blocked_loops(s);
		ck_assert_msg(s->nblocked_loops == 0, "case %zu", i);
		ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_NONE);
		snap_free(s);
	}
	for (int k = 0; k < 3; k++) {
		struct snapshot *s = loop_snap("handler", "/srv/app.py", -9.0);

		if (k == 0)
			s->loops[0].has_next_timer = false;
		else if (k == 1)
			s->loops[0].thread_id = 42; /* no such thread */
		else
			snap_thread_release_frames(&s->threads[0]);
		snap_find_blocked_loops(s);
		ck_assert_msg(s->nblocked_loops == 0, "k %d", k);
		snap_free(s);
	}
	/* A selector module elsewhere is not the selector. */
	{
		struct snapshot *s = loop_snap("select", "/srv/myselectors.py",
					       -5.0);

		snap_find_blocked_loops(s);
		ck_assert_uint_eq(s->nblocked_loops, 1);
		snap_free(s);
	}
}
END_TEST

/* n threads (thread_id 1..n), none waiting yet. */
static struct snapshot *pool_snap(size_t n)
{
	struct snapshot *s = snap_new();

	for (size_t i = 1; i <= n; i++)
		snap_add_thread(s)->thread_id = i;
	return s;
}

static void work(struct snapshot *s, uint64_t future, uint64_t executor,
		 uint64_t running_on)
{
	struct snap_work *w = snap_add_work(s);

	w->future = future;
	w->executor = executor;
	w->running = running_on != 0;
	w->thread_id = running_on;
}

/* One worker (thread 1) runs F1 and waits for F2, queued in its own pool;
 * thread 2 waits for F1: both stuck, F2 queued, F1 run by thread 1. */
START_TEST(test_executor_self)
{
	struct snapshot *s = pool_snap(2);

	s->threads[0].executor = 0xe0;
	s->threads[0].runs_future = 0xf1;
	s->threads[0].waits_future = 0xf2;
	s->threads[1].waits_future = 0xf1;
	work(s, 0xf1, 0xe0, 1);
	work(s, 0xf2, 0xe0, 0);
	snap_find_executor_deadlocks(s);
	ck_assert_uint_eq(s->nexecutor_deadlocks, 1);
	ck_assert_uint_eq(s->executor_deadlocks[0].n, 2);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].thread_id, 1);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].future, 0xf2);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].run_by, 0);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].executor, 0xe0);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[1].thread_id, 2);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[1].run_by, 1);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_DEADLOCK);
	snap_find_executor_deadlocks(s); /* replaced, not added */
	ck_assert_uint_eq(s->nexecutor_deadlocks, 1);
	snap_free(s);
}
END_TEST

/* Variations that are no deadlock: a second, idle worker; a timeout; a
 * future nobody runs or holds; a busy worker running the future. */
START_TEST(test_executor_not_stuck)
{
	for (int k = 0; k < 4; k++) {
		struct snapshot *s = pool_snap(3);

		s->threads[0].executor = 0xe0;
		s->threads[0].waits_future = 0xf2;
		work(s, 0xf1, 0xe0, 1);
		if (k == 0) {
			s->threads[2].executor = 0xe0; /* idle worker */
			work(s, 0xf2, 0xe0, 0);
		} else if (k == 1) {
			s->threads[0].future_timeout = true;
			work(s, 0xf2, 0xe0, 0);
		} else if (k == 2) {
			/* 0xf2: a bare Future, set by someone else */
		} else {
			s->threads[2].executor = 0xe0; /* busy, not waiting */
			work(s, 0xf2, 0xe0, 3);
		}
		snap_find_executor_deadlocks(s);
		ck_assert_msg(s->nexecutor_deadlocks == 0, "k %d", k);
		snap_free(s);
	}
}
END_TEST

/* Two workers each wait for an item queued behind them: stuck; a third
 * thread waiting for a future one of them runs is stuck too. */
START_TEST(test_executor_full_pool)
{
	struct snapshot *s = pool_snap(3);

	for (size_t i = 0; i < 2; i++) {
		s->threads[i].executor = 0xe0;
		s->threads[i].runs_future = 0xa0 + i;
		s->threads[i].waits_future = 0xb0 + i;
		work(s, 0xa0 + i, 0xe0, i + 1);
		work(s, 0xb0 + i, 0xe0, 0);
	}
	s->threads[2].waits_future = 0xa1;
	snap_find_executor_deadlocks(s);
	ck_assert_uint_eq(s->nexecutor_deadlocks, 1);
	ck_assert_uint_eq(s->executor_deadlocks[0].n, 3);
	ck_assert_uint_eq(s->executor_deadlocks[0].waits[2].run_by, 2);
	snap_free(s);
}
END_TEST

/* The loop's thread (1) waits for a future a ready callback of its own
 * loop holds (run_coroutine_threadsafe from inside the loop): a deadlock
 * of one; the same future held by another thread's loop is not. */
START_TEST(test_loop_waits_itself)
{
	for (int k = 0; k < 2; k++) {
		struct snapshot *s = pool_snap(2);
		struct snap_loop *l = snap_add_loop(s);

		l->id = 0x500;
		l->has_thread = true;
		l->thread_id = k == 0 ? 1 : 2;
		l->ready_refs = xcalloc(2, sizeof(*l->ready_refs));
		l->ready_refs[0] = 0xc0; /* the coroutine */
		l->ready_refs[1] = 0xf1;
		l->nready_refs = 2;
		s->threads[0].waits_future = 0xf1;
		snap_add_loop_works(s);
		ck_assert_uint_eq(s->nworks, 1);
		ck_assert(s->works[0].running);
		ck_assert_uint_eq(s->works[0].loop, 0x500);
		snap_find_executor_deadlocks(s);
		if (k == 0) {
			ck_assert_uint_eq(s->nexecutor_deadlocks, 1);
			ck_assert_uint_eq(s->executor_deadlocks[0].n, 1);
			ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].run_by,
					  1);
			ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].loop,
					  0x500);
		} else {
			ck_assert_uint_eq(s->nexecutor_deadlocks, 0);
		}
		snap_free(s);
	}
}
END_TEST

/* wait() / as_completed(): worker 1 waits for F2 (queued in its own
 * pool) and F3 (run by busy thread 2).  All needed: stuck on F2; one is
 * enough: F3 will come, no deadlock; F3 gone too: stuck. */
START_TEST(test_executor_wait_many)
{
	for (int k = 0; k < 3; k++) {
		struct snapshot *s = pool_snap(2);
		struct snap_thread *t = &s->threads[0];

		t->executor = 0xe0;
		t->waits_futures = xcalloc(2, sizeof(*t->waits_futures));
		t->waits_futures[0] = 0xf3;
		t->waits_futures[1] = 0xf2;
		t->nwaits_futures = 2;
		t->waits_any = k > 0;
		work(s, 0xf2, 0xe0, 0);
		s->threads[1].executor = 0xe1;
		if (k < 2) {
			work(s, 0xf3, 0xe1, 2);
		} else {
			/* thread 2 waits for F4 queued in its own pool, F3
			 * queued behind it */
			s->threads[1].waits_future = 0xf4;
			work(s, 0xf3, 0xe1, 0);
			work(s, 0xf4, 0xe1, 0);
		}
		snap_find_executor_deadlocks(s);
		if (k == 1) {
			ck_assert_uint_eq(s->nexecutor_deadlocks, 0);
		} else {
			ck_assert_uint_eq(s->nexecutor_deadlocks, 1);
			ck_assert_uint_eq(s->executor_deadlocks[0].waits[0].future,
					  k == 0 ? 0xf2 : 0xf3);
		}
		snap_free(s);
	}
}
END_TEST

/* A snapshot of a GIL holder (thread 1, in a C call at app.py:'line')
 * and a thread waiting for the GIL (thread 2, when 'waiter'). */
static struct snapshot *gil_look(int line, bool waiter)
{
	struct snapshot *s = snap_new();
	struct snap_thread *t = snap_add_thread(s);
	struct snap_frame *f = snap_add_frame(t);

	t->thread_id = 1;
	t->holds_gil = true;
	t->gil = SNAP_GIL_HOLDS;
	t->os.state = 'R';
	f->function = xstrdup("slow");
	f->filename = xstrdup("app.py");
	f->line = line;
	f->code = 0x100;
	f->addr = 0x200;
	t = snap_add_thread(s);
	t->thread_id = 2;
	t->gil = waiter ? SNAP_GIL_WAITS : SNAP_GIL_NONE;
	t->os.state = 'S';
	snprintf(t->os.syscall, sizeof(t->os.syscall), waiter ? "futex" :
		 "read");
	return s;
}

START_TEST(test_gil_held)
{
	struct snapshot *s = gil_look(9, true);
	struct snapshot *same[2] = { gil_look(9, false), gil_look(9, true) };
	struct snapshot *moved[2] = { gil_look(9, true), gil_look(10, true) };
	struct snapshot *alone[2] = { gil_look(9, false), gil_look(9, false) };
	struct snapshot *lone = gil_look(9, false);

	ck_assert(snap_gil_contended(s));
	/* the same place in every look, someone waiting: held in C */
	snap_find_gil_held(s, (const struct snapshot *const *)same, 2, 0.25);
	ck_assert_uint_eq(s->ngil_held, 1);
	ck_assert_uint_eq(s->gil_held[0].thread_id, 1);
	ck_assert_uint_eq(s->gil_held[0].waiters, 1);
	ck_assert(s->gil_held[0].held == 0.25);
	ck_assert_ptr_null(s->gil_held[0].function);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_LIKELY_HANG);
	snap_free(s);

	/* its frame moved on: Python runs */
	s = gil_look(9, true);
	snap_find_gil_held(s, (const struct snapshot *const *)moved, 2, 0.25);
	ck_assert_uint_eq(s->ngil_held, 0);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_NONE);
	snap_free(s);

	/* nobody waits, ever: a long C call harms no one */
	ck_assert(!snap_gil_contended(lone));
	snap_find_gil_held(lone, (const struct snapshot *const *)alone, 2,
			   0.25);
	ck_assert_uint_eq(lone->ngil_held, 0);
	/* a waiter between two sleeps, running in take_gil(): its native
	 * stack says it waits */
	s = gil_look(9, false);
	for (int i = 0; i < 2; i++) {
		struct snap_thread *w = &alone[i]->threads[1];

		w->os.state = 'R';
		w->has_native = true;
		w->native = xcalloc(2, sizeof(*w->native));
		w->nnative = 1;
		w->native[0].kind = SNAP_STACK_NATIVE;
		w->native[0].function = xstrdup(i ? "take_gil.lto_priv.0" :
						"take_gil_not");
	}
	snap_find_gil_held(s, (const struct snapshot *const *)alone, 2, 0.25);
	ck_assert_uint_eq(s->ngil_held, 1);
	ck_assert_uint_eq(s->gil_held[0].waiters, 1);
	snap_free(s);
	/* no look: no verdict */
	s = gil_look(9, true);
	snap_find_gil_held(s, NULL, 0, 0);
	ck_assert_uint_eq(s->ngil_held, 0);
	snap_free(s);
	snap_free(lone);
	for (int i = 0; i < 2; i++) {
		snap_free(same[i]);
		snap_free(moved[i]);
		snap_free(alone[i]);
	}
}
END_TEST

static Suite *deadlock_suite(void)
{
	Suite *s = suite_create("deadlock");
	TCase *tc = tcase_create("deadlock");

	tcase_add_test(tc, test_two_thread_cycle);
	tcase_add_test(tc, test_self_cycle);
	tcase_add_test(tc, test_waits_are_not_deadlocks);
	tcase_add_loop_test(tc, test_hang_chain, 0, 2);
	tcase_add_test(tc, test_cycle_through_await);
	tcase_add_test(tc, test_long_chain);
	tcase_add_test(tc, test_blocked_loop);
	tcase_add_test(tc, test_loop_not_blocked);
	tcase_add_test(tc, test_executor_self);
	tcase_add_test(tc, test_executor_not_stuck);
	tcase_add_test(tc, test_executor_full_pool);
	tcase_add_test(tc, test_loop_waits_itself);
	tcase_add_test(tc, test_executor_wait_many);
	tcase_add_test(tc, test_gil_held);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(deadlock_suite());
}
