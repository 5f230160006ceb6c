#include <config.h>

#include "tui/view.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const double tui_refresh_steps[] = { 0.25, 0.5, 1, 2, 5, 10 };
const size_t tui_nrefresh_steps =
	sizeof(tui_refresh_steps) / sizeof(tui_refresh_steps[0]);
#define REFRESH_DEFAULT 2 /* 1 s */

/* Below this, only a note that the terminal is too small. */
#define MIN_ROWS 8
#define MIN_COLS 30

void tui_view_init(struct tui_view *v)
{
	memset(v, 0, sizeof(*v));
	v->focus = TUI_PANE_THREADS;
	v->thread_sort = TUI_TCOL_TID;
	v->func_sort = TUI_FCOL_OWN;
	v->func_desc = true;
	v->refresh_idx = REFRESH_DEFAULT;
}

void tui_view_release(struct tui_view *v)
{
	free(v->thread_rows);
	free(v->func_rows);
	memset(v, 0, sizeof(*v));
}

double tui_view_refresh(const struct tui_view *v)
{
	return tui_refresh_steps[v->refresh_idx];
}

void tui_view_set_refresh(struct tui_view *v, double secs)
{
	size_t best = 0;

	for (size_t i = 1; i < tui_nrefresh_steps; i++) {
		double d = tui_refresh_steps[i] - secs;
		double b = tui_refresh_steps[best] - secs;

		if (d * d < b * b)
			best = i;
	}
	v->refresh_idx = (int)best;
}

const char *tui_func_col_name(int col)
{
	static const char *const names[TUI_FCOLS] = {
		"own", "total", "function", "file",
	};

	return col >= 0 && col < TUI_FCOLS ? names[col] : "?";
}

/* ---- rows ------------------------------------------------------------- */

/* Is t the selected thread?  (A forked child's main thread has its
 * parent's thread id: the process tells them apart.) */
static bool is_selected(const struct tui_view *v, const struct tui_thread *t)
{
	return t->thread_id == v->thread_id && t->pid == v->thread_pid;
}

static void select_thread(struct tui_view *v, const struct tui_thread *t)
{
	v->has_thread = true;
	v->thread_id = t->thread_id;
	v->thread_pid = t->pid;
}

uint32_t tui_view_scope(const struct tui_view *v, const struct tui_model *m)
{
	if (!v->per_thread || !v->has_thread)
		return TUI_ALL_THREADS;
	for (size_t i = 0; i < m->nthreads; i++)
		if (is_selected(v, &m->threads[i]))
			return (uint32_t)i;
	return TUI_ALL_THREADS;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

struct sort_ctx {
	const struct tui_view *v;
	const struct tui_model *m;
};

static int cmp_threads(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct tui_thread *a = &c->m->threads[*(const uint32_t *)pa];
	const struct tui_thread *b = &c->m->threads[*(const uint32_t *)pb];
	int r = 0;

	/* Whatever the sort, the live threads come first: when threads come
	 * and go by the thousand, the exited ones must not push the live
	 * ones out of sight. */
	if (a->alive != b->alive)
		return a->alive ? -1 : 1;
	switch (c->v->thread_sort) {
	case TUI_TCOL_NAME:
		r = cmp_str(a->name, b->name);
		break;
	case TUI_TCOL_GIL:
		r = cmp_dbl(ratio(a->gil_rounds, a->rounds),
			    ratio(b->gil_rounds, b->rounds));
		break;
	case TUI_TCOL_ACTIVE:
		r = cmp_dbl(ratio(a->active_rounds, a->rounds),
			    ratio(b->active_rounds, b->rounds));
		break;
	case TUI_TCOL_CPU:
		r = cmp_dbl(a->cpu_pct, b->cpu_pct);
		break;
	default:
		break;
	}
	/* Ties, and the TID column: by TID, then first sight; an unknown
	 * TID ("?") goes last either way. */
	if (!r && (a->native_id > 0) != (b->native_id > 0))
		return a->native_id > 0 ? -1 : 1;
	if (!r)
		r = a->native_id != b->native_id ?
		    (a->native_id < b->native_id ? -1 : 1) :
		    cmp_u64(*(const uint32_t *)pa, *(const uint32_t *)pb);
	return c->v->thread_desc ? -r : r;
}

static int cmp_funcs(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct tui_entry *a = &c->m->entries[*(const uint32_t *)pa];
	const struct tui_entry *b = &c->m->entries[*(const uint32_t *)pb];
	const struct tui_code *ca = &c->m->codes[a->code];
	const struct tui_code *cb = &c->m->codes[b->code];
	int r = 0;

	switch (c->v->func_sort) {
	case TUI_FCOL_OWN:
		r = cmp_u64(a->own, b->own);
		if (!r)
			r = cmp_u64(a->total, b->total);
		break;
	case TUI_FCOL_TOTAL:
		r = cmp_u64(a->total, b->total);
		if (!r)
			r = cmp_u64(a->own, b->own);
		break;
	case TUI_FCOL_FUNCTION:
		r = cmp_str(ca->function, cb->function);
		break;
	case TUI_FCOL_FILE:
		r = cmp_str(ca->filename, cb->filename);
		if (!r)
			r = a->line < b->line ? -1 : a->line > b->line;
		break;
	default:
		break;
	}
	if (c->v->func_desc)
		r = -r;
	/* Ties in a stable order that does not flicker between refreshes:
	 * by name, file and line, always ascending. */
	if (!r)
		r = cmp_str(ca->function, cb->function);
	if (!r)
		r = cmp_str(ca->filename, cb->filename);
	if (!r)
		r = a->line < b->line ? -1 : a->line > b->line;
	return r;
}

static bool func_wanted(const struct tui_view *v, const struct tui_model *m,
			const struct tui_entry *en, uint32_t scope)
{
	const struct tui_code *c = &m->codes[en->code];

	if (en->thread != scope)
		return false;
	if (v->drilled) {
		if (en->code != v->drill_code || en->line == TUI_WHOLE_FUNCTION)
			return false;
	} else if (v->lines != (en->line != TUI_WHOLE_FUNCTION)) {
		return false;
	}
	if (!v->filter[0])
		return true;
	return strcasestr(c->function, v->filter) ||
	       strcasestr(c->filename, v->filter);
}

static void clamp_pane(struct tui_pane_state *p)
{
	if (!p->nrows) {
		p->sel = p->top = 0;
		return;
	}
	if (p->sel >= p->nrows)
		p->sel = p->nrows - 1;
	if (p->top > p->sel)
		p->top = p->sel;
}

void tui_view_update(struct tui_view *v, const struct tui_model *m,
		     size_t nstack, size_t ntask_lines)
{
	struct sort_ctx ctx = { v, m };
	struct tui_pane_state *tp = &v->pane[TUI_PANE_THREADS];
	struct tui_pane_state *fp = &v->pane[TUI_PANE_FUNCS];
	uint32_t scope;
	size_t n = 0;

	v->thread_rows = xgrow(v->thread_rows, &v->thread_rows_cap,
			       m->nthreads + 1, sizeof(*v->thread_rows));
	for (size_t i = 0; i < m->nthreads; i++)
		v->thread_rows[n++] = (uint32_t)i;
	if (n > 1)
		qsort_r(v->thread_rows, n, sizeof(*v->thread_rows), cmp_threads,
			&ctx);
	tp->nrows = n;
	/* The selection follows its thread wherever the sort puts it; a
	 * thread gone since keeps the same row. */
	if (!v->has_thread && n)
		select_thread(v, &m->threads[v->thread_rows[0]]);
	for (size_t r = 0; r < n; r++) {
		if (is_selected(v, &m->threads[v->thread_rows[r]])) {
			tp->sel = r;
			break;
		}
	}
	clamp_pane(tp);
	if (n)
		select_thread(v, &m->threads[v->thread_rows[tp->sel]]);

	if (v->drilled && v->drill_code >= m->ncodes)
		v->drilled = false; /* the counts were reset */
	scope = tui_view_scope(v, m);
	n = 0;
	v->func_rows = xgrow(v->func_rows, &v->func_rows_cap, m->nentries + 1,
			     sizeof(*v->func_rows));
	for (size_t i = 0; i < m->nentries; i++)
		if (func_wanted(v, m, &m->entries[i], scope))
			v->func_rows[n++] = (uint32_t)i;
	if (n > 1)
		qsort_r(v->func_rows, n, sizeof(*v->func_rows), cmp_funcs, &ctx);
	fp->nrows = n;
	clamp_pane(fp);

	v->pane[TUI_PANE_STACK].nrows = nstack;
	clamp_pane(&v->pane[TUI_PANE_STACK]);
	v->pane[TUI_PANE_TASKS].nrows = ntask_lines;
	clamp_pane(&v->pane[TUI_PANE_TASKS]);
	if (!ntask_lines && v->focus == TUI_PANE_TASKS)
		v->focus = TUI_PANE_STACK;
}

/* ---- layout ----------------------------------------------------------- */

bool tui_view_too_small(int rows, int cols)
{
	return rows < MIN_ROWS || cols < MIN_COLS;
}

int tui_view_header_lines(int rows)
{
	return rows >= 16 ? 2 : 1;
}

static struct tui_rect rect(int y, int x, int h, int w)
{
	struct tui_rect r = { y, x, h > 0 ? h : 0, w };

	return r;
}

/* Keep the selected row within the rows shown. */
static void scroll_into_view(struct tui_pane_state *p)
{
	size_t shown = p->r.h > 1 ? (size_t)(p->r.h - 1) : 0;

	if (!shown) {
		p->top = p->sel;
		return;
	}
	if (p->sel < p->top)
		p->top = p->sel;
	else if (p->sel >= p->top + shown)
		p->top = p->sel - shown + 1;
	if (p->nrows > shown && p->top > p->nrows - shown)
		p->top = p->nrows - shown;
	if (p->nrows <= shown)
		p->top = 0;
}

void tui_view_layout(struct tui_view *v, int rows, int cols)
{
	int y = tui_view_header_lines(rows);
	int body = rows - y - 1; /* the status line */
	int nthreads = (int)v->pane[TUI_PANE_THREADS].nrows;
	bool tasks = v->pane[TUI_PANE_TASKS].nrows > 0;
	int ht, hf, hs;

	for (int i = 0; i < TUI_NPANES; i++)
		v->pane[i].r = rect(0, 0, 0, 0);
	if (tui_view_too_small(rows, cols) || v->help)
		return;
	/* Threads: up to a fifth of the body (at least two rows); the
	 * functions and the stack share the rest; small screens lose the
	 * stack first. */
	ht = 1 + (nthreads < 1 ? 1 : nthreads);
	if (ht > 1 + (body / 5 > 2 ? body / 5 : 2))
		ht = 1 + (body / 5 > 2 ? body / 5 : 2);
	if (body < 12) {
		hf = body - ht;
		hs = 0;
	} else {
		hf = (body - ht) / 2;
		hs = body - ht - hf;
	}
	v->pane[TUI_PANE_THREADS].r = rect(y, 0, ht, cols);
	v->pane[TUI_PANE_FUNCS].r = rect(y + ht, 0, hf, cols);
	y += ht + hf;
	if (hs > 0 && tasks && cols >= 110) {
		int ws = cols * 11 / 20;

		v->pane[TUI_PANE_STACK].r = rect(y, 0, hs, ws);
		v->pane[TUI_PANE_TASKS].r = rect(y, ws, hs, cols - ws);
	} else if (hs >= 8 && tasks) {
		/* The tasks below the stack: what they need, up to half. */
		int htasks = (int)v->pane[TUI_PANE_TASKS].nrows + 1;

		if (htasks > hs / 2)
			htasks = hs / 2;
		v->pane[TUI_PANE_STACK].r = rect(y, 0, hs - htasks, cols);
		v->pane[TUI_PANE_TASKS].r = rect(y + hs - htasks, 0, htasks,
						 cols);
	} else if (hs > 0) {
		v->pane[TUI_PANE_STACK].r = rect(y, 0, hs, cols);
	}
	for (int i = 0; i < TUI_NPANES; i++)
		scroll_into_view(&v->pane[i]);
	if (!v->pane[v->focus].r.h)
		v->focus = TUI_PANE_FUNCS;
}

/* ---- actions ---------------------------------------------------------- */

typedef unsigned (*action_fn)(struct tui_view *v, const struct tui_model *m);

static struct tui_pane_state *focused(struct tui_view *v)
{
	return &v->pane[v->focus];
}

static size_t page(const struct tui_view *v)
{
	int h = v->pane[v->focus].r.h - 1;

	return h > 1 ? (size_t)h : 1;
}

/* The thread of the selected row (after a move in the thread pane). */
static unsigned follow_thread(struct tui_view *v, const struct tui_model *m)
{
	const struct tui_pane_state *p = &v->pane[TUI_PANE_THREADS];

	if (v->focus != TUI_PANE_THREADS || !p->nrows || p->sel >= m->nthreads)
		return TUI_REDRAW;
	select_thread(v, &m->threads[v->thread_rows[p->sel]]);
	v->pane[TUI_PANE_STACK].sel = v->pane[TUI_PANE_STACK].top = 0;
	return TUI_REDRAW | TUI_SNAPSHOT;
}

static unsigned move(struct tui_view *v, const struct tui_model *m, long d)
{
	struct tui_pane_state *p = focused(v);
	long sel = (long)p->sel + d;

	if (!p->nrows)
		return 0;
	if (sel < 0)
		sel = 0;
	if (sel >= (long)p->nrows)
		sel = (long)p->nrows - 1;
	if ((size_t)sel == p->sel)
		return 0;
	p->sel = (size_t)sel;
	scroll_into_view(p);
	return follow_thread(v, m) | (v->locals ? TUI_SNAPSHOT : 0);
}

static unsigned act_up(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, -1);
}

static unsigned act_down(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, 1);
}

static unsigned act_pgup(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, -(long)page(v));
}

static unsigned act_pgdn(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, (long)page(v));
}

static unsigned act_home(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, -(long)focused(v)->nrows);
}

static unsigned act_end(struct tui_view *v, const struct tui_model *m)
{
	return move(v, m, (long)focused(v)->nrows);
}

static unsigned cycle_focus(struct tui_view *v, int step)
{
	for (int i = 1; i <= TUI_NPANES; i++) {
		int p = ((v->focus + step * i) % TUI_NPANES + TUI_NPANES) %
			TUI_NPANES;

		if (v->pane[p].r.h) {
			v->focus = p;
			break;
		}
	}
	return TUI_REDRAW;
}

static unsigned act_tab(struct tui_view *v, const struct tui_model *m)
{
	return cycle_focus(v, 1);
}

static unsigned act_btab(struct tui_view *v, const struct tui_model *m)
{
	return cycle_focus(v, -1);
}

static unsigned act_enter(struct tui_view *v, const struct tui_model *m)
{
	struct tui_pane_state *p = focused(v);

	switch (v->focus) {
	case TUI_PANE_THREADS:
		/* Drill into the thread: its functions. */
		if (!p->nrows)
			return 0;
		select_thread(v, &m->threads[v->thread_rows[p->sel]]);
		v->per_thread = true;
		v->focus = TUI_PANE_FUNCS;
		v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
		return TUI_REDRAW | TUI_SNAPSHOT;
	case TUI_PANE_FUNCS:
		/* Drill into the function: its lines. */
		if (!p->nrows || v->drilled)
			return 0;
		v->drilled = true;
		v->drill_code = m->entries[v->func_rows[p->sel]].code;
		p->sel = p->top = 0;
		return TUI_REDRAW;
	case TUI_PANE_STACK:
		v->locals = !v->locals;
		return TUI_REDRAW | TUI_SNAPSHOT;
	default:
		return 0;
	}
}

static unsigned act_esc(struct tui_view *v, const struct tui_model *m)
{
	if (v->drilled) {
		v->drilled = false;
		v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
		return TUI_REDRAW;
	}
	if (v->filter[0]) {
		v->filter[0] = 0;
		return TUI_REDRAW;
	}
	if (v->locals) {
		v->locals = false;
		return TUI_REDRAW;
	}
	if (v->per_thread) {
		v->per_thread = false;
		return TUI_REDRAW;
	}
	return 0;
}

static unsigned act_sort(struct tui_view *v, const struct tui_model *m)
{
	if (v->focus == TUI_PANE_THREADS) {
		v->thread_sort = (v->thread_sort + 1) % TUI_TCOLS;
		/* Numbers read best largest first, names A to Z. */
		v->thread_desc = v->thread_sort != TUI_TCOL_TID &&
				 v->thread_sort != TUI_TCOL_NAME;
	} else {
		v->func_sort = (v->func_sort + 1) % TUI_FCOLS;
		v->func_desc = v->func_sort == TUI_FCOL_OWN ||
			       v->func_sort == TUI_FCOL_TOTAL;
	}
	return TUI_REDRAW;
}

static unsigned act_sort_dir(struct tui_view *v, const struct tui_model *m)
{
	if (v->focus == TUI_PANE_THREADS)
		v->thread_desc = !v->thread_desc;
	else
		v->func_desc = !v->func_desc;
	return TUI_REDRAW;
}

static unsigned act_filter(struct tui_view *v, const struct tui_model *m)
{
	v->prompt = true;
	v->message[0] = 0;
	return TUI_REDRAW;
}

static unsigned act_threads(struct tui_view *v, const struct tui_model *m)
{
	v->per_thread = !v->per_thread;
	v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
	return TUI_REDRAW;
}

static unsigned act_lines(struct tui_view *v, const struct tui_model *m)
{
	v->lines = !v->lines;
	v->drilled = false;
	v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
	return TUI_REDRAW;
}

static unsigned act_reset(struct tui_view *v, const struct tui_model *m)
{
	v->drilled = false;
	v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
	snprintf(v->message, sizeof(v->message), "counters reset");
	return TUI_REDRAW | TUI_RESET;
}

static unsigned act_pause(struct tui_view *v, const struct tui_model *m)
{
	v->paused = !v->paused;
	return TUI_REDRAW | TUI_PAUSE | (v->paused ? 0 : TUI_SNAPSHOT);
}

static unsigned refresh_step(struct tui_view *v, int d)
{
	int i = v->refresh_idx + d;

	if (i >= 0 && (size_t)i < tui_nrefresh_steps)
		v->refresh_idx = i;
	snprintf(v->message, sizeof(v->message), "refresh every %g s",
		 tui_view_refresh(v));
	return TUI_REDRAW;
}

static unsigned act_slower(struct tui_view *v, const struct tui_model *m)
{
	return refresh_step(v, 1);
}

static unsigned act_faster(struct tui_view *v, const struct tui_model *m)
{
	return refresh_step(v, -1);
}

static unsigned act_native(struct tui_view *v, const struct tui_model *m)
{
	if (!v->native_available) {
		snprintf(v->message, sizeof(v->message),
			 "native frames: start top with --native (each "
			 "thread read is then stopped alone)");
		return TUI_REDRAW;
	}
	v->native = !v->native;
	snprintf(v->message, sizeof(v->message), "stack: %s",
		 v->native ? "Python and C frames" : "Python frames only");
	return TUI_REDRAW | TUI_SNAPSHOT;
}

static unsigned act_help(struct tui_view *v, const struct tui_model *m)
{
	v->help = !v->help;
	return TUI_REDRAW;
}

static unsigned act_quit(struct tui_view *v, const struct tui_model *m)
{
	return TUI_QUIT;
}

/* The key table: every key, what it does, and the help screen's text. */
static const struct keydef {
	int keys[4];
	const char *label;
	const char *what;
	action_fn fn;
} keydefs[] = {
	{ { 'q' }, "q", "quit (the terminal is restored, the process runs on)",
	  act_quit },
	{ { ' ', 'p' }, "space p", "pause: the view and the sampling stop until "
	  "pressed again", act_pause },
	{ { TUI_KEY_UP, 'k' }, "Up k", "move up", act_up },
	{ { TUI_KEY_DOWN, 'j' }, "Down j", "move down", act_down },
	{ { TUI_KEY_PGUP }, "PgUp", "page up", act_pgup },
	{ { TUI_KEY_PGDN }, "PgDn", "page down", act_pgdn },
	{ { TUI_KEY_HOME, 'g' }, "Home g", "first row", act_home },
	{ { TUI_KEY_END, 'G' }, "End G", "last row", act_end },
	{ { TUI_KEY_TAB, TUI_KEY_RIGHT }, "Tab", "next pane", act_tab },
	{ { TUI_KEY_BTAB, TUI_KEY_LEFT }, "S-Tab", "previous pane", act_btab },
	{ { TUI_KEY_ENTER }, "Enter", "threads: show that thread's functions; "
	  "functions: show that function's lines; stack: show or hide the "
	  "selected frame's locals", act_enter },
	{ { TUI_KEY_ESC, TUI_KEY_BACKSPACE }, "Esc", "back: leave a function, "
	  "clear the filter, hide locals, all threads again", act_esc },
	{ { 's' }, "s", "sort by the next column (of the focused table)",
	  act_sort },
	{ { 'S' }, "S", "reverse the sort", act_sort_dir },
	{ { '/' }, "/", "filter functions by name or file (Enter keeps it, "
	  "Esc clears it)", act_filter },
	{ { 't' }, "t", "functions of the selected thread / of all threads",
	  act_threads },
	{ { 'l' }, "l", "line-level / function-level rows", act_lines },
	{ { 'r' }, "r", "reset the counters", act_reset },
	{ { '+' }, "+", "refresh more often", act_faster },
	{ { '-' }, "-", "refresh less often", act_slower },
	{ { 'n' }, "n", "C frames in the stack, or not (top --native)",
	  act_native },
	{ { '?', 'h' }, "? h", "this help (any key closes it)", act_help },
};
#define NKEYDEFS (sizeof(keydefs) / sizeof(keydefs[0]))

size_t tui_view_nhelp(void)
{
	return NKEYDEFS;
}

void tui_view_help(size_t i, const char **keys, const char **what)
{
	*keys = i < NKEYDEFS ? keydefs[i].label : "";
	*what = i < NKEYDEFS ? keydefs[i].what : "";
}

/* Typing the filter: characters go into it. */
static unsigned prompt_key(struct tui_view *v, int key)
{
	size_t n = strlen(v->filter);

	switch (key) {
	case TUI_KEY_ENTER:
		v->prompt = false;
		break;
	case TUI_KEY_ESC:
		v->prompt = false;
		v->filter[0] = 0;
		break;
	case TUI_KEY_BACKSPACE:
		/* Drop one UTF-8 character. */
		while (n > 0 && ((unsigned char)v->filter[--n] & 0xc0) == 0x80)
			;
		v->filter[n] = 0;
		break;
	default:
		if (key < 0x20 || key > 0xff || key == 0x7f)
			return 0;
		if (n < TUI_FILTER_MAX) {
			v->filter[n] = (char)key;
			v->filter[n + 1] = 0;
		}
		break;
	}
	v->pane[TUI_PANE_FUNCS].sel = v->pane[TUI_PANE_FUNCS].top = 0;
	return TUI_REDRAW;
}

unsigned tui_view_key(struct tui_view *v, const struct tui_model *m, int key)
{
	unsigned redraw = 0;

	if (v->prompt)
		return prompt_key(v, key);
	if (v->help) {
		v->help = false;
		return TUI_REDRAW;
	}
	if (v->message[0]) {
		/* a message lasts until the next key, which still acts */
		v->message[0] = 0;
		redraw = TUI_REDRAW;
	}
	for (size_t i = 0; i < NKEYDEFS; i++)
		for (size_t k = 0; k < 4 && keydefs[i].keys[k]; k++)
			if (keydefs[i].keys[k] == key)
				return keydefs[i].fn(v, m) | redraw;
	return redraw;
}

unsigned tui_view_click(struct tui_view *v, const struct tui_model *m,
			int y, int x)
{
	for (int i = 0; i < TUI_NPANES; i++) {
		struct tui_pane_state *p = &v->pane[i];
		size_t row;

		if (!p->r.h || y < p->r.y || y >= p->r.y + p->r.h ||
		    x < p->r.x || x >= p->r.x + p->r.w)
			continue;
		v->focus = i;
		if (y == p->r.y)
			return TUI_REDRAW; /* the title */
		row = p->top + (size_t)(y - p->r.y - 1);
		if (row >= p->nrows || i == TUI_PANE_STACK)
			return TUI_REDRAW;
		return move(v, m, (long)row - (long)p->sel) | TUI_REDRAW;
	}
	return 0;
}
