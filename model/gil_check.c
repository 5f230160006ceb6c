/*
 * gil_check.c - a thread that holds the GIL inside a C call while other
 * threads wait for it.
 *
 * A thread running Python code gives the GIL up every switch interval
 * (sys.getswitchinterval(), 5 ms) when another thread asks for it, so
 * with waiters the holder changes many times a second and its frame
 * moves on.  A C function that neither returns nor releases the GIL (a
 * regex that backtracks for minutes, an extension's long loop, a
 * blocking call made without Py_BEGIN_ALLOW_THREADS) keeps it: the same
 * thread holds it in every look, at the same Python frame and
 * instruction (the one calling into C), while the others stay in
 * take_gil().  One snapshot cannot tell this from a holder caught at a
 * moment, so the caller takes a few more over a short window.
 */
#include <config.h>

#include "model/snapshot.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Does u wait for the GIL?  Seen asleep on the GIL's condition, or, with
 * its native stack, anywhere in CPython's take_gil() (3.2+; "take_gil",
 * or an LTO build's "take_gil.lto_priv.0"): a waiter woken by its timed
 * wait (every switch interval) runs for a moment, or waits for a CPU on
 * a loaded machine, between two sleeps on the condition. */
static bool waits_gil(const struct snap_thread *u)
{
	if (u->gil == SNAP_GIL_WAITS)
		return true;
	for (size_t i = 0; u->has_native && i < u->nnative; i++) {
		const struct snap_native *n = &u->native[i];

		if (n->kind == SNAP_STACK_PYTHON)
			return false;
		if (n->kind == SNAP_STACK_NATIVE && n->function &&
		    !strncmp(n->function, "take_gil", 8) &&
		    (!n->function[8] || n->function[8] == '.'))
			return true;
	}
	return false;
}

static size_t gil_waiters(const struct snapshot *s, int64_t interp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nthreads; i++)
		n += s->threads[i].interp_id == interp &&
		     waits_gil(&s->threads[i]);
	return n;
}

static const struct snap_thread *find_thread(const struct snapshot *s,
					     uint64_t id, int64_t interp)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].thread_id == id &&
		    s->threads[i].interp_id == interp)
			return &s->threads[i];
	return NULL;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The same Python stack, innermost frame at the same instruction. */
static bool same_place(const struct snap_thread *a,
		       const struct snap_thread *b)
{
	if (a->nframes != b->nframes || !a->nframes)
		return false;
	for (size_t i = 0; i < a->nframes; i++) {
		const struct snap_frame *x = &a->frames[i], *y = &b->frames[i];

		if (x->code != y->code || x->addr != y->addr ||
		    x->line != y->line || x->torn || y->torn ||
		    !str_same(x->function, y->function))
			return false;
	}
	return a->frames[0].column == b->frames[0].column &&
	       a->frames[0].end_column == b->frames[0].end_column &&
	       a->frames[0].end_line == b->frames[0].end_line;
}

/* Could thread u be waiting for the GIL?  It is seen waiting, or it runs
 * or sleeps on a futex (or restarts one a pause interrupted) where the
 * GIL's wait was not told apart. */
static bool may_wait(const struct snap_thread *u)
{
	return waits_gil(u) || u->os.state == 'R' ||
	       !strcmp(u->os.syscall, "futex") ||
	       !strcmp(u->os.syscall, "restart_syscall");
}

bool snap_gil_contended(const struct snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];

		if (!t->holds_gil || !t->nframes)
			continue;
		for (size_t k = 0; k < s->nthreads; k++)
			if (k != i && s->threads[k].interp_id == t->interp_id &&
			    !s->threads[k].native_only &&
			    may_wait(&s->threads[k]))
				return true;
	}
	return false;
}

static bool in_libc(const char *lib)
{
	return lib && (!strncmp(lib, "libc.", 5) ||
		       !strncmp(lib, "libc-", 5) ||
		       !strncmp(lib, "ld-linux", 8) ||
		       !strncmp(lib, "libpthread", 10));
}

/* The C function t runs (--native): the innermost of its C frames above
 * its innermost Python frame that is not the C library's (memcpy,
 * malloc: the call that matters is the one that called them), else the
 * innermost. */
static void native_top(const struct snap_thread *t, struct snap_gil_held *g)
{
	const struct snap_native *pick = NULL;

	for (size_t i = 0; t->has_native && i < t->nnative; i++) {
		const struct snap_native *n = &t->native[i];

		if (n->kind == SNAP_STACK_PYTHON)
			break;
		if (n->kind != SNAP_STACK_NATIVE || !n->function)
			continue;
		if (!pick)
			pick = n;
		if (!in_libc(n->library)) {
			pick = n;
			break;
		}
	}
	if (!pick)
		return;
	g->function = xstrdup(pick->function);
	g->library = pick->library ? xstrdup(pick->library) : NULL;
}

void snap_find_gil_held(struct snapshot *s,
			const struct snapshot *const *looks, size_t nlooks,
			double window)
{
	if (!nlooks)
		return;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		size_t most = gil_waiters(s, t->interp_id);
		struct snap_gil_held *g;
		bool held = t->holds_gil && t->nframes;

		for (size_t k = 0; held && k < nlooks; k++) {
			const struct snap_thread *u = find_thread(looks[k],
				t->thread_id, t->interp_id);
			size_t w = gil_waiters(looks[k], t->interp_id);

			held = u && u->holds_gil && same_place(t, u);
			if (w > most)
				most = w;
		}
		if (!held || !most)
			continue;
		s->gil_held = xrealloc(s->gil_held, (s->ngil_held + 1) *
				       sizeof(*s->gil_held));
		g = &s->gil_held[s->ngil_held++];
		memset(g, 0, sizeof(*g));
		g->thread_id = t->thread_id;
		g->held = window;
		g->waiters = most;
		native_top(t, g);
	}
}
