#include <config.h>

#include "tui/screen.h"
#include "common/escape.h"
#include "common/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Locals shown under a frame at most. */
#define MAX_LOCAL_ROWS 64

/* ---- frames and lines -------------------------------------------------- */

void tui_frame_init(struct tui_frame *f, int rows, int cols, bool utf8)
{
	memset(f, 0, sizeof(*f));
	f->rows = rows > 0 ? rows : 0;
	f->cols = cols > 0 ? cols : 0;
	f->utf8 = utf8;
	f->lines = xcalloc((size_t)f->rows + 1, sizeof(*f->lines));
	strbuf_init(&f->scratch);
	for (int y = 0; y < f->rows; y++)
		strbuf_init(&f->lines[y].text);
}

void tui_frame_release(struct tui_frame *f)
{
	for (int y = 0; y < f->rows; y++) {
		strbuf_release(&f->lines[y].text);
		free(f->lines[y].spans);
	}
	free(f->lines);
	strbuf_release(&f->scratch);
	memset(f, 0, sizeof(*f));
}

static void frame_clear(struct tui_frame *f)
{
	for (int y = 0; y < f->rows; y++) {
		strbuf_reset(&f->lines[y].text);
		f->lines[y].nspans = 0;
		f->lines[y].width = 0;
	}
}

bool tui_line_equal(const struct tui_line *a, const struct tui_line *b)
{
	if (a->text.len != b->text.len || a->nspans != b->nspans ||
	    memcmp(a->text.buf, b->text.buf, a->text.len))
		return false;
	for (size_t i = 0; i < a->nspans; i++)
		if (a->spans[i].from != b->spans[i].from ||
		    a->spans[i].to != b->spans[i].to ||
		    a->spans[i].attr != b->spans[i].attr)
			return false;
	return true;
}

void tui_line_copy(struct tui_line *dst, const struct tui_line *src)
{
	strbuf_reset(&dst->text);
	strbuf_add(&dst->text, src->text.buf, src->text.len);
	dst->spans = xgrow(dst->spans, &dst->spans_cap, src->nspans + 1,
			   sizeof(*dst->spans));
	if (src->nspans)
		memcpy(dst->spans, src->spans, src->nspans * sizeof(*src->spans));
	dst->nspans = src->nspans;
	dst->width = src->width;
}

void tui_frame_text(const struct tui_frame *f, struct strbuf *sb)
{
	for (int y = 0; y < f->rows; y++) {
		const struct tui_line *l = &f->lines[y];
		size_t n = l->text.len;

		while (n && l->text.buf[n - 1] == ' ')
			n--;
		strbuf_add(sb, l->text.buf, n);
		strbuf_addch(sb, '\n');
	}
}

static void line_span(struct tui_line *l, size_t from, size_t to, int attr)
{
	struct tui_span *s;

	if (attr == TUI_A_NORMAL || from >= to)
		return;
	l->spans = xgrow(l->spans, &l->spans_cap, l->nspans + 1,
			 sizeof(*l->spans));
	s = &l->spans[l->nspans++];
	s->from = (uint32_t)from;
	s->to = (uint32_t)to;
	s->attr = (uint8_t)attr;
}

/* ---- the pen: writes into one line, within [col, end) ------------------ */

struct pen {
	struct tui_frame *f;
	struct tui_line *l;
	int end;
	int row_attr;      /* TUI_A_NORMAL: pieces keep their own looks */
	size_t row_from;
};

static struct pen pen_at(struct tui_frame *f, int y, int x, int w,
			 int row_attr)
{
	struct pen p = { f, &f->lines[y], x + w, row_attr, 0 };

	if (p.end > f->cols)
		p.end = f->cols;
	while (p.l->width < x) {
		strbuf_addch(&p.l->text, ' ');
		p.l->width++;
	}
	p.row_from = p.l->text.len;
	return p;
}

static int pen_left(const struct pen *p)
{
	return p->end > p->l->width ? p->end - p->l->width : 0;
}

/* Columns of the UTF-8 character s of n bytes. */
static int char_cols(const unsigned char *s, size_t n)
{
	uint32_t cp;
	int w;

	if (n == 1)
		return 1;
	if (n == 2)
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (n == 3)
		cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		     (s[2] & 0x3f);
	else
		cp = (uint32_t)(s[0] & 0x07) << 18 |
		     (uint32_t)(s[1] & 0x3f) << 12 |
		     (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

/* s made safe for the terminal (control characters escaped; ASCII only
 * when the terminal is not UTF-8), in the frame's scratch buffer. */
static const char *safe(struct tui_frame *f, const char *s)
{
	struct strbuf *sb = &f->scratch;

	strbuf_reset(sb);
	escape_text(sb, s ? s : "");
	if (!f->utf8) {
		size_t k = 0;

		for (size_t i = 0; i < sb->len;) {
			size_t n = utf8_seq_len((unsigned char *)sb->buf + i);

			sb->buf[k++] = n > 1 ? '?' : sb->buf[i];
			i += n ? n : 1;
		}
		sb->len = k;
		sb->buf[k] = 0;
	}
	return sb->buf;
}

/* Columns of safe text t. */
static int text_cols(const char *t)
{
	int w = 0;

	for (size_t i = 0; t[i];) {
		size_t n = utf8_seq_len((const unsigned char *)t + i);

		n = n ? n : 1;
		w += char_cols((const unsigned char *)t + i, n);
		i += n;
	}
	return w;
}

/* Append safe text t, at most maxcols columns; returns columns used. */
static int put_safe(struct pen *p, int attr, const char *t, int maxcols)
{
	size_t from = p->l->text.len;
	int used = 0;

	if (maxcols > pen_left(p))
		maxcols = pen_left(p);
	for (size_t i = 0; t[i];) {
		size_t n = utf8_seq_len((const unsigned char *)t + i);
		int w;

		n = n ? n : 1;
		w = char_cols((const unsigned char *)t + i, n);
		if (used + w > maxcols)
			break;
		strbuf_add(&p->l->text, t + i, n);
		used += w;
		i += n;
	}
	p->l->width += used;
	if (p->row_attr == TUI_A_NORMAL)
		line_span(p->l, from, p->l->text.len, attr);
	return used;
}

static int put(struct pen *p, int attr, const char *s)
{
	return put_safe(p, attr, safe(p->f, s), pen_left(p));
}

static int putf(struct pen *p, int attr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int putf(struct pen *p, int attr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(p, attr, buf);
}

static void pad(struct pen *p, int cols)
{
	while (cols-- > 0 && pen_left(p) > 0) {
		strbuf_addch(&p->l->text, ' ');
		p->l->width++;
	}
}

/* s in exactly 'width' columns: cut, or padded (on the left if right). */
static void put_cell(struct pen *p, int attr, const char *s, int width,
		     bool right)
{
	const char *t = safe(p->f, s);
	int w = text_cols(t);

	if (right && w < width)
		pad(p, width - w);
	w = put_safe(p, attr, t, width);
	if (!right)
		pad(p, width - w);
}

/* A path in at most 'width' columns: its end is what tells files apart,
 * so a long one loses its beginning ("...lib/threading.py").  Returns the
 * columns used. */
static int put_path(struct pen *p, int attr, const char *s, int width)
{
	const char *t = safe(p->f, s);
	int w = text_cols(t), used = 0;

	if (w > width && width > 3) {
		while (*t && w > width - 3) {
			size_t n = utf8_seq_len((const unsigned char *)t);

			n = n ? n : 1;
			w -= char_cols((const unsigned char *)t, n);
			t += n;
		}
		used = put_safe(p, TUI_A_DIM, "...", 3);
		width -= 3;
	}
	return used + put_safe(p, attr, t, width);
}

/* Fill the rest of the area; the row's look covers all of it. */
static void pen_finish(struct pen *p)
{
	pad(p, pen_left(p));
	if (p->row_attr != TUI_A_NORMAL)
		line_span(p->l, p->row_from, p->l->text.len, p->row_attr);
}

/* ---- formatting -------------------------------------------------------- */

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

static void fmt_secs(char *buf, size_t size, double s)
{
	if (s < 60)
		snprintf(buf, size, "%.2fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600),
			 (int)(s / 60) % 60);
}

static const char *sort_mark(const struct tui_frame *f, bool desc)
{
	if (f->utf8)
		return desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2"; /* ▼ ▲ */
	return desc ? "v" : "^";
}

/* A column title, marked when the table is sorted by it. */
static void put_title(struct pen *p, struct tui_frame *f, const char *name,
		      int width, bool right, bool sorted, bool desc)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s%s", name, sorted ? sort_mark(f, desc) : "");
	put_cell(p, TUI_A_NORMAL, buf, width, right);
}

static int pane_row_attr(const struct tui_view *v, int pane, size_t row)
{
	if (row != v->pane[pane].sel)
		return TUI_A_NORMAL;
	return v->focus == pane ? TUI_A_SELECTED : TUI_A_MARKED;
}

static int title_attr(const struct tui_view *v, int pane)
{
	return v->focus == pane ? TUI_A_TITLE_FOCUS : TUI_A_TITLE;
}

/* ---- header and status ------------------------------------------------- */

static void render_header(struct tui_frame *f, const struct tui_view *v,
			  const struct tui_model *m,
			  const struct tui_info *info)
{
	struct pen p = pen_at(f, 0, 0, f->cols, TUI_A_NORMAL);
	uint64_t attempts = m->rounds + m->errors;
	char t[32];
	size_t active = 0, alive = 0;

	put(&p, TUI_A_BOLD, "snakescope top");
	putf(&p, TUI_A_NORMAL, "  pid %d", (int)info->pid);
	if (v->procs)
		putf(&p, TUI_A_NORMAL, "  processes %zu", info->nprocs);
	if (v->paused)
		put(&p, TUI_A_WARN, "  PAUSED");
	if (info->note)
		putf(&p, TUI_A_WARN, "  %s", info->note);
	if (info->version)
		putf(&p, TUI_A_NORMAL, "  Python %s", info->version);
	put(&p, TUI_A_NORMAL, "  ");
	putf(&p, TUI_A_BOLD, "%.1f/s", info->rate);
	put(&p, TUI_A_NORMAL, "  samples ");
	putf(&p, TUI_A_BOLD, "%llu", (unsigned long long)m->rounds);
	put(&p, TUI_A_NORMAL, "  errors ");
	putf(&p, m->errors ? TUI_A_WARN : TUI_A_BOLD, "%.1f%%",
	     pct(m->errors, attempts));
	put(&p, TUI_A_NORMAL, "  GIL ");
	putf(&p, TUI_A_BOLD, "%.0f%%", pct(m->gil_rounds, m->rounds));
	put(&p, TUI_A_NORMAL, "  active ");
	putf(&p, TUI_A_BOLD, "%.0f%%", pct(m->active_rounds, m->rounds));
	fmt_secs(t, sizeof(t), info->elapsed);
	putf(&p, TUI_A_NORMAL, "  %s", t);
	pen_finish(&p);
	if (tui_view_header_lines(f->rows) < 2)
		return;

	p = pen_at(f, 1, 0, f->cols, TUI_A_NORMAL);
	for (size_t i = 0; i < m->nthreads; i++) {
		alive += m->threads[i].alive;
		active += m->threads[i].alive && m->threads[i].active;
	}
	putf(&p, TUI_A_NORMAL, "threads %zu (%zu active)  %zu functions", alive,
	     active, m->ncodes);
	put(&p, TUI_A_NORMAL, "  showing ");
	if (v->drilled && v->drill_code < m->ncodes) {
		put(&p, TUI_A_NORMAL, "lines of ");
		put(&p, TUI_A_BOLD, m->codes[v->drill_code].function);
	} else {
		put(&p, TUI_A_NORMAL, v->lines ? "lines" : "functions");
	}
	if (tui_view_scope(v, m) != TUI_ALL_THREADS) {
		const struct tui_thread *th = &m->threads[tui_view_scope(v, m)];

		put(&p, TUI_A_NORMAL, " of thread ");
		put(&p, TUI_A_BOLD, th->name ? th->name : "?");
		if (th->native_id > 0)
			putf(&p, TUI_A_NORMAL, " (%lld)", (long long)th->native_id);
	} else {
		put(&p, TUI_A_NORMAL, " of all threads");
	}
	putf(&p, TUI_A_NORMAL, "  sort %s%s", tui_func_col_name(v->func_sort),
	     sort_mark(f, v->func_desc));
	if (v->filter[0]) {
		put(&p, TUI_A_NORMAL, "  filter ");
		put(&p, TUI_A_HOT, v->filter);
	}
	putf(&p, TUI_A_NORMAL, "  refresh %gs", tui_view_refresh(v));
	pen_finish(&p);
}

static void render_status(struct tui_frame *f, const struct tui_view *v)
{
	struct pen p = pen_at(f, f->rows - 1, 0, f->cols, TUI_A_NORMAL);

	if (v->prompt) {
		put(&p, TUI_A_BOLD, "filter: ");
		put(&p, TUI_A_NORMAL, v->filter);
		put(&p, TUI_A_SELECTED, " ");
		put(&p, TUI_A_DIM, "  (Enter keeps it, Esc clears it)");
	} else if (v->message[0]) {
		put(&p, TUI_A_WARN, v->message);
	} else {
		static const char *const hints[][2] = {
			{ "q", "quit" }, { "?", "help" }, { "Tab", "pane" },
			{ "Enter", "drill" }, { "/", "filter" }, { "s", "sort" },
			{ "t", "thread" }, { "l", "lines" }, { "space", "pause" },
			{ "r", "reset" },
		};

		for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
			put(&p, TUI_A_TITLE_FOCUS, hints[i][0]);
			putf(&p, TUI_A_NORMAL, " %s ", hints[i][1]);
		}
	}
	pen_finish(&p);
}

/* ---- panes ------------------------------------------------------------- */

static const char *thread_state(const struct tui_thread *t)
{
	const char *s;

	if (!t->alive)
		return "exited";
	s = snap_os_state_name(t->state);
	return s ? s : "?";
}

static void render_threads(struct tui_frame *f, const struct tui_view *v,
			   const struct tui_model *m)
{
	const struct tui_pane_state *ps = &v->pane[TUI_PANE_THREADS];
	const struct tui_rect *r = &ps->r;
	bool st = r->w >= 60;
	int wname = r->w - 8 - 1 - (st ? 10 : 0) - 6 - 1 - 8 - 1 - 6 - 2 -
		    (v->procs ? 9 : 0);
	struct pen p;

	if (wname > 40)
		wname = 40;
	p = pen_at(f, r->y, r->x, r->w, title_attr(v, TUI_PANE_THREADS));
	if (v->procs) {
		put_cell(&p, TUI_A_NORMAL, "PID", 8, true);
		pad(&p, 1);
	}
	put_title(&p, f, "TID", 8, true, v->thread_sort == TUI_TCOL_TID,
		  v->thread_desc);
	pad(&p, 2);
	put_title(&p, f, "THREAD", wname, false, v->thread_sort == TUI_TCOL_NAME,
		  v->thread_desc);
	pad(&p, 1);
	if (st)
		put_cell(&p, TUI_A_NORMAL, "STATE", 9, false), pad(&p, 1);
	put_title(&p, f, "GIL%", 6, true, v->thread_sort == TUI_TCOL_GIL,
		  v->thread_desc);
	pad(&p, 1);
	put_title(&p, f, "ACTIVE%", 8, true, v->thread_sort == TUI_TCOL_ACTIVE,
		  v->thread_desc);
	pad(&p, 1);
	put_title(&p, f, "CPU%", 6, true, v->thread_sort == TUI_TCOL_CPU,
		  v->thread_desc);
	pen_finish(&p);

	for (int y = 1; y < r->h; y++) {
		size_t row = ps->top + (size_t)(y - 1);
		const struct tui_thread *t;
		char buf[32];
		int look;

		if (row >= ps->nrows)
			break;
		t = &m->threads[v->thread_rows[row]];
		look = t->alive ? TUI_A_NORMAL : TUI_A_DIM;
		p = pen_at(f, r->y + y, r->x, r->w,
			   pane_row_attr(v, TUI_PANE_THREADS, row));
		if (v->procs) {
			snprintf(buf, sizeof(buf), "%d", t->pid);
			put_cell(&p, look, buf, 8, true);
			pad(&p, 1);
		}
		if (t->native_id > 0)
			snprintf(buf, sizeof(buf), "%lld", (long long)t->native_id);
		else
			snprintf(buf, sizeof(buf), "?");
		put_cell(&p, look, buf, 8, true);
		pad(&p, 2);
		put_cell(&p, t->name ? (t->alive ? TUI_A_BOLD : TUI_A_DIM) :
			 TUI_A_DIM, t->name ? t->name : "(no name)", wname, false);
		pad(&p, 1);
		if (st) {
			put_cell(&p, t->alive && t->state == 'R' ? TUI_A_HOT : look,
				 thread_state(t), 9, false);
			pad(&p, 1);
		}
		snprintf(buf, sizeof(buf), "%.1f", pct(t->gil_rounds, t->rounds));
		put_cell(&p, t->alive && t->holds_gil ? TUI_A_GIL : look, buf, 6,
			 true);
		pad(&p, 1);
		snprintf(buf, sizeof(buf), "%.1f", pct(t->active_rounds, t->rounds));
		put_cell(&p, look, buf, 8, true);
		pad(&p, 1);
		if (t->cpu_pct >= 0 && t->alive)
			snprintf(buf, sizeof(buf), "%.1f", t->cpu_pct);
		else
			snprintf(buf, sizeof(buf), "-");
		put_cell(&p, look, buf, 6, true);
		pen_finish(&p);
	}
}

/* The functions table's PID cell: the process where the row's time
 * goes most ("1234"), "+N" when N others have it too. */
static void put_pid(struct pen *p, const struct tui_model *m,
		    const struct tui_entry *en)
{
	char buf[32];
	size_t nprocs;
	int pid = tui_model_top_pid(m, en->code, en->line, &nprocs);

	if (!pid)
		snprintf(buf, sizeof(buf), "-");
	else if (nprocs > 1)
		snprintf(buf, sizeof(buf), "%d+%zu%s", pid, nprocs - 1,
			 nprocs == TUI_TOP_PIDS ? "+" : "");
	else
		snprintf(buf, sizeof(buf), "%d", pid);
	put_cell(p, TUI_A_NORMAL, buf, 10, true);
}

static void render_funcs(struct tui_frame *f, const struct tui_view *v,
			 const struct tui_model *m, const struct tui_info *info)
{
	const struct tui_pane_state *ps = &v->pane[TUI_PANE_FUNCS];
	const struct tui_rect *r = &ps->r;
	uint64_t denom = tui_model_samples_of(m, tui_view_scope(v, m));
	bool times = r->w >= 72;
	int rest = r->w - 7 - 8 - (times ? 18 : 0) - 1 - (v->procs ? 11 : 0);
	int wfunc = rest * 9 / 20, wfile = rest - wfunc - 1;
	struct pen p;

	p = pen_at(f, r->y, r->x, r->w, title_attr(v, TUI_PANE_FUNCS));
	put_title(&p, f, "OWN%", 6, true, v->func_sort == TUI_FCOL_OWN,
		  v->func_desc);
	pad(&p, 1);
	put_title(&p, f, "TOTAL%", 7, true, v->func_sort == TUI_FCOL_TOTAL,
		  v->func_desc);
	pad(&p, 1);
	if (times) {
		put_cell(&p, TUI_A_NORMAL, "OWN", 8, true);
		pad(&p, 1);
		put_cell(&p, TUI_A_NORMAL, "TOTAL", 8, true);
		pad(&p, 1);
	}
	if (v->procs) {
		put_cell(&p, TUI_A_NORMAL, "PID", 10, true);
		pad(&p, 1);
	}
	put_title(&p, f, "FUNCTION", wfunc, false,
		  v->func_sort == TUI_FCOL_FUNCTION, v->func_desc);
	pad(&p, 1);
	put_title(&p, f, v->lines || v->drilled ? "FILE:LINE" : "FILE:FIRST LINE",
		  wfile, false, v->func_sort == TUI_FCOL_FILE, v->func_desc);
	pen_finish(&p);

	if (!ps->nrows && r->h > 1) {
		p = pen_at(f, r->y + 1, r->x, r->w, TUI_A_NORMAL);
		if (v->filter[0])
			putf(&p, TUI_A_DIM, "  nothing matches '%s'", v->filter);
		else
			put(&p, TUI_A_DIM, "  no samples yet (only running "
			    "threads are counted unless --idle)");
		pen_finish(&p);
		return;
	}
	for (int y = 1; y < r->h; y++) {
		size_t row = ps->top + (size_t)(y - 1);
		const struct tui_entry *en;
		const struct tui_code *c;
		char buf[64], where[32];
		int line;

		if (row >= ps->nrows)
			break;
		en = &m->entries[v->func_rows[row]];
		c = &m->codes[en->code];
		p = pen_at(f, r->y + y, r->x, r->w,
			   pane_row_attr(v, TUI_PANE_FUNCS, row));
		snprintf(buf, sizeof(buf), "%.1f", pct(en->own, denom));
		put_cell(&p, en->own ? TUI_A_HOT : TUI_A_NORMAL, buf, 6, true);
		pad(&p, 1);
		snprintf(buf, sizeof(buf), "%.1f", pct(en->total, denom));
		put_cell(&p, TUI_A_NORMAL, buf, 7, true);
		pad(&p, 1);
		if (times) {
			fmt_secs(buf, sizeof(buf),
				 (double)en->own * info->secs_per_sample);
			put_cell(&p, TUI_A_NORMAL, buf, 8, true);
			pad(&p, 1);
			fmt_secs(buf, sizeof(buf),
				 (double)en->total * info->secs_per_sample);
			put_cell(&p, TUI_A_NORMAL, buf, 8, true);
			pad(&p, 1);
		}
		if (v->procs) {
			put_pid(&p, m, en);
			pad(&p, 1);
		}
		put_cell(&p, TUI_A_BOLD, c->function, wfunc, false);
		pad(&p, 1);
		line = en->line == TUI_WHOLE_FUNCTION ? c->first_line : en->line;
		/* A C function has no line; a Python one read with the C
		 * frames has no first line known; an instruction may have
		 * no line (?). */
		if (line >= 0)
			snprintf(where, sizeof(where), ":%d", line);
		else if (c->native || en->line == TUI_WHOLE_FUNCTION)
			where[0] = 0;
		else
			snprintf(where, sizeof(where), ":?");
		/* The line number always shows; the path gives way. */
		put_path(&p, TUI_A_NORMAL, c->filename,
			 wfile - (int)strlen(where));
		put(&p, TUI_A_NORMAL, where);
		pen_finish(&p);
	}
}

const struct snap_thread *tui_selected_stack(const struct tui_view *v,
					     const struct tui_info *info)
{
	if (!info->snap || !v->has_thread)
		return NULL;
	/* Of several processes, the snapshot is of one: the selected
	 * thread's, or not yet (the selection just moved). */
	if (v->procs && info->snap->pid != v->thread_pid)
		return NULL;
	for (size_t i = 0; i < info->snap->nthreads; i++)
		if (info->snap->threads[i].thread_id == v->thread_id)
			return &info->snap->threads[i];
	return NULL;
}

/* Rows a frame takes in the stack pane. */
static size_t frame_rows(const struct tui_view *v, const struct tui_info *info,
			 const struct snap_frame *fr, bool selected)
{
	size_t n = 1;

	if (info->source_line && fr->line > 0 &&
	    info->source_line(info->source_arg, fr->filename, fr->line))
		n++;
	if (selected && v->locals)
		n += fr->nlocals ? (fr->nlocals < MAX_LOCAL_ROWS ?
				    fr->nlocals : MAX_LOCAL_ROWS) : 1;
	return n;
}

/* The source line, with the executing expression marked (3.11+). */
static void put_source(struct pen *p, const struct snap_frame *fr,
		       const char *src)
{
	size_t lead = strspn(src, " \t"), len = strlen(src);
	size_t from = len, to = len;
	char *text = xstrdup(src);

	if (fr->column >= 0 && (size_t)fr->column >= lead &&
	    (size_t)fr->column < len) {
		from = (size_t)fr->column;
		to = fr->end_line == fr->line && fr->end_column >= 0 &&
		     (size_t)fr->end_column <= len &&
		     fr->end_column > fr->column ? (size_t)fr->end_column : len;
	}
	pad(p, 6);
	text[from] = 0;
	put(p, TUI_A_DIM, text + lead);
	memcpy(text, src, len + 1);
	text[to] = 0;
	put(p, TUI_A_HOT, text + from);
	put(p, TUI_A_DIM, src + to);
	free(text);
}

static void render_stack(struct tui_frame *f, const struct tui_view *v,
			 const struct tui_info *info)
{
	const struct tui_pane_state *ps = &v->pane[TUI_PANE_STACK];
	const struct tui_rect *r = &ps->r;
	const struct snap_thread *t = tui_selected_stack(v, info);
	struct pen p = pen_at(f, r->y, r->x, r->w, title_attr(v, TUI_PANE_STACK));
	size_t first = ps->top, used;
	int y = 1;

	put(&p, TUI_A_NORMAL, "STACK");
	if (t) {
		put(&p, TUI_A_NORMAL, " of ");
		put(&p, TUI_A_NORMAL, t->name ? t->name : "(no name)");
		if (t->native_id > 0)
			putf(&p, TUI_A_NORMAL, " (%lld)", (long long)t->native_id);
		if (t->holds_gil)
			put(&p, TUI_A_NORMAL, ", holds the GIL");
		if (t->torn)
			put(&p, TUI_A_NORMAL, ", changed while read");
		if (v->locals)
			put(&p, TUI_A_NORMAL, ", locals of the selected frame");
	}
	pen_finish(&p);
	if (!t || !t->nframes) {
		p = pen_at(f, r->y + 1, r->x, r->w, TUI_A_NORMAL);
		put(&p, TUI_A_DIM, !info->snap ? "  reading..." :
		    !t ? "  (this thread was not in the last read)" :
		    t->error ? t->error : "  (no Python frames)");
		pen_finish(&p);
		return;
	}
	/* Scroll so that the selected frame shows whole. */
	if (first > ps->sel)
		first = ps->sel;
	for (;;) {
		used = 0;
		for (size_t k = first; k <= ps->sel && k < t->nframes; k++)
			used += frame_rows(v, info, &t->frames[k], k == ps->sel);
		if (used <= (size_t)(r->h - 1) || first == ps->sel)
			break;
		first++;
	}
	for (size_t k = first; k < t->nframes && y < r->h; k++) {
		const struct snap_frame *fr = &t->frames[k];
		bool sel = k == ps->sel;
		char where[24];
		const char *src = info->source_line && fr->line > 0 ?
			info->source_line(info->source_arg, fr->filename,
					  fr->line) : NULL;

		p = pen_at(f, r->y + y++, r->x, r->w,
			   pane_row_attr(v, TUI_PANE_STACK, k));
		if (fr->line >= 0)
			snprintf(where, sizeof(where), ":%d", fr->line);
		else
			where[0] = 0;
		put(&p, TUI_A_NORMAL, "  ");
		put(&p, TUI_A_BOLD, fr->function);
		put(&p, TUI_A_NORMAL, "  ");
		/* the path gives way to the line number and the mark */
		put_path(&p, TUI_A_DIM, fr->filename, pen_left(&p) -
			 (int)strlen(where) - (fr->torn ? 22 : 0));
		put(&p, TUI_A_DIM, where);
		if (fr->torn)
			put(&p, TUI_A_WARN, "  (changed while read)");
		pen_finish(&p);
		if (src && y < r->h) {
			p = pen_at(f, r->y + y++, r->x, r->w, TUI_A_NORMAL);
			put_source(&p, fr, src);
			pen_finish(&p);
		}
		if (!sel || !v->locals)
			continue;
		if (!fr->locals && y < r->h) {
			p = pen_at(f, r->y + y++, r->x, r->w, TUI_A_NORMAL);
			put(&p, TUI_A_DIM, "        (reading locals...)");
			pen_finish(&p);
		}
		for (size_t i = 0; i < fr->nlocals && i < MAX_LOCAL_ROWS &&
		     y < r->h; i++) {
			const struct snap_local *lv = &fr->locals[i];

			p = pen_at(f, r->y + y++, r->x, r->w, TUI_A_NORMAL);
			pad(&p, 8);
			put(&p, TUI_A_BOLD, lv->name);
			put(&p, TUI_A_NORMAL, " = ");
			put(&p, TUI_A_NORMAL, lv->repr ? lv->repr : "?");
			pen_finish(&p);
		}
	}
}

static void render_tasks(struct tui_frame *f, const struct tui_view *v,
			 const struct tui_info *info)
{
	const struct tui_pane_state *ps = &v->pane[TUI_PANE_TASKS];
	const struct tui_rect *r = &ps->r;
	struct pen p = pen_at(f, r->y, r->x, r->w, title_attr(v, TUI_PANE_TASKS));

	put(&p, TUI_A_NORMAL, "ASYNCIO TASKS");
	if (info->snap)
		putf(&p, TUI_A_NORMAL, " (%zu)", info->snap->ntasks);
	pen_finish(&p);
	for (int y = 1; y < r->h; y++) {
		size_t row = ps->top + (size_t)(y - 1);

		if (row >= info->ntask_lines)
			break;
		p = pen_at(f, r->y + y, r->x, r->w,
			   pane_row_attr(v, TUI_PANE_TASKS, row));
		put(&p, TUI_A_NORMAL, " ");
		put(&p, TUI_A_NORMAL, info->task_lines[row]);
		pen_finish(&p);
	}
}

/* Word-wrap 'what' after a key column, within the screen's width. */
static void render_help(struct tui_frame *f)
{
	int y = tui_view_header_lines(f->rows), last = f->rows - 1;
	int wtext = f->cols - 14;
	struct pen p = pen_at(f, y++, 0, f->cols, TUI_A_TITLE_FOCUS);

	put(&p, TUI_A_NORMAL, "KEYS  (any key closes this help)");
	pen_finish(&p);
	for (size_t i = 0; i < tui_view_nhelp() && y < last; i++) {
		const char *keys, *what;

		tui_view_help(i, &keys, &what);
		while (*what && y < last) {
			size_t n = strlen(what), cut = n;
			char *chunk;

			if (wtext > 10 && n > (size_t)wtext) {
				cut = (size_t)wtext;
				while (cut > 0 && what[cut] != ' ')
					cut--;
				if (!cut)
					cut = (size_t)wtext;
			}
			p = pen_at(f, y++, 0, f->cols, TUI_A_NORMAL);
			pad(&p, 2);
			put_cell(&p, TUI_A_BOLD, keys, 10, false);
			pad(&p, 2);
			chunk = xstrndup(what, cut);
			put(&p, TUI_A_NORMAL, chunk);
			free(chunk);
			pen_finish(&p);
			keys = "";
			what += cut;
			what += strspn(what, " ");
		}
	}
	while (y < last) {
		p = pen_at(f, y++, 0, f->cols, TUI_A_NORMAL);
		pen_finish(&p);
	}
}

void tui_render(struct tui_frame *f, const struct tui_view *v,
		const struct tui_model *m, const struct tui_info *info)
{
	struct pen p;

	frame_clear(f);
	if (!f->rows)
		return;
	if (tui_view_too_small(f->rows, f->cols)) {
		p = pen_at(f, 0, 0, f->cols, TUI_A_NORMAL);
		putf(&p, TUI_A_WARN, "terminal too small (%dx%d)", f->cols,
		     f->rows);
		pen_finish(&p);
		return;
	}
	render_header(f, v, m, info);
	if (v->help) {
		render_help(f);
	} else {
		if (v->pane[TUI_PANE_THREADS].r.h)
			render_threads(f, v, m);
		if (v->pane[TUI_PANE_FUNCS].r.h)
			render_funcs(f, v, m, info);
		if (v->pane[TUI_PANE_STACK].r.h)
			render_stack(f, v, info);
		if (v->pane[TUI_PANE_TASKS].r.h)
			render_tasks(f, v, info);
	}
	render_status(f, v);
}
