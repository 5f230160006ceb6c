/*
 * out_summary.c - the diagnosis that opens the text of dump and deadlock:
 * the verdicts, then one line per thread or group of threads with the
 * same stack, in columns, so that the first screen of a dump of hundreds
 * of threads says what is stuck, on what, and who could end the wait:
 *
 *   THREAD                    STATE             WAITING FOR              HELD BY
 *   "alpha" (tid 17418)       blocked in futex  <threading.Lock 0x7f..>  thread "beta"
 *   100 threads "w0"-"w99"    blocked in futex  <threading.Event 0x7f..> -
 *
 * and a last column WHERE ("app.py:23 in main"); cells longer than their
 * column's cap are cut with "...".  Everything shown was escaped first;
 * widths count code points.
 */
#include <config.h>

#include "common/escape.h"
#include "common/xalloc.h"
#include "cli/out.h"
#include "model/thread_groups.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_WHO, COL_STATE, COL_WAIT, COL_HOLDER, COL_WHERE, NCOLS };

/* Column caps in code points; the last column is not padded, only cut. */
static const size_t col_cap[NCOLS] = { 40, 28, 52, 30, 60 };
static const char *const col_title[NCOLS] = {
	"THREAD", "STATE", "WAITING FOR", "HELD BY", "WHERE"
};

struct row {
	struct strbuf cell[NCOLS];
};

/* Code points of UTF-8 s (escaped text: valid UTF-8). */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Cut cell c to at most 'cap' code points, ending in "..." when cut. */
static void cut(struct strbuf *c, size_t cap)
{
	size_t n = 0, i;

	if (cap < 4)
		cap = 4;
	if (width(c->buf) <= cap)
		return;
	for (i = 0; c->buf[i]; i++) {
		if (((unsigned char)c->buf[i] & 0xc0) != 0x80 && n++ == cap - 3)
			break;
	}
	/* longer than cap, so the buffer is the cell's own */
	c->len = i;
	c->buf[i] = '\0';
	strbuf_addstr(c, "...");
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "?";
}

/* '"MainThread" (tid 12)', or a group: '100 threads "w0"-"w99"'. */
static void who_cell(struct strbuf *c, const struct snapshot *s,
		     const size_t *idx, size_t n)
{
	const struct snap_thread *t = &s->threads[idx[0]];
	const char **names;
	struct thread_run *runs;
	size_t nr;

	if (n == 1) {
		char tid[40] = "";

		if (t->native_id >= 0)
			snprintf(tid, sizeof(tid), " (tid %" PRId64 ")",
				 t->native_id);
		if (t->name) {
			struct strbuf name;

			/* a long name is cut, never its TID */
			strbuf_init(&name);
			escape_text(&name, t->name);
			cut(&name, col_cap[COL_WHO] - strlen(tid) - 2);
			strbuf_addch(c, '"');
			strbuf_addstr(c, name.buf);
			strbuf_addch(c, '"');
			strbuf_release(&name);
		} else {
			strbuf_addf(c, "%s%" PRIu64, t->native_only ?
				    "native " : "", t->thread_id);
		}
		strbuf_addstr(c, tid);
		return;
	}
	/* the count first: it survives a cut of the names */
	strbuf_addf(c, "%zu threads ", n);
	names = xcalloc(n, sizeof(*names));
	runs = xcalloc(n, sizeof(*runs));
	for (size_t i = 0; i < n; i++)
		names[i] = s->threads[idx[i]].name;
	nr = thread_name_runs(names, n, runs);
	for (size_t r = 0; r < nr; r++) {
		const struct snap_thread *a = &s->threads[idx[runs[r].first]];
		const struct snap_thread *b = &s->threads[idx[runs[r].last]];

		strbuf_addstr(c, r ? ", " : "");
		if (!a->name) {
			strbuf_addf(c, "%" PRIu64, a->thread_id);
			continue;
		}
		strbuf_addch(c, '"');
		escape_text(c, a->name);
		strbuf_addch(c, '"');
		if (runs[r].last != runs[r].first) {
			strbuf_addstr(c, "-\"");
			escape_text(c, b->name);
			strbuf_addch(c, '"');
		}
	}
	free(runs);
	free(names);
}

/* "running", "waiting for the GIL", "blocked in futex", ... and whether
 * it holds the GIL. */
static void state_cell(struct strbuf *c, const struct snap_thread *t)
{
	const char *os = snap_os_state_name(t->os.state);

	if (t->gil == SNAP_GIL_WAITS)
		strbuf_addstr(c, "waiting for the GIL");
	else if (t->os.state == 'R')
		strbuf_addstr(c, "running");
	else if (t->os.syscall[0])
		strbuf_addf(c, "%s %s", t->os.state == 'D' ? "disk wait in" :
			    "blocked in", t->os.syscall);
	else
		strbuf_addstr(c, os ? os : "unknown");
	if (t->holds_gil)
		strbuf_addstr(c, ", holds the GIL");
	if (t->gc)
		strbuf_addstr(c, ", in gc");
}

/* The thread that holds the GIL of t's interpreter, or NULL. */
static const struct snap_thread *gil_holder(const struct snapshot *s,
					    const struct snap_thread *t)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].holds_gil &&
		    s->threads[i].interp_id == t->interp_id)
			return &s->threads[i];
	return NULL;
}

static void thread_name(struct strbuf *c, const struct snapshot *s,
			const struct snap_thread *t)
{
	struct snap_party p = { false, t->thread_id };

	out_text_party(c, s, &p);
}

/* What it waits for (a lock, a future, the GIL, a socket, pipe or
 * child, an event loop's events; "-") in c, and who could end the wait in h (the lock's or the
 * GIL's holder; "unknown" for a lock taken without a with statement;
 * "-", and for a join, whose thread the first cell names). */
static void wait_cells(struct strbuf *c, struct strbuf *h,
		       const struct snapshot *s, const struct snap_thread *t)
{
	const struct snap_lock *l = snap_find_lock(s, t->waits_for);
	const char *importing = snap_thread_importing(t);

	if (l && l->type == SNAP_LOCK_THREAD) {
		/* a join: the thread joined is named once, here */
		strbuf_addstr(c, "the end of ");
		if (l->has_holder)
			out_text_party(c, s, &l->holder);
		else
			strbuf_addf(c, "<thread 0x%" PRIx64 ">", l->address);
	} else if (l) {
		out_text_lock_name(c, l);
		if (l->has_holder)
			out_text_party(h, s, &l->holder);
		else if (!snap_lock_type_holderless(l->type))
			strbuf_addstr(h, "unknown");
	} else if (t->waits_future) {
		const struct snap_work *w = snap_find_work(s, t->waits_future);

		strbuf_addf(c, "future 0x%" PRIx64, t->waits_future);
		if (w && w->function) {
			strbuf_addstr(c, " (");
			escape_text(c, w->function);
			strbuf_addch(c, ')');
		}
	} else if (t->nwaits_futures) {
		strbuf_addf(c, "%s of %zu futures", t->waits_any ? "one" :
			    "all", t->nwaits_futures);
	} else if (t->gil == SNAP_GIL_WAITS) {
		const struct snap_thread *g = gil_holder(s, t);

		strbuf_addstr(c, "the GIL");
		if (g && g != t)
			thread_name(h, s, g);
	} else if (t->waits_on) {
		struct strbuf w;

		strbuf_init(&w);
		out_text_wait(&w, t->waits_on);
		/* " on TCP ..." / " for child 12": the column says "for" */
		strbuf_addstr(c, w.buf + (!strncmp(w.buf, " on ", 4) ? 4 :
					  w.len ? 1 : 0));
		strbuf_release(&w);
	} else if (snap_thread_in_selector(t)) {
		strbuf_addstr(c, "events (an idle event loop)");
	}
	if (importing) {
		strbuf_addstr(c, c->len ? ", importing '" : "importing '");
		escape_text(c, importing);
		strbuf_addch(c, '\'');
	}
	if (!c->len)
		strbuf_addch(c, '-');
	if (!h->len)
		strbuf_addch(h, '-');
}

/* "app.py:23 in main": where it waits for its lock (the frame that took
 * it, past queue's and threading's own), else its innermost frame of its
 * own code (outside threading and concurrent.futures), else its
 * innermost; "(no Python frames)". */
static void where_cell(struct strbuf *c, const struct snapshot *s,
		       const struct snap_thread *t)
{
	const struct snap_lock *l = snap_find_lock(s, t->waits_for);
	const struct snap_frame *f = snap_thread_user_frame(t);

	for (size_t i = 0; l && i < l->nwaiters; i++) {
		const struct snap_lock_waiter *w = &l->waiters[i];

		if (w->who.is_task || w->who.id != t->thread_id ||
		    !w->at.filename)
			continue;
		escape_text(c, base_name(w->at.filename));
		if (w->at.line >= 0)
			strbuf_addf(c, ":%d", w->at.line);
		strbuf_addstr(c, " in ");
		escape_text(c, w->at.function ? w->at.function : "?");
		return;
	}
	if (!f && t->nframes)
		f = &t->frames[0];
	if (!f) {
		strbuf_addstr(c, t->error ? "(stack unreadable)" :
			      "(no Python frames)");
		return;
	}
	escape_text(c, base_name(f->filename));
	if (f->line >= 0)
		strbuf_addf(c, ":%d", f->line);
	strbuf_addstr(c, " in ");
	escape_text(c, f->function);
}

static void pad(struct strbuf *sb, size_t n)
{
	while (n--)
		strbuf_addch(sb, ' ');
}

/* The table of rows, columns as wide as their widest cell. */
static void table(struct strbuf *sb, struct row *rows, size_t n,
		  const struct out_opts *o)
{
	size_t w[NCOLS];

	for (int k = 0; k < NCOLS; k++) {
		w[k] = width(col_title[k]);
		for (size_t i = 0; i < n; i++) {
			cut(&rows[i].cell[k], col_cap[k]);
			if (width(rows[i].cell[k].buf) > w[k])
				w[k] = width(rows[i].cell[k].buf);
		}
	}
	strbuf_addf(sb, "  %s", col(o, C_DIM));
	for (int k = 0; k < NCOLS; k++) {
		strbuf_addstr(sb, col_title[k]);
		if (k + 1 < NCOLS)
			pad(sb, w[k] - width(col_title[k]) + 2);
	}
	strbuf_addf(sb, "%s\n", col(o, C_OFF));
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(sb, "  ");
		for (int k = 0; k < NCOLS; k++) {
			const char *text = rows[i].cell[k].buf;

			strbuf_addstr(sb, text);
			if (k + 1 < NCOLS)
				pad(sb, w[k] - width(text) + 2);
		}
		strbuf_addch(sb, '\n');
	}
}

static void summary(struct strbuf *sb, const struct snapshot *s,
		    const struct out_opts *o)
{
	const struct thread_groups *g = o->groups;
	size_t nlines = g ? g->n : s->nthreads;
	size_t shown = nlines < OUT_SUMMARY_ROWS ? nlines : OUT_SUMMARY_ROWS;
	struct row *rows = xcalloc(shown + 1, sizeof(*rows));
	size_t left = 0;

	if (s->locks_read) {
		strbuf_addch(sb, '\n');
		out_text_verdicts(sb, s, o);
	}
	if (!s->nthreads) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < nlines; i++) {
		const size_t *idx = g ? g->v[i].members : &i;
		size_t n = g ? g->v[i].n : 1;
		const struct snap_thread *t = &s->threads[idx[0]];

		if (i >= shown) {
			left += n;
			continue;
		}
		for (int k = 0; k < NCOLS; k++)
			strbuf_init(&rows[i].cell[k]);
		who_cell(&rows[i].cell[COL_WHO], s, idx, n);
		state_cell(&rows[i].cell[COL_STATE], t);
		wait_cells(&rows[i].cell[COL_WAIT], &rows[i].cell[COL_HOLDER],
			   s, t);
		where_cell(&rows[i].cell[COL_WHERE], s, t);
	}
	strbuf_addf(sb, "\n%sThreads%s (%zu%s):\n",
		    col(o, C_BOLD), col(o, C_OFF), s->nthreads, nlines ==
		    s->nthreads ? "" : ", one line per group with one stack");
	table(sb, rows, shown, o);
	if (left)
		strbuf_addf(sb, "  ... and %zu more thread%s\n",
			    left, left == 1 ? "" : "s");
	for (size_t i = 0; i < shown; i++)
		for (int k = 0; k < NCOLS; k++)
			strbuf_release(&rows[i].cell[k]);
	free(rows);
}

void out_text_summary(struct strbuf *sb, const struct snapshot *s,
		      const struct out_opts *o)
{
	struct out_opts go = *o;
	struct thread_groups g;

	if (!o->group || o->groups) {
		summary(sb, s, o);
		return;
	}
	thread_groups_build(s, false, &g);
	go.groups = &g;
	summary(sb, s, &go);
	thread_groups_release(&g);
}
