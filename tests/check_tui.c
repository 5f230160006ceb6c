/*
 * check_tui.c - the model, the view and the screen of `snakescope top`,
 * without a terminal or a target: made-up samples go in, tables, key
 * effects and screen text come out.
 */
#include <config.h>

#include "tests/check_main.h"
#include "common/strbuf.h"
#include "tui/model.h"
#include "tui/screen.h"
#include "tui/view.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- building samples ------------------------------------------------ */

struct fake_frame {
	uint32_t key;
	const char *fn;
	int line;
};

/* Start a sample with no threads. */
static void sample_clear(struct sample *s)
{
	s->nthreads = s->nframes = 0;
}

/* Add a thread and its stack (innermost first, n frames). */
static void sample_thread(struct sample *s, uint64_t id, int64_t tid,
			  const char *name, bool gil,
			  const struct fake_frame *fr, size_t n)
{
	struct sample_thread *t;

	if (s->nthreads == s->threads_cap) {
		s->threads_cap = s->threads_cap ? 2 * s->threads_cap : 8;
		s->threads = realloc(s->threads, s->threads_cap *
				     sizeof(*s->threads));
	}
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->thread_id = id;
	t->native_id = tid;
	t->name = name;
	t->holds_gil = gil;
	t->first = s->nframes;
	t->nframes = n;
	for (size_t i = 0; i < n; i++) {
		struct sample_frame *f;

		if (s->nframes == s->frames_cap) {
			s->frames_cap = s->frames_cap ? 2 * s->frames_cap : 16;
			s->frames = realloc(s->frames, s->frames_cap *
					    sizeof(*s->frames));
		}
		f = &s->frames[s->nframes++];
		memset(f, 0, sizeof(*f));
		f->code_key = fr[i].key;
		f->line = fr[i].line;
		f->first_line = 10 * (int)fr[i].key;
		f->function = fr[i].fn;
		f->filename = "/app/mod.py";
	}
}

/* One round: every thread of s observed (active when it has frames),
 * then its stacks added. */
static void round_of(struct tui_model *m, const struct sample *s)
{
	tui_model_begin(m);
	for (size_t i = 0; i < s->nthreads; i++)
		tui_model_observe(m, &s->threads[i], 'R', s->threads[i].nframes);
	tui_model_add(m, s);
	tui_model_end(m);
}

/* The entry of (thread, function name, line), or NULL. */
static const struct tui_entry *entry(const struct tui_model *m,
				     uint32_t thread, const char *fn, int line)
{
	for (size_t i = 0; i < m->nentries; i++) {
		const struct tui_entry *e = &m->entries[i];

		if (e->thread == thread && e->line == line &&
		    !strcmp(m->codes[e->code].function, fn))
			return e;
	}
	return NULL;
}

static const struct fake_frame stack_hot[] = {
	{ 1, "hot", 12 }, { 2, "loop", 22 }, { 3, "main", 31 },
};
static const struct fake_frame stack_cold[] = {
	{ 4, "cold", 41 }, { 2, "loop", 23 }, { 3, "main", 31 },
};
/* recursion: f -> f -> f */
static const struct fake_frame stack_rec[] = {
	{ 5, "f", 51 }, { 5, "f", 52 }, { 5, "f", 52 }, { 3, "main", 32 },
};

/* ---- model ----------------------------------------------------------- */

START_TEST(test_model_counts)
{
	struct tui_model m;
	struct sample s = { 0 };
	const struct tui_entry *e;

	tui_model_init(&m);
	for (int i = 0; i < 4; i++) {
		sample_clear(&s);
		sample_thread(&s, 100, 1000, "main", true,
			      i < 3 ? stack_hot : stack_cold, 3);
		sample_thread(&s, 200, 2000, "worker", false, NULL, 0);
		round_of(&m, &s);
	}
	ck_assert_uint_eq(m.rounds, 4);
	ck_assert_uint_eq(m.samples, 4);
	ck_assert_uint_eq(m.gil_rounds, 4);
	ck_assert_uint_eq(m.nthreads, 2);
	ck_assert_uint_eq(m.threads[0].samples, 4);
	ck_assert_uint_eq(m.threads[1].samples, 0);
	ck_assert_uint_eq(m.threads[1].rounds, 4);
	ck_assert_uint_eq(m.threads[1].active_rounds, 0);
	ck_assert_str_eq(m.threads[1].name, "worker");

	e = entry(&m, TUI_ALL_THREADS, "hot", TUI_WHOLE_FUNCTION);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->own, 3);
	ck_assert_uint_eq(e->total, 3);
	e = entry(&m, TUI_ALL_THREADS, "loop", TUI_WHOLE_FUNCTION);
	ck_assert_uint_eq(e->own, 0);
	ck_assert_uint_eq(e->total, 4);
	/* line level: loop's two call sites apart */
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "loop", 22)->total, 3);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "loop", 23)->total, 1);
	/* per thread */
	ck_assert_uint_eq(entry(&m, 0, "cold", TUI_WHOLE_FUNCTION)->own, 1);
	ck_assert_ptr_null(entry(&m, 1, "cold", TUI_WHOLE_FUNCTION));
	ck_assert_uint_eq(tui_model_samples_of(&m, 0), 4);
	ck_assert_uint_eq(tui_model_samples_of(&m, TUI_ALL_THREADS), 4);
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

START_TEST(test_model_recursion_and_rekey)
{
	struct tui_model m;
	struct sample s = { 0 };
	struct fake_frame again[4];

	tui_model_init(&m);
	sample_clear(&s);
	sample_thread(&s, 1, 10, NULL, true, stack_rec, 4);
	round_of(&m, &s);
	/* once per stack, however deep the recursion */
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "f", TUI_WHOLE_FUNCTION)->total,
			  1);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "f", TUI_WHOLE_FUNCTION)->own,
			  1);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "f", 52)->total, 1);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "f", 52)->own, 0);
	/* The sampler decodes the code objects again under new keys: the
	 * same functions, the same rows. */
	memcpy(again, stack_rec, sizeof(again));
	for (int i = 0; i < 4; i++)
		again[i].key += 1000;
	/* first lines come from the key in sample_thread(): keep them */
	sample_clear(&s);
	sample_thread(&s, 1, 10, NULL, true, again, 4);
	for (size_t i = 0; i < s.nframes; i++)
		s.frames[i].first_line -= 10000;
	round_of(&m, &s);
	ck_assert_uint_eq(m.ncodes, 2);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "f", TUI_WHOLE_FUNCTION)->total,
			  2);
	/* torn stacks are counted apart and left out */
	sample_clear(&s);
	sample_thread(&s, 1, 10, NULL, true, stack_hot, 3);
	s.threads[0].torn = true;
	round_of(&m, &s);
	ck_assert_uint_eq(m.torn, 1);
	ck_assert_uint_eq(m.samples, 2);
	ck_assert_ptr_null(entry(&m, TUI_ALL_THREADS, "hot", TUI_WHOLE_FUNCTION));
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

START_TEST(test_model_reset_and_gone)
{
	struct tui_model m;
	struct sample s = { 0 };

	tui_model_init(&m);
	sample_clear(&s);
	sample_thread(&s, 1, 10, "a", true, stack_hot, 3);
	sample_thread(&s, 2, 20, "b", false, stack_cold, 3);
	round_of(&m, &s);
	sample_clear(&s);
	sample_thread(&s, 1, 10, "a", true, stack_hot, 3);
	round_of(&m, &s);
	ck_assert(m.threads[0].alive);
	ck_assert(!m.threads[1].alive);
	tui_model_reset(&m);
	/* the thread that is gone goes; counts start again */
	ck_assert_uint_eq(m.nthreads, 1);
	ck_assert_uint_eq(m.threads[0].thread_id, 1);
	ck_assert_uint_eq(m.rounds, 0);
	ck_assert_uint_eq(m.nentries, 0);
	round_of(&m, &s);
	ck_assert_uint_eq(entry(&m, 0, "hot", TUI_WHOLE_FUNCTION)->own, 1);
	ck_assert_uint_eq(m.samples, 1);
	/* the process exits: no thread is alive, the counts stay */
	tui_model_gone(&m);
	ck_assert(!m.threads[0].alive);
	ck_assert_uint_eq(m.nthreads, 1);
	ck_assert_uint_eq(entry(&m, 0, "hot", TUI_WHOLE_FUNCTION)->own, 1);
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

/* Code made and dropped all the time: past TUI_MAX_CODES functions,
 * those unseen for TUI_PRUNE_ROUNDS go; the kept one is renumbered; the
 * counts of the others stay and go on. */
START_TEST(test_model_prune)
{
	enum { N = TUI_MAX_CODES + 100 };
	static char names[N][16];
	struct tui_model m;
	struct sample s = { 0 };
	struct fake_frame fr[2];
	uint32_t keep, old_keep = UINT32_MAX;
	const struct tui_entry *e;

	tui_model_init(&m);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "gen_%u", i);
		fr[0] = (struct fake_frame){ 1000 + i, names[i], 3 };
		fr[1] = (struct fake_frame){ 3, "main", 31 };
		sample_clear(&s);
		sample_thread(&s, 1, 10, "main", true, fr, 2);
		round_of(&m, &s);
	}
	ck_assert_uint_eq(m.ncodes, N + 1);
	keep = UINT32_MAX;
	ck_assert(!tui_model_prune(&m, &keep)); /* too early */
	for (uint32_t i = 0; i < m.ncodes; i++)
		if (!strcmp(m.codes[i].function, "gen_7"))
			old_keep = i;
	ck_assert_uint_ne(old_keep, UINT32_MAX);
	for (int r = 0; r < (int)TUI_PRUNE_ROUNDS + 1; r++) {
		sample_clear(&s);
		sample_thread(&s, 1, 10, "main", true, stack_hot, 3);
		round_of(&m, &s);
	}
	keep = old_keep;
	ck_assert(tui_model_prune(&m, &keep));
	/* hot, loop, main and the kept gen_7 */
	ck_assert_uint_eq(m.ncodes, 4);
	ck_assert_str_eq(m.codes[keep].function, "gen_7");
	e = entry(&m, TUI_ALL_THREADS, "main", TUI_WHOLE_FUNCTION);
	ck_assert_uint_eq(e->total, N + TUI_PRUNE_ROUNDS + 1);
	e = entry(&m, TUI_ALL_THREADS, "gen_7", TUI_WHOLE_FUNCTION);
	ck_assert_uint_eq(e->own, 1);
	ck_assert(!entry(&m, TUI_ALL_THREADS, "gen_8", TUI_WHOLE_FUNCTION));
	for (size_t i = 0; i < m.nentries; i++)
		ck_assert_uint_lt(m.entries[i].code, m.ncodes);
	/* counting goes on, through keys and text found again */
	round_of(&m, &s);
	e = entry(&m, 0, "hot", TUI_WHOLE_FUNCTION);
	ck_assert_uint_eq(e->own, TUI_PRUNE_ROUNDS + 2);
	ck_assert_uint_eq(m.ncodes, 4);
	keep = UINT32_MAX;
	ck_assert(!tui_model_prune(&m, &keep)); /* under the limit */
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

START_TEST(test_model_cpu)
{
	struct tui_thread t = { 0 };

	t.cpu_pct = -1;
	tui_model_cpu(&t, 100, 0, 100);
	ck_assert(t.cpu_pct < 0); /* one reading: nothing yet */
	tui_model_cpu(&t, 150, 1.0, 100);
	ck_assert(t.cpu_pct > 49.9 && t.cpu_pct < 50.1);
	tui_model_cpu(&t, 150, 0.5, 100);
	ck_assert(t.cpu_pct == 0);
}
END_TEST

/* ---- view ------------------------------------------------------------ */

/* A model with three threads: "main" hot, "worker" cold x2, "idle". */
static void three_threads(struct tui_model *m)
{
	struct sample s = { 0 };

	tui_model_init(m);
	for (int i = 0; i < 3; i++) {
		sample_clear(&s);
		sample_thread(&s, 1, 30, "main", true, stack_hot, 3);
		sample_thread(&s, 2, 20, "worker", false, stack_cold, 3);
		if (i)
			sample_thread(&s, 3, 40, "worker", false, stack_cold, 3);
		sample_thread(&s, 4, 10, "idle", false, NULL, 0);
		round_of(m, &s);
	}
	sample_release(&s);
}

static const char *func_row(const struct tui_view *v,
			    const struct tui_model *m, size_t r)
{
	return m->codes[m->entries[v->func_rows[r]].code].function;
}

START_TEST(test_view_sort_filter)
{
	struct tui_model m;
	struct tui_view v;

	three_threads(&m);
	tui_view_init(&v);
	tui_view_update(&v, &m, 0, 0);
	/* threads by TID */
	ck_assert_uint_eq(v.pane[TUI_PANE_THREADS].nrows, 4);
	ck_assert_int_eq(m.threads[v.thread_rows[0]].native_id, 10);
	ck_assert_int_eq(m.threads[v.thread_rows[3]].native_id, 40);
	/* functions by own, largest first: cold 5, hot 3, then total */
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].nrows, 4);
	ck_assert_str_eq(func_row(&v, &m, 0), "cold");
	ck_assert_str_eq(func_row(&v, &m, 1), "hot");
	ck_assert_str_eq(func_row(&v, &m, 2), "loop"); /* ties: by name */
	ck_assert_str_eq(func_row(&v, &m, 3), "main");
	/* s cycles the focused table's column: total */
	v.focus = TUI_PANE_FUNCS;
	ck_assert(tui_view_key(&v, &m, 's') & TUI_REDRAW);
	ck_assert_int_eq(v.func_sort, TUI_FCOL_TOTAL);
	tui_view_update(&v, &m, 0, 0);
	ck_assert_str_eq(func_row(&v, &m, 0), "loop");
	ck_assert_str_eq(func_row(&v, &m, 1), "main");
	/* S reverses */
	tui_view_key(&v, &m, 'S');
	tui_view_update(&v, &m, 0, 0);
	ck_assert_str_eq(func_row(&v, &m, 0), "hot");
	/* filter: typed after '/', case-insensitive, Esc clears */
	tui_view_key(&v, &m, '/');
	ck_assert(v.prompt);
	tui_view_key(&v, &m, 'C');
	tui_view_key(&v, &m, 'o');
	tui_view_key(&v, &m, TUI_KEY_ENTER);
	ck_assert(!v.prompt);
	ck_assert_str_eq(v.filter, "Co");
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].nrows, 1);
	ck_assert_str_eq(func_row(&v, &m, 0), "cold");
	tui_view_key(&v, &m, TUI_KEY_ESC);
	ck_assert_str_eq(v.filter, "");
	/* line level: loop's two lines */
	tui_view_key(&v, &m, 'l');
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].nrows, 5);
	tui_view_release(&v);
	tui_model_release(&m);
}
END_TEST

START_TEST(test_view_threads_and_drill)
{
	struct tui_model m;
	struct tui_view v;
	unsigned r;

	three_threads(&m);
	tui_view_init(&v);
	tui_view_update(&v, &m, 0, 0);
	tui_view_layout(&v, 40, 120);
	/* move to "main" (TID 30, third row) and drill into it */
	ck_assert(tui_view_key(&v, &m, 'j') & TUI_SNAPSHOT);
	tui_view_key(&v, &m, TUI_KEY_DOWN);
	ck_assert_uint_eq(v.thread_id, 1);
	r = tui_view_key(&v, &m, TUI_KEY_ENTER);
	ck_assert(r & TUI_REDRAW);
	ck_assert(v.per_thread);
	ck_assert_int_eq(v.focus, TUI_PANE_FUNCS);
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].nrows, 3); /* hot loop main */
	ck_assert_str_eq(func_row(&v, &m, 0), "hot");
	/* the selection follows the thread when the sort moves it */
	v.thread_sort = TUI_TCOL_NAME;
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_THREADS].sel, 1); /* idle main w w */
	/* Enter on a function: its lines; Esc back */
	v.pane[TUI_PANE_FUNCS].sel = 1; /* loop */
	tui_view_key(&v, &m, TUI_KEY_ENTER);
	ck_assert(v.drilled);
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].nrows, 1); /* loop:22 */
	ck_assert_int_eq(m.entries[v.func_rows[0]].line, 22);
	tui_view_key(&v, &m, TUI_KEY_ESC);
	ck_assert(!v.drilled);
	/* t: all threads again */
	tui_view_key(&v, &m, 't');
	ck_assert(!v.per_thread);
	/* keys with effects elsewhere say so */
	ck_assert(tui_view_key(&v, &m, 'q') & TUI_QUIT);
	ck_assert(tui_view_key(&v, &m, 'r') & TUI_RESET);
	r = tui_view_key(&v, &m, ' ');
	ck_assert((r & TUI_PAUSE) && v.paused);
	r = tui_view_key(&v, &m, 'p');
	ck_assert((r & TUI_PAUSE) && !v.paused);
	ck_assert_int_eq(tui_view_key(&v, &m, 'Z'), 0);
	tui_view_key(&v, &m, '+');
	ck_assert(tui_view_refresh(&v) < 1);
	/* 'n': without --native it says how to have C frames; with, it
	 * toggles them and asks for a snapshot */
	ck_assert_int_eq(tui_view_key(&v, &m, 'n') & TUI_SNAPSHOT, 0);
	ck_assert(strstr(v.message, "--native"));
	v.native_available = v.native = true;
	ck_assert(tui_view_key(&v, &m, 'n') & TUI_SNAPSHOT);
	ck_assert(!v.native && strstr(v.message, "Python frames only"));
	ck_assert(tui_view_key(&v, &m, 'n') & TUI_SNAPSHOT);
	ck_assert(v.native && strstr(v.message, "C frames"));
	tui_view_key(&v, &m, '?');
	ck_assert(v.help);
	tui_view_key(&v, &m, 'x');
	ck_assert(!v.help);
	tui_view_release(&v);
	tui_model_release(&m);
}
END_TEST

START_TEST(test_view_layout_click)
{
	struct tui_model m;
	struct tui_view v;
	const struct tui_rect *r;

	three_threads(&m);
	tui_view_init(&v);
	tui_view_update(&v, &m, 5, 3);
	tui_view_layout(&v, 24, 80);
	/* every pane on screen, none overlapping, inside 80x24 */
	for (int i = 0; i < TUI_NPANES; i++) {
		r = &v.pane[i].r;
		ck_assert_int_gt(r->h, 1);
		ck_assert_int_le(r->y + r->h, 23);
		ck_assert_int_le(r->x + r->w, 80);
	}
	ck_assert_int_le(v.pane[TUI_PANE_THREADS].r.y + v.pane[TUI_PANE_THREADS].r.h,
			 v.pane[TUI_PANE_FUNCS].r.y);
	/* a click on the functions' third row selects it */
	r = &v.pane[TUI_PANE_FUNCS].r;
	tui_view_click(&v, &m, r->y + 3, 5);
	ck_assert_int_eq(v.focus, TUI_PANE_FUNCS);
	ck_assert_uint_eq(v.pane[TUI_PANE_FUNCS].sel, 2);
	/* a click on a thread selects the thread */
	r = &v.pane[TUI_PANE_THREADS].r;
	tui_view_click(&v, &m, r->y + 2, 3);
	ck_assert_int_eq(v.focus, TUI_PANE_THREADS);
	ck_assert_uint_eq(v.thread_id, m.threads[v.thread_rows[1]].thread_id);
	/* small screens drop the stack, then everything */
	tui_view_layout(&v, 11, 60);
	ck_assert_int_eq(v.pane[TUI_PANE_STACK].r.h, 0);
	ck_assert_int_gt(v.pane[TUI_PANE_FUNCS].r.h, 1);
	ck_assert(tui_view_too_small(6, 80));
	ck_assert(!tui_view_too_small(20, 60));
	/* Tab visits the panes shown */
	tui_view_layout(&v, 24, 80);
	v.focus = TUI_PANE_THREADS;
	tui_view_key(&v, &m, TUI_KEY_TAB);
	ck_assert_int_eq(v.focus, TUI_PANE_FUNCS);
	tui_view_key(&v, &m, TUI_KEY_BTAB);
	tui_view_key(&v, &m, TUI_KEY_BTAB);
	ck_assert_int_eq(v.focus, TUI_PANE_TASKS);
	tui_view_release(&v);
	tui_model_release(&m);
}
END_TEST

/* ---- screen ---------------------------------------------------------- */

static void render_text(struct tui_model *m, struct tui_view *v,
			const struct tui_info *info, int rows, int cols,
			bool utf8, struct strbuf *out)
{
	struct tui_frame f;

	tui_frame_init(&f, rows, cols, utf8);
	tui_view_update(v, m, 0, info->ntask_lines);
	tui_view_layout(v, rows, cols);
	tui_render(&f, v, m, info);
	for (int y = 0; y < rows; y++)
		ck_assert_int_le(f.lines[y].width, cols);
	strbuf_reset(out);
	tui_frame_text(&f, out);
	tui_frame_release(&f);
}

/* Several processes (top --subprocesses): a forked child's main thread
 * has its parent's thread id and each session numbers its code keys on
 * its own; (pid, id) and (pid, key) keep them apart. */
START_TEST(test_model_processes)
{
	/* key 1 is "hot" in the parent, "spin" in the child */
	static const struct fake_frame child_spin[] = {
		{ 1, "spin", 61 }, { 3, "main", 31 },
	};
	struct tui_model m;
	struct tui_view v;
	struct tui_info info = { 0 };
	struct sample s = { 0 };
	struct strbuf out;
	size_t nprocs;
	uint32_t spin = UINT32_MAX, hot = UINT32_MAX;

	tui_model_init(&m);
	for (int i = 0; i < 4; i++) {
		tui_model_begin(&m);
		tui_model_process(&m, 100);
		sample_clear(&s);
		sample_thread(&s, 7, 100, "MainThread", false,
			      i == 0 ? stack_hot : NULL, i == 0 ? 3 : 0);
		for (size_t k = 0; k < s.nthreads; k++)
			tui_model_observe(&m, &s.threads[k], 'S',
					  s.threads[k].nframes);
		tui_model_add(&m, &s);
		tui_model_process(&m, 101);
		sample_clear(&s);
		sample_thread(&s, 7, 101, "MainThread", true, child_spin, 2);
		for (size_t k = 0; k < s.nthreads; k++)
			tui_model_observe(&m, &s.threads[k], 'R', true);
		tui_model_add(&m, &s);
		tui_model_end(&m);
	}
	ck_assert_uint_eq(m.nthreads, 2);
	ck_assert_int_eq(m.threads[0].pid, 100);
	ck_assert_int_eq(m.threads[1].pid, 101);
	ck_assert_uint_eq(m.threads[0].samples, 1);
	ck_assert_uint_eq(m.threads[1].samples, 4);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "spin",
				TUI_WHOLE_FUNCTION)->own, 4);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "hot",
				TUI_WHOLE_FUNCTION)->own, 1);
	for (uint32_t c = 0; c < m.ncodes; c++) {
		if (!strcmp(m.codes[c].function, "spin"))
			spin = c;
		if (!strcmp(m.codes[c].function, "hot"))
			hot = c;
	}
	ck_assert_uint_ne(spin, UINT32_MAX);
	ck_assert_int_eq(tui_model_top_pid(&m, spin, TUI_WHOLE_FUNCTION,
					   &nprocs), 101);
	ck_assert_uint_eq(nprocs, 1);
	ck_assert_int_eq(tui_model_top_pid(&m, hot, TUI_WHOLE_FUNCTION,
					   &nprocs), 100);
	/* main: in both, more in the child */
	for (uint32_t c = 0; c < m.ncodes; c++)
		if (!strcmp(m.codes[c].function, "main")) {
			ck_assert_int_eq(tui_model_top_pid(&m, c,
					 TUI_WHOLE_FUNCTION, &nprocs), 101);
			ck_assert_uint_eq(nprocs, 2);
		}

	/* The screen: a PID column in both tables, spin on top with its
	 * process, the processes counted. */
	tui_view_init(&v);
	v.procs = true;
	strbuf_init(&out);
	info.pid = 100;
	info.nprocs = 2;
	info.rate = 1;
	render_text(&m, &v, &info, 24, 120, false, &out);
	ck_assert(strstr(out.buf, "processes 2"));
	ck_assert(strstr(out.buf, "101 spin"));
	ck_assert(strstr(out.buf, "101+1 main"));
	ck_assert(strstr(out.buf, "     101      101  MainThread"));
	/* selecting the child's thread selects it, not the parent's of the
	 * same id */
	v.focus = TUI_PANE_THREADS;
	tui_view_key(&v, &m, TUI_KEY_DOWN);
	ck_assert_int_eq(v.thread_pid, 101);
	ck_assert_uint_eq(tui_view_scope(&v, &m), TUI_ALL_THREADS);
	v.per_thread = true;
	ck_assert_uint_eq(tui_view_scope(&v, &m), 1);

	/* The child exits: its thread goes, the counts stay. */
	tui_model_forget(&m, 101);
	ck_assert_uint_eq(m.nthreads, 1);
	ck_assert_int_eq(m.threads[0].pid, 100);
	ck_assert_uint_eq(entry(&m, TUI_ALL_THREADS, "spin",
				TUI_WHOLE_FUNCTION)->own, 4);
	info.nprocs = 1;
	render_text(&m, &v, &info, 24, 120, false, &out);
	ck_assert(strstr(out.buf, "processes 1"));
	ck_assert(!strstr(out.buf, "     101      101  MainThread"));
	strbuf_release(&out);
	tui_view_release(&v);
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

START_TEST(test_screen_render)
{
	static char *tasks[] = { "root", "  child-a" };
	struct tui_model m;
	struct tui_view v;
	struct tui_info info = { 0 };
	struct strbuf out;

	three_threads(&m);
	tui_view_init(&v);
	strbuf_init(&out);
	info.pid = 4242;
	info.version = "3.12.1";
	info.elapsed = 3;
	info.rate = 1;
	info.secs_per_sample = 0.5;
	info.task_lines = tasks;
	info.ntask_lines = 2;
	render_text(&m, &v, &info, 24, 80, false, &out);
	ck_assert(strstr(out.buf, "pid 4242"));
	ck_assert(strstr(out.buf, "Python 3.12.1"));
	ck_assert(strstr(out.buf, "worker"));
	ck_assert(strstr(out.buf, "child-a"));
	ck_assert(strstr(out.buf, "ASYNCIO TASKS"));
	/* cold: 5 of 8 thread-samples, 2.50s of own time */
	ck_assert(strstr(out.buf, "62.5"));
	ck_assert(strstr(out.buf, "2.50s"));
	ck_assert(strstr(out.buf, "/app/mod.py:40"));
	/* paused and exited say so */
	v.paused = true;
	info.note = "process exited";
	render_text(&m, &v, &info, 24, 80, false, &out);
	ck_assert(strstr(out.buf, "PAUSED"));
	ck_assert(strstr(out.buf, "process exited"));
	/* help lists the keys */
	v.help = true;
	render_text(&m, &v, &info, 30, 100, false, &out);
	ck_assert(strstr(out.buf, "reset the counters"));
	v.help = false;
	/* too small */
	render_text(&m, &v, &info, 5, 20, false, &out);
	ck_assert(strstr(out.buf, "too small"));
	strbuf_release(&out);
	tui_view_release(&v);
	tui_model_release(&m);
}
END_TEST

START_TEST(test_screen_hostile_names)
{
	static const struct fake_frame evil[] = {
		{ 9, "bad\033[2J\nname\xe4\xb8\xad\xe6\x96\x87", 1 },
	};
	struct tui_model m;
	struct tui_view v;
	struct tui_info info = { 0 };
	struct sample s = { 0 };
	struct strbuf out;

	tui_model_init(&m);
	sample_clear(&s);
	sample_thread(&s, 1, 10, "t\033]0;x\007", true, evil, 1);
	round_of(&m, &s);
	tui_view_init(&v);
	strbuf_init(&out);
	render_text(&m, &v, &info, 24, 80, true, &out);
	/* no control character reaches the terminal but newlines */
	for (size_t i = 0; i < out.len; i++)
		ck_assert(out.buf[i] == '\n' || (unsigned char)out.buf[i] >= 0x20);
	ck_assert(strstr(out.buf, "bad\\x1b[2J\\x0aname\xe4\xb8\xad"));
	/* not UTF-8: ASCII only */
	render_text(&m, &v, &info, 24, 80, false, &out);
	for (size_t i = 0; i < out.len; i++)
		ck_assert((unsigned char)out.buf[i] < 0x80);
	ck_assert(strstr(out.buf, "name??"));
	/* narrow: still within the width (checked in render_text) */
	render_text(&m, &v, &info, 20, 31, true, &out);
	strbuf_release(&out);
	tui_view_release(&v);
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

START_TEST(test_screen_lines_equal)
{
	struct tui_frame a, b;
	struct tui_model m;
	struct tui_view v;
	struct tui_info info = { 0 };

	three_threads(&m);
	tui_view_init(&v);
	tui_frame_init(&a, 24, 80, false);
	tui_frame_init(&b, 24, 80, false);
	tui_view_update(&v, &m, 0, 0);
	tui_view_layout(&v, 24, 80);
	tui_render(&a, &v, &m, &info);
	tui_render(&b, &v, &m, &info);
	for (int y = 0; y < 24; y++)
		ck_assert(tui_line_equal(&a.lines[y], &b.lines[y]));
	/* moving the selection changes only the two rows concerned */
	tui_view_key(&v, &m, 'j');
	tui_view_update(&v, &m, 0, 0);
	tui_render(&b, &v, &m, &info);
	{
		int changed = 0;

		for (int y = 0; y < 24; y++)
			changed += !tui_line_equal(&a.lines[y], &b.lines[y]);
		ck_assert_int_eq(changed, 2);
	}
	tui_frame_release(&a);
	tui_frame_release(&b);
	tui_view_release(&v);
	tui_model_release(&m);
}
END_TEST

/* Threads that come and go by the thousand (a churning pool): the exited
 * ones, and those whose TID is unknown, must not push the live ones out of
 * sight, whichever way the table is sorted. */
START_TEST(test_view_threads_live_first)
{
	struct tui_model m;
	struct tui_view v;
	struct sample s = { 0 };
	/* main (TID 100), the live "?" ones, then the exited ones, the
	 * known TID first; reversed, "?" still after the known TIDs */
	uint64_t want_asc[] = { 1, 5, 6, 4, 2, 3 };
	uint64_t want_desc[] = { 1, 6, 5, 4, 3, 2 };

	tui_model_init(&m);
	sample_clear(&s);
	sample_thread(&s, 2, -1, NULL, false, stack_cold, 3);
	sample_thread(&s, 3, -1, NULL, false, stack_cold, 3);
	sample_thread(&s, 4, 5, "gone", false, stack_cold, 3);
	round_of(&m, &s);
	sample_clear(&s);
	sample_thread(&s, 5, -1, NULL, false, stack_cold, 3); /* live, "?" */
	sample_thread(&s, 1, 100, "MainThread", true, stack_hot, 3);
	sample_thread(&s, 6, -1, NULL, false, stack_cold, 3);
	round_of(&m, &s);
	tui_view_init(&v);
	tui_view_update(&v, &m, 0, 0);
	ck_assert_uint_eq(v.pane[TUI_PANE_THREADS].nrows, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(m.threads[v.thread_rows[i]].thread_id,
				  want_asc[i]);
	v.thread_desc = true;
	tui_view_update(&v, &m, 0, 0);
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(m.threads[v.thread_rows[i]].thread_id,
				  want_desc[i]);
	tui_view_release(&v);
	tui_model_release(&m);
	sample_release(&s);
}
END_TEST

static Suite *tui_suite(void)
{
	Suite *s = suite_create("tui");
	TCase *tc = tcase_create("tui");

	tcase_add_test(tc, test_model_counts);
	tcase_add_test(tc, test_model_recursion_and_rekey);
	tcase_add_test(tc, test_model_reset_and_gone);
	tcase_add_test(tc, test_model_prune);
	tcase_add_test(tc, test_model_cpu);
	tcase_add_test(tc, test_model_processes);
	tcase_add_test(tc, test_view_sort_filter);
	tcase_add_test(tc, test_view_threads_and_drill);
	tcase_add_test(tc, test_view_threads_live_first);
	tcase_add_test(tc, test_view_layout_click);
	tcase_add_test(tc, test_screen_render);
	tcase_add_test(tc, test_screen_hostile_names);
	tcase_add_test(tc, test_screen_lines_equal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(tui_suite());
}
