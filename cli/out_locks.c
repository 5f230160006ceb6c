/*
 * out_locks.c - the text of the lock analysis: every lock held or waited
 * for, with its holder and waiters, then the verdict, told as a story
 * ("thread "alpha" holds <threading.Lock 0x..> (taken at app.py:12) and
 * waits for <threading.Lock 0x..> (app.py:14), held by thread "beta"
 * (taken at app.py:20), which waits for <threading.Lock 0x..> (app.py:22),
 * held by "alpha".").
 */
#include <config.h>

#include "common/escape.h"
#include "common/xalloc.h"
#include "cli/out.h"
#include "model/thread_groups.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "?";
}

/* "app.py:12" */
static void place(struct strbuf *sb, const struct snap_place *pl)
{
	escape_text(sb, base_name(pl->filename));
	if (pl->line >= 0)
		strbuf_addf(sb, ":%d", pl->line);
}

static void quoted(struct strbuf *sb, const char *name)
{
	strbuf_addch(sb, '"');
	escape_text(sb, name);
	strbuf_addch(sb, '"');
}

/* thread "alpha" / thread 1399... (tid 12) / task "worker-1" */
static void party(struct strbuf *sb, const struct snapshot *s,
		  const struct snap_party *who, bool kind)
{
	const struct snap_thread *t = snap_party_thread(s, who);
	const struct snap_task *k = snap_party_task(s, who);

	if (kind)
		strbuf_addstr(sb, who->is_task ? "task " : "thread ");
	if (t && t->name)
		quoted(sb, t->name);
	else if (k && k->name)
		quoted(sb, k->name);
	else
		strbuf_addf(sb, "%" PRIu64, who->id);
}

/* <threading.Lock 0x7f...> / <import lock of 'm'> */
static void lock_name(struct strbuf *sb, const struct snap_lock *l)
{
	if (l->type == SNAP_LOCK_IMPORT && l->name) {
		strbuf_addstr(sb, "<import lock of '");
		escape_text(sb, l->name);
		strbuf_addstr(sb, "'>");
		return;
	}
	strbuf_addf(sb, "<%s 0x%" PRIx64 ">", snap_lock_type_name(l->type),
		    l->address);
}

static const struct snap_lock_waiter *waiter_of(const struct snap_lock *l,
						const struct snap_party *who)
{
	for (size_t i = 0; l && i < l->nwaiters; i++)
		if (snap_same_party(&l->waiters[i].who, who))
			return &l->waiters[i];
	return NULL;
}

/* The group of thread party 'who' when it has other members, else NULL;
 * *idx is the thread's index. */
static const struct thread_group *group_of(const struct snapshot *s,
					   const struct snap_party *who,
					   const struct thread_groups *g,
					   size_t *idx)
{
	const struct snap_thread *t = snap_party_thread(s, who);
	const struct thread_group *gr;

	if (!t || (size_t)(t - s->threads) >= g->nthreads)
		return NULL;
	*idx = (size_t)(t - s->threads);
	gr = &g->v[g->group_of[*idx]];
	return gr->n > 1 ? gr : NULL;
}

static int cmp_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Waiter i of l as one of a group: 0 when it has no group (told alone),
 * -1 when its group was told at an earlier waiter, else 1 after writing
 * "N threads "w0"-"w9" (tids ...)": every waiter of l in its group (the
 * same stack, so the same place). */
static int group_waiters(struct strbuf *sb, const struct snapshot *s,
			 const struct snap_lock *l, size_t i,
			 const struct thread_groups *g, size_t *told)
{
	const struct thread_group *gr;
	size_t idx, *members, n = 0;

	gr = group_of(s, &l->waiters[i].who, g, &idx);
	if (!gr || l->waiters[i].who.is_task)
		return 0;
	members = xcalloc(l->nwaiters, sizeof(*members));
	for (size_t j = 0; j < l->nwaiters; j++) {
		size_t k;

		if (l->waiters[j].who.is_task ||
		    group_of(s, &l->waiters[j].who, g, &k) != gr)
			continue;
		if (j < i) {
			free(members);
			return -1;
		}
		members[n++] = k;
	}
	if (n == 1) {
		free(members);
		return 0;
	}
	(*told)++;
	/* in thread order, as the dump's group lists them */
	qsort(members, n, sizeof(*members), cmp_index);
	strbuf_addf(sb, "      waited for by %zu threads ", n);
	out_text_members(sb, s, members, n);
	free(members);
	return 1;
}

/* *told counts the groups told as one line. */
static void lock_entry(struct strbuf *sb, const struct snapshot *s,
		       const struct snap_lock *l, const struct out_opts *o,
		       size_t *told)
{
	strbuf_addstr(sb, "  ");
	if (l->type == SNAP_LOCK_THREAD) {
		strbuf_addstr(sb, "the end of ");
		if (l->has_holder)
			party(sb, s, &l->holder, true);
		else
			strbuf_addf(sb, "<thread 0x%" PRIx64 ">", l->address);
	} else {
		lock_name(sb, l);
		if (l->has_holder) {
			strbuf_addstr(sb, ": held by ");
			party(sb, s, &l->holder, true);
			if (l->has_held_since) {
				strbuf_addstr(sb, " since ");
				place(sb, &l->held_since);
				strbuf_addstr(sb, " in ");
				escape_text(sb, l->held_since.function);
			}
			if (l->evidence == SNAP_EVIDENCE_OWNER)
				strbuf_addstr(sb, " (its owner field)");
		} else if (snap_lock_type_holderless(l->type)) {
			strbuf_addstr(sb, ": nobody holds it");
		} else {
			strbuf_addf(sb, ": %sholder unknown%s (taken without "
				    "a with statement)", col(o, C_DIM),
				    col(o, C_OFF));
		}
	}
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < l->nwaiters; i++) {
		const struct snap_lock_waiter *w = &l->waiters[i];

		/* a group's waiters: one line for all (the same place) */
		int g = o->groups ? group_waiters(sb, s, l, i, o->groups,
						     told) : 0;

		if (g < 0)
			continue; /* told with its group */
		if (!g) {
			strbuf_addstr(sb, "      waited for by ");
			party(sb, s, &w->who, true);
		}
		strbuf_addstr(sb, " at ");
		place(sb, &w->at);
		strbuf_addstr(sb, " in ");
		escape_text(sb, w->at.function);
		strbuf_addstr(sb, w->timeout ? " (with a timeout)\n" : "\n");
	}
}

/* ", held by thread "beta" (taken at app.py:20)" */
static void held_by(struct strbuf *sb, const struct snapshot *s,
		    const struct snap_lock *l, bool since)
{
	if (!l || !l->has_holder)
		return;
	strbuf_addstr(sb, ", held by ");
	party(sb, s, &l->holder, since);
	if (since && l->has_held_since) {
		strbuf_addstr(sb, " (taken at ");
		place(sb, &l->held_since);
		strbuf_addch(sb, ')');
	}
}

/* "waits for <lock> (app.py:14)" or "joins thread "b" (app.py:14)" or
 * "awaits task "b"" */
static void waits(struct strbuf *sb, const struct snapshot *s,
		  const struct snap_link *k, const struct snap_party *next)
{
	const struct snap_lock *l = snap_find_lock(s, k->lock);
	const struct snap_lock_waiter *w = waiter_of(l, &k->who);

	if (!l) {
		strbuf_addstr(sb, "awaits ");
		party(sb, s, next, true);
		return;
	}
	if (l->type == SNAP_LOCK_THREAD) {
		strbuf_addstr(sb, "joins ");
		party(sb, s, next, true);
	} else {
		strbuf_addstr(sb, "waits for ");
		lock_name(sb, l);
	}
	if (w) {
		strbuf_addstr(sb, " (");
		place(sb, &w->at);
		strbuf_addch(sb, ')');
	}
}

static void cycle_story(struct strbuf *sb, const struct snapshot *s,
			const struct snap_chain *c)
{
	const struct snap_lock *last;
	size_t n = c->n, start = 0;

	/* start where the story can open with "X holds <lock>" */
	for (size_t i = 0; i < n; i++) {
		const struct snap_lock *l = snap_find_lock(s,
					c->links[(i + n - 1) % n].lock);

		if (l && l->type != SNAP_LOCK_THREAD) {
			start = i;
			break;
		}
	}
	last = snap_find_lock(s, c->links[(start + n - 1) % n].lock);
	strbuf_addstr(sb, "  ");
	party(sb, s, &c->links[start].who, true);
	if (n == 1 && last) {
		strbuf_addstr(sb, " holds ");
		lock_name(sb, last);
		if (last->has_held_since) {
			strbuf_addstr(sb, " (taken at ");
			place(sb, &last->held_since);
			strbuf_addch(sb, ')');
		}
		strbuf_addstr(sb, " and waits for it again");
		if (waiter_of(last, &c->links[start].who)) {
			strbuf_addstr(sb, " (");
			place(sb, &waiter_of(last, &c->links[start].who)->at);
			strbuf_addch(sb, ')');
		}
		strbuf_addstr(sb, last->type == SNAP_LOCK_LOCK ?
			      ": a Lock is not reentrant.\n" : ".\n");
		return;
	}
	if (last && last->type != SNAP_LOCK_THREAD) {
		strbuf_addstr(sb, " holds ");
		lock_name(sb, last);
		if (last->has_held_since) {
			strbuf_addstr(sb, " (taken at ");
			place(sb, &last->held_since);
			strbuf_addch(sb, ')');
		}
		strbuf_addstr(sb, " and");
	}
	for (size_t j = 0; j < n; j++) {
		const struct snap_link *k = &c->links[(start + j) % n];
		const struct snap_link *next = &c->links[(start + j + 1) % n];
		const struct snap_lock *l = snap_find_lock(s, k->lock);

		strbuf_addstr(sb, j ? ",\n    which " : " ");
		waits(sb, s, k, &next->who);
		if (l && l->type != SNAP_LOCK_THREAD)
			held_by(sb, s, l, j + 1 < n);
	}
	strbuf_addstr(sb, ".\n");
}

/* A chain's story; 'first' (n > 1): the threads that each open it, a
 * group, in place of its first party. */
static void hang_story(struct strbuf *sb, const struct snapshot *s,
		       const struct snap_chain *c, const size_t *first,
		       size_t n)
{
	strbuf_addstr(sb, "  ");
	for (size_t j = 0; j < c->n; j++) {
		const struct snap_link *k = &c->links[j];
		const struct snap_lock *l = snap_find_lock(s, k->lock);
		const struct snap_party *next = j + 1 < c->n ?
						&c->links[j + 1].who : NULL;

		if (!j && n > 1) {
			strbuf_addf(sb, "%zu threads ", n);
			out_text_members(sb, s, first, n);
			strbuf_addstr(sb, ": each ");
		} else if (!j) {
			party(sb, s, &k->who, true);
			strbuf_addch(sb, ' ');
		} else {
			strbuf_addstr(sb, ",\n    which ");
		}
		waits(sb, s, k, next ? next : &k->who);
		if (next && l && l->type != SNAP_LOCK_THREAD)
			held_by(sb, s, l, true);
	}
	strbuf_addstr(sb, " with no timeout;\n    nobody holds that, so no "
		      "thread or task in sight will end the wait.\n");
}

static void await_story(struct strbuf *sb, const struct snapshot *s,
			const struct snap_cycle *c)
{
	strbuf_addstr(sb, "  ");
	for (size_t j = 0; j < c->n; j++) {
		struct snap_party who = { true, c->tasks[j] };
		struct snap_party next = { true, c->tasks[(j + 1) % c->n] };

		if (!j) {
			party(sb, s, &who, true);
			strbuf_addch(sb, ' ');
		} else {
			strbuf_addstr(sb, ", which ");
		}
		strbuf_addstr(sb, "awaits ");
		party(sb, s, &next, j + 1 < c->n);
	}
	strbuf_addstr(sb, ".\n");
}

/* "blocked in clock_nanosleep", "running", ... of the loop's thread */
static void thread_doing(struct strbuf *sb, const struct snap_thread *t)
{
	const char *os = snap_os_state_name(t->os.state);

	if (t->gil == SNAP_GIL_WAITS)
		strbuf_addstr(sb, "waiting for the GIL");
	else if (t->os.state == 'R')
		strbuf_addstr(sb, "running (busy, not waiting)");
	else if (t->os.syscall[0])
		strbuf_addf(sb, "blocked in %s", t->os.syscall);
	else
		strbuf_addstr(sb, os ? os : "in an unknown state");
}

/* Likely hang: the event loop 0x.. of thread "MainThread" (tid 12) is
 * blocked, its earliest timer 2.3 s overdue:
 *   task "handler" (coroutine handler) runs synchronous code at app.py:7
 *   in handler, blocked in clock_nanosleep; ... */
static void blocked_loop_story(struct strbuf *sb, const struct snapshot *s,
			       const struct snap_blocked_loop *b,
			       const struct out_opts *o)
{
	struct snap_party th = { false, b->thread_id }, tk = { true, b->task };
	const struct snap_thread *t = snap_party_thread(s, &th);
	const struct snap_task *k = b->has_task ? snap_party_task(s, &tk) : NULL;
	const struct snap_loop *l = snap_find_loop(s, b->loop);

	strbuf_addf(sb, "%sLikely hang%s: the event loop 0x%" PRIx64 " of ",
		    col(o, C_WARN), col(o, C_OFF), b->loop);
	party(sb, s, &th, true);
	if (t && t->native_id >= 0)
		strbuf_addf(sb, " (tid %" PRId64 ")", t->native_id);
	strbuf_addf(sb, " is blocked: its earliest timer is %.1f s overdue.\n  ",
		    b->stuck);
	if (k) {
		party(sb, s, &tk, true);
		if (k->nframes) {
			strbuf_addstr(sb, " (coroutine ");
			escape_text(sb, k->frames[k->nframes - 1].function);
			strbuf_addch(sb, ')');
		}
	} else {
		strbuf_addstr(sb, "a callback (no task)");
	}
	strbuf_addstr(sb, " runs synchronous code");
	if (t && t->nframes) {
		struct snap_place at = { t->frames[0].function,
					 t->frames[0].filename,
					 t->frames[0].line };

		strbuf_addstr(sb, " at ");
		place(sb, &at);
		strbuf_addstr(sb, " in ");
		escape_text(sb, at.function);
	}
	if (t) {
		const struct snap_lock *w = snap_find_lock(s, t->waits_for);

		strbuf_addstr(sb, ", ");
		thread_doing(sb, t);
		if (w) {
			strbuf_addstr(sb, ",\n    waiting for ");
			lock_name(sb, w);
			held_by(sb, s, w, true);
		}
	}
	strbuf_addstr(sb, ";\n    no other task or callback of the loop runs "
		      "until it returns");
	if (l)
		strbuf_addf(sb, " (%zu callback%s ready, %zu timer%s "
			    "scheduled)", l->nready, l->nready == 1 ? "" : "s",
			    l->ntimers, l->ntimers == 1 ? "" : "s");
	strbuf_addstr(sb, ".\n");
}

/* Deadlock: 2 threads wait for futures that only they could run:
 *   thread "w" waits for future 0x.. (inner) at app.py:9 in outer, queued
 *   in ThreadPoolExecutor 0x.., whose workers are all among these: ... */
static void executor_story(struct strbuf *sb, const struct snapshot *s,
			   const struct snap_executor_deadlock *d,
			   const struct out_opts *o)
{
	strbuf_addf(sb, "%sDeadlock%s: %zu thread%s wait%s for futures that "
		    "only %s could run:\n", col(o, C_WARN), col(o, C_OFF),
		    d->n, d->n == 1 ? "" : "s", d->n == 1 ? "s" : "",
		    d->n == 1 ? "it" : "they");
	for (size_t i = 0; i < d->n; i++) {
		const struct snap_future_wait *fw = &d->waits[i];
		struct snap_party who = { false, fw->thread_id };
		const struct snap_thread *t = snap_party_thread(s, &who);
		const struct snap_frame *f = t ? snap_thread_user_frame(t) : NULL;
		const struct snap_work *w = snap_find_work(s, fw->future);

		strbuf_addstr(sb, "  ");
		party(sb, s, &who, true);
		strbuf_addf(sb, " waits for future 0x%" PRIx64, fw->future);
		if (w && w->function) {
			strbuf_addstr(sb, " (");
			escape_text(sb, w->function);
			strbuf_addch(sb, ')');
		}
		if (f) {
			struct snap_place at = { f->function, f->filename,
						 f->line };

			strbuf_addstr(sb, " at ");
			place(sb, &at);
			strbuf_addstr(sb, " in ");
			escape_text(sb, f->function);
		}
		if (fw->run_by && fw->loop) {
			struct snap_party by = { false, fw->run_by };

			strbuf_addf(sb, ",\n    to be started by the event loop "
				    "0x%" PRIx64 " of ", fw->loop);
			party(sb, s, &by, true);
			strbuf_addstr(sb, " (a callback waiting in it)");
		} else if (fw->run_by) {
			struct snap_party by = { false, fw->run_by };

			strbuf_addstr(sb, ", running on ");
			party(sb, s, &by, true);
		} else {
			bool first = true;

			strbuf_addf(sb, ",\n    queued in ThreadPoolExecutor 0x%"
				    PRIx64 ", whose workers (", fw->executor);
			for (size_t k = 0; k < s->nthreads; k++) {
				struct snap_party wk = {
					false, s->threads[k].thread_id };

				if (s->threads[k].executor != fw->executor)
					continue;
				strbuf_addstr(sb, first ? "" : ", ");
				party(sb, s, &wk, true);
				first = false;
			}
			strbuf_addstr(sb, ") all wait among these");
		}
		strbuf_addstr(sb, i + 1 < d->n ? ";\n" : ".\n");
	}
}

/* Likely hang: thread "re" (tid 12) has held the GIL for at least 0.2 s
 * inside a C call while 3 threads wait for it:
 *   it runs at app.py:9 in slow (C: sre_ucs1_match in _sre.so), running;
 *   no other Python code of its interpreter runs until the call returns. */
static void gil_held_story(struct strbuf *sb, const struct snapshot *s,
			   const struct snap_gil_held *g,
			   const struct out_opts *o)
{
	struct snap_party th = { false, g->thread_id };
	const struct snap_thread *t = snap_party_thread(s, &th);

	strbuf_addf(sb, "%sLikely hang%s: ", col(o, C_WARN), col(o, C_OFF));
	party(sb, s, &th, true);
	if (t && t->native_id >= 0)
		strbuf_addf(sb, " (tid %" PRId64 ")", t->native_id);
	strbuf_addf(sb, " has held the GIL for at least %.1f s inside a C "
		    "call while %zu thread%s wait%s for it:\n  it runs", g->held,
		    g->waiters, g->waiters == 1 ? "" : "s",
		    g->waiters == 1 ? "s" : "");
	if (t && t->nframes) {
		struct snap_place at = { t->frames[0].function,
					 t->frames[0].filename,
					 t->frames[0].line };

		strbuf_addstr(sb, " at ");
		place(sb, &at);
		strbuf_addstr(sb, " in ");
		escape_text(sb, at.function);
	}
	if (g->function) {
		strbuf_addstr(sb, " (C: ");
		escape_text(sb, g->function);
		if (g->library) {
			strbuf_addstr(sb, " in ");
			escape_text(sb, g->library);
		}
		strbuf_addch(sb, ')');
	}
	if (t) {
		strbuf_addstr(sb, ", ");
		thread_doing(sb, t);
	}
	strbuf_addstr(sb, ";\n    no other Python code of its interpreter runs "
		      "until the call returns or lets go of the GIL.\n");
}

/* Deadlock: 2 processes wait for each other and will never go on:
 *   process 100 (python3 parent.py), thread "MainThread" (TID 100) at
 *   parent.py:9 in main, in wait4, waits for child 101 to exit;
 *   process 101 (cat big), TID 101, in write to pipe:[1234] (fd 1), waits
 *   for process 100 to read it.
 * A peer that runs Python has its blocked thread's stack under it. */
static void proc_wait_story(struct strbuf *sb, const struct snapshot *s,
			    const struct snap_proc_wait *w,
			    const struct out_opts *o)
{
	size_t n = w->n - w->cycle_from;

	if (w->deadlock)
		strbuf_addf(sb, "%sDeadlock%s: %zu processes wait for each "
			    "other and will never go on:\n", col(o, C_WARN),
			    col(o, C_OFF), n);
	else
		strbuf_addf(sb, "%sLikely hang%s: a thread waits behind %zu "
			    "processes that wait for each other:\n",
			    col(o, C_WARN), col(o, C_OFF), n);
	for (size_t i = 0; i < w->n; i++) {
		const struct snap_proc_step *st = &w->steps[i];

		strbuf_addf(sb, "  process %" PRId64, st->pid);
		if (st->cmdline || st->comm) {
			strbuf_addstr(sb, " (");
			escape_text(sb, st->cmdline ? st->cmdline : st->comm);
			strbuf_addch(sb, ')');
		}
		if (st->thread_id) {
			struct snap_party who = { false, st->thread_id };
			const struct snap_thread *t = snap_party_thread(s, &who);
			const struct snap_frame *f =
				t ? snap_thread_user_frame(t) : NULL;

			strbuf_addstr(sb, ", ");
			party(sb, s, &who, true);
			strbuf_addf(sb, " (TID %" PRId64 ")", st->tid);
			if (f) {
				struct snap_place at = { f->function,
							 f->filename, f->line };

				strbuf_addstr(sb, " at ");
				place(sb, &at);
				strbuf_addstr(sb, " in ");
				escape_text(sb, f->function);
			}
		} else {
			strbuf_addf(sb, ", TID %" PRId64, st->tid);
		}
		strbuf_addstr(sb, ", in ");
		escape_text(sb, st->syscall ? st->syscall : "?");
		if (st->kind == SNAP_WAIT_CHILD)
			strbuf_addf(sb, ", waits for child %" PRId64
				    " to exit", st->waits_for);
		else
			strbuf_addf(sb, " %s %s:[%" PRIu64 "] (fd %d), waits "
				    "for process %" PRId64 " to %s it",
				    st->writes ? "to" : "from",
				    snap_wait_kind_name(st->kind), st->inode,
				    st->fd, st->waits_for,
				    st->writes ? "read" : "write to");
		strbuf_addstr(sb, i + 1 < w->n ? ";\n" : ".\n");
		if (!st->python)
			continue;
		strbuf_addstr(sb, "    its Python ");
		escape_text(sb, st->python);
		strbuf_addstr(sb, st->nframes ? " stack (most recent call "
			      "first):\n" : ", no Python stack\n");
		for (size_t k = 0; k < st->nframes; k++) {
			const struct snap_frame *f = &st->frames[k];

			strbuf_addstr(sb, "      File \"");
			escape_text(sb, f->filename);
			strbuf_addstr(sb, "\", line ");
			if (f->line >= 0)
				strbuf_addf(sb, "%d", f->line);
			else
				strbuf_addch(sb, '?');
			strbuf_addstr(sb, ", in ");
			escape_text(sb, f->function);
			strbuf_addch(sb, '\n');
		}
	}
}

static size_t count_kind(const struct snap_chain *c, bool tasks)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->links[i].who.is_task == tasks;
	return n;
}

static void members(struct strbuf *sb, size_t threads, size_t tasks)
{
	if (threads)
		strbuf_addf(sb, "%zu thread%s", threads, threads == 1 ? "" : "s");
	if (threads && tasks)
		strbuf_addstr(sb, " and ");
	if (tasks)
		strbuf_addf(sb, "%zu task%s", tasks, tasks == 1 ? "" : "s");
}

/* Do hang chains a and b differ only in their first party, threads of
 * one group? */
static bool same_hang(const struct snapshot *s, const struct thread_groups *g,
		      const struct snap_chain *a, const struct snap_chain *b)
{
	size_t x, y;
	const struct thread_group *ga, *gb;

	if (a->n != b->n || a->links[0].lock != b->links[0].lock)
		return false;
	for (size_t j = 1; j < a->n; j++)
		if (!snap_same_party(&a->links[j].who, &b->links[j].who) ||
		    a->links[j].lock != b->links[j].lock)
			return false;
	if (a->links[0].who.is_task || b->links[0].who.is_task)
		return false;
	ga = group_of(s, &a->links[0].who, g, &x);
	gb = group_of(s, &b->links[0].who, g, &y);
	return ga && ga == gb;
}

/* The likely hangs; with groups, the chains that the threads of one
 * group open the same way are one story. */
static void hangs_text(struct strbuf *sb, const struct snapshot *s,
		       const struct out_opts *o)
{
	bool *told = xcalloc(s->nhangs + 1, sizeof(*told));
	size_t *first = xcalloc(s->nhangs + 1, sizeof(*first));

	for (size_t i = 0; i < s->nhangs; i++) {
		const struct snap_chain *c = &s->hangs[i];
		size_t n = 0, x;

		if (told[i])
			continue;
		for (size_t j = i; o->groups && j < s->nhangs; j++)
			if (j == i || (!told[j] &&
				       same_hang(s, o->groups, c, &s->hangs[j]))) {
				told[j] = true;
				if (group_of(s, &s->hangs[j].links[0].who,
					     o->groups, &x))
					first[n++] = x;
			}
		if (n > 1)
			qsort(first, n, sizeof(*first), cmp_index);
		strbuf_addf(sb, "%sLikely hang%s: ", col(o, C_WARN),
			    col(o, C_OFF));
		members(sb, count_kind(c, false) + (n > 1 ? n - 1 : 0),
			count_kind(c, true));
		strbuf_addstr(sb, " blocked behind a wait that nothing will "
			      "end:\n");
		hang_story(sb, s, c, first, n);
	}
	free(first);
	free(told);
}

/* The locks held or waited for; *grouped counts the groups of waiters
 * told as one line. */
static void lock_list(struct strbuf *sb, const struct snapshot *s,
		      const struct out_opts *o, size_t *grouped)
{
	if (!s->nlocks)
		return;
	strbuf_addf(sb, "\n%sLocks%s (held or waited for):\n",
		    col(o, C_BOLD), col(o, C_OFF));
	for (size_t i = 0; i < s->nlocks; i++)
		lock_entry(sb, s, &s->locks[i], o, grouped);
}

/* The verdict: every deadlock and likely hang told as a story, or the
 * line that says there is none ('grouped' as lock_list counted). */
static void verdicts(struct strbuf *sb, const struct snapshot *s,
		     const struct out_opts *o, size_t grouped)
{
	int verdict = snap_verdict(s);

	for (size_t i = 0; i < s->nlock_cycles; i++) {
		const struct snap_chain *c = &s->lock_cycles[i];

		strbuf_addf(sb, "%sDeadlock%s: ", col(o, C_WARN), col(o, C_OFF));
		members(sb, count_kind(c, false), count_kind(c, true));
		strbuf_addstr(sb, c->n == 1 ? " waits for itself" :
			      " wait for each other");
		strbuf_addstr(sb, " and will never go on:\n");
		cycle_story(sb, s, c);
	}
	for (size_t i = 0; i < s->ncycles; i++) {
		strbuf_addf(sb, "%sDeadlock%s: %zu task%s await each other and "
			    "will never finish:\n", col(o, C_WARN),
			    col(o, C_OFF), s->cycles[i].n,
			    s->cycles[i].n == 1 ? "" : "s");
		await_story(sb, s, &s->cycles[i]);
	}
	for (size_t i = 0; i < s->nexecutor_deadlocks; i++)
		executor_story(sb, s, &s->executor_deadlocks[i], o);
	for (size_t i = 0; i < s->nproc_waits; i++)
		if (s->proc_waits[i].deadlock)
			proc_wait_story(sb, s, &s->proc_waits[i], o);
	hangs_text(sb, s, o);
	for (size_t i = 0; i < s->nproc_waits; i++)
		if (!s->proc_waits[i].deadlock)
			proc_wait_story(sb, s, &s->proc_waits[i], o);
	for (size_t i = 0; i < s->nblocked_loops; i++)
		blocked_loop_story(sb, s, &s->blocked_loops[i], o);
	for (size_t i = 0; i < s->ngil_held; i++)
		gil_held_story(sb, s, &s->gil_held[i], o);
	if (verdict == SNAP_VERDICT_NONE) {
		size_t waiting = 0;

		for (size_t i = 0; i < s->nlocks; i++)
			waiting += s->locks[i].nwaiters;
		strbuf_addf(sb, "No deadlock: %zu wait%s on locks", waiting,
			    waiting == 1 ? "" : "s");
		if (grouped)
			strbuf_addf(sb, " (%zu group%s of threads with one "
				    "stack)", grouped, grouped == 1 ? "" : "s");
		strbuf_addstr(sb, ", none in a cycle or behind a wait that "
			      "nothing will end.\n");
	}
}

/* Run fn (out_text_locks or out_text_verdicts) with the groups built
 * when o asks for them and the caller did not build them. */
static bool with_groups(struct strbuf *sb, const struct snapshot *s,
			const struct out_opts *o,
			void (*fn)(struct strbuf *, const struct snapshot *,
				   const struct out_opts *))
{
	struct out_opts go = *o;
	struct thread_groups g;

	if (!o->group || o->groups)
		return false;
	thread_groups_build(s, false, &g);
	go.groups = &g;
	fn(sb, s, &go);
	thread_groups_release(&g);
	return true;
}

void out_text_locks(struct strbuf *sb, const struct snapshot *s,
		    const struct out_opts *o)
{
	size_t grouped = 0;

	if (!s->locks_read || with_groups(sb, s, o, out_text_locks))
		return;
	lock_list(sb, s, o, &grouped);
	if (o->summary)
		return; /* the verdicts were told first */
	strbuf_addch(sb, '\n');
	verdicts(sb, s, o, grouped);
}

void out_text_verdicts(struct strbuf *sb, const struct snapshot *s,
		       const struct out_opts *o)
{
	struct strbuf scratch;
	size_t grouped = 0;

	if (!s->locks_read || with_groups(sb, s, o, out_text_verdicts))
		return;
	/* "No deadlock" counts the groups the lock list tells as one */
	strbuf_init(&scratch);
	lock_list(&scratch, s, o, &grouped);
	strbuf_release(&scratch);
	verdicts(sb, s, o, grouped);
}

void out_text_lock_name(struct strbuf *sb, const struct snap_lock *l)
{
	lock_name(sb, l);
}

void out_text_party(struct strbuf *sb, const struct snapshot *s,
		    const struct snap_party *who)
{
	party(sb, s, who, true);
}
