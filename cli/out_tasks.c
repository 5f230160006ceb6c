/*
 * out_tasks.c - asyncio tasks as text: the awaited-by tree (like
 * `python -m asyncio pstree`, but with what each task waits for, and
 * still drawn when there are await cycles), a flat table (like
 * `python -m asyncio ps`), and the await cycles as async deadlocks.
 */
#include <config.h>

#include "common/escape.h"
#include "cli/out.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct tree {
	const struct snapshot *s;
	const struct out_opts *o;
	struct strbuf *sb;
	size_t *kids;          /* CSR: children (awaited tasks) of task i */
	size_t *kstart;
	bool *has_parent;      /* awaited by a task of the snapshot */
	bool *on_path, *printed;
	struct strbuf prefix;
};

static const struct snap_task *task_by_id(const struct snapshot *s,
					  uint64_t id, size_t *index)
{
	for (size_t i = 0; i < s->ntasks; i++) {
		if (s->tasks[i].id == id) {
			if (index)
				*index = i;
			return &s->tasks[i];
		}
	}
	return NULL;
}

static void add_task_name(struct strbuf *sb, const struct snapshot *s,
			  uint64_t id)
{
	const struct snap_task *t = task_by_id(s, id, NULL);

	if (t) {
		strbuf_addch(sb, '"');
		escape_text(sb, t->name);
		strbuf_addch(sb, '"');
	} else {
		strbuf_addf(sb, "0x%" PRIx64, id);
	}
}

static const char *prim_name(int kind)
{
	switch (kind) {
	case SNAP_AWAIT_LOCK: return "asyncio.Lock";
	case SNAP_AWAIT_EVENT: return "asyncio.Event";
	case SNAP_AWAIT_CONDITION: return "asyncio.Condition";
	case SNAP_AWAIT_SEMAPHORE: return "asyncio.Semaphore";
	case SNAP_AWAIT_QUEUE: return "asyncio.Queue";
	default: return "?";
	}
}

/* "awaits task "x"", "waits for asyncio.Lock 0x..", ... */
static void describe_wait(struct strbuf *sb, const struct snapshot *s,
			  const struct snap_task *t)
{
	const struct snap_await *w = &t->awaiting;

	if (t->state == SNAP_TASK_RUNNING) {
		strbuf_addstr(sb, "running now");
		return;
	}
	switch (w->kind) {
	case SNAP_AWAIT_NONE:
		strbuf_addstr(sb, "scheduled to run");
		break;
	case SNAP_AWAIT_TASK:
		strbuf_addstr(sb, "awaits task ");
		add_task_name(sb, s, w->ntasks ? w->tasks[0] : w->object);
		break;
	case SNAP_AWAIT_GATHER:
		strbuf_addf(sb, "awaits gather() of %zu pending task%s",
			    w->ntasks, w->ntasks == 1 ? "" : "s");
		break;
	case SNAP_AWAIT_TASKGROUP:
		strbuf_addf(sb, "awaits TaskGroup 0x%" PRIx64 " (%zu pending "
			    "task%s)", w->object, w->ntasks,
			    w->ntasks == 1 ? "" : "s");
		break;
	case SNAP_AWAIT_SLEEP:
		if (w->has_delay)
			strbuf_addf(sb, "in asyncio.sleep(), %.1f s left",
				    w->delay);
		else
			strbuf_addstr(sb, "in asyncio.sleep()");
		break;
	case SNAP_AWAIT_FUTURE:
		strbuf_addf(sb, "awaits future 0x%" PRIx64, w->object);
		break;
	default:
		strbuf_addf(sb, "waits for %s 0x%" PRIx64, prim_name(w->kind),
			    w->object);
		break;
	}
}

static void frame_label(struct strbuf *sb, const struct snap_frame *f)
{
	escape_text(sb, f->function);
	strbuf_addstr(sb, "  ");
	escape_text(sb, f->filename);
	if (f->line >= 0)
		strbuf_addf(sb, ":%d", f->line);
}

static void build_children(struct tree *tr)
{
	const struct snapshot *s = tr->s;
	size_t n = s->ntasks, *fill;

	tr->kstart = xcalloc(n + 1, sizeof(size_t));
	tr->has_parent = xcalloc(n + 1, sizeof(bool));
	for (size_t j = 0; j < n; j++)
		for (size_t k = 0; k < s->tasks[j].nawaited_by; k++) {
			size_t i;

			if (task_by_id(s, s->tasks[j].awaited_by[k], &i))
				tr->kstart[i + 1]++;
		}
	for (size_t i = 0; i < n; i++)
		tr->kstart[i + 1] += tr->kstart[i];
	tr->kids = xmalloc((tr->kstart[n] + 1) * sizeof(size_t));
	fill = xcalloc(n + 1, sizeof(size_t));
	for (size_t j = 0; j < n; j++)
		for (size_t k = 0; k < s->tasks[j].nawaited_by; k++) {
			size_t i;

			if (task_by_id(s, s->tasks[j].awaited_by[k], &i)) {
				tr->kids[tr->kstart[i] + fill[i]++] = j;
				tr->has_parent[j] = true;
			}
		}
	free(fill);
}

/* One tree line: prefix, branch, then the caller's label. */
static void branch(struct tree *tr, bool last)
{
	strbuf_addstr(tr->sb, tr->prefix.buf);
	strbuf_addstr(tr->sb, last ? "└── " : "├── ");
}

static void push(struct tree *tr, bool last, size_t *mark)
{
	*mark = tr->prefix.len;
	strbuf_addstr(&tr->prefix, last ? "    " : "│   ");
}

static void pop(struct tree *tr, size_t mark)
{
	tr->prefix.len = mark;
	tr->prefix.buf[mark] = '\0';
}

/* Depth of the drawn tree is bounded: deeper chains are cut. */
#define TREE_MAX_DEPTH 200
#define TREE_FRAMES_SHOWN 64 /* coroutine frames drawn per task */

static void draw_task(struct tree *tr, size_t i, bool last, int depth)
{
	const struct snap_task *t = &tr->s->tasks[i];
	const struct out_opts *o = tr->o;
	struct strbuf *sb = tr->sb;
	size_t nk = tr->kstart[i + 1] - tr->kstart[i], mark, level = 0;
	size_t marks[TREE_FRAMES_SHOWN];

	branch(tr, last);
	strbuf_addf(sb, "(T) %s", col(o, C_BOLD));
	escape_text(sb, t->name);
	strbuf_addf(sb, "%s 0x%" PRIx64 " ", col(o, C_OFF), t->id);
	if (tr->on_path[i]) {
		strbuf_addf(sb, "%s<- await cycle back to this task%s\n",
			    col(o, C_WARN), col(o, C_OFF));
		return;
	}
	if (tr->printed[i]) {
		strbuf_addf(sb, "%s(shown above)%s\n", col(o, C_DIM),
			    col(o, C_OFF));
		return;
	}
	describe_wait(sb, tr->s, t);
	if (t->error) {
		strbuf_addf(sb, " %s(incomplete: ", col(o, C_WARN));
		escape_text(sb, t->error);
		strbuf_addf(sb, ")%s", col(o, C_OFF));
	}
	strbuf_addch(sb, '\n');
	tr->printed[i] = true;
	if (depth >= TREE_MAX_DEPTH) {
		push(tr, last, &mark);
		branch(tr, true);
		strbuf_addstr(sb, "... (tree cut here)\n");
		pop(tr, mark);
		return;
	}
	tr->on_path[i] = true;
	push(tr, last, &mark);
	/* coroutine frames outermost first, each nested in the previous;
	 * the tasks it awaits hang under the innermost */
	for (size_t f = t->nframes; f-- > 0;) {
		branch(tr, true);
		if (level == TREE_FRAMES_SHOWN) {
			strbuf_addf(sb, "... (%zu more frames)\n", f + 1);
			break;
		}
		frame_label(sb, &t->frames[f]);
		strbuf_addch(sb, '\n');
		push(tr, true, &marks[level++]);
	}
	for (size_t k = 0; k < nk; k++)
		draw_task(tr, tr->kids[tr->kstart[i] + k], k == nk - 1,
			  depth + 1);
	while (level > 0)
		pop(tr, marks[--level]);
	pop(tr, mark);
	tr->on_path[i] = false;
}

static const struct snap_thread *thread_of(const struct snapshot *s,
					   const struct snap_task *t)
{
	if (!t->has_thread)
		return NULL;
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].thread_id == t->thread_id &&
		    s->threads[i].interp_id == t->interp_id)
			return &s->threads[i];
	return NULL;
}

static void loop_header(struct strbuf *sb, const struct snapshot *s,
			size_t first, size_t end, const struct out_opts *o)
{
	const struct snap_task *t = &s->tasks[first];
	const struct snap_thread *th = thread_of(s, t);

	strbuf_addf(sb, "\n%sEvent loop 0x%" PRIx64, col(o, C_BOLD), t->loop);
	if (t->has_thread) {
		strbuf_addf(sb, " in thread %" PRIu64, t->thread_id);
		if (th && th->name) {
			strbuf_addstr(sb, " \"");
			escape_text(sb, th->name);
			strbuf_addch(sb, '"');
		}
	} else {
		strbuf_addstr(sb, " (not running)");
	}
	strbuf_addf(sb, "%s, %zu task%s\n", col(o, C_OFF), end - first,
		    end - first == 1 ? "" : "s");
}

static void draw_tree(struct strbuf *sb, const struct snapshot *s,
		      const struct out_opts *o)
{
	struct tree tr = { s, o, sb, NULL, NULL, NULL, NULL, NULL, { 0 } };
	size_t n = s->ntasks;

	build_children(&tr);
	tr.on_path = xcalloc(n + 1, sizeof(bool));
	tr.printed = xcalloc(n + 1, sizeof(bool));
	strbuf_init(&tr.prefix);
	for (size_t g = 0; g < n;) {
		size_t end = g, nroots = 0, drawn = 0;

		while (end < n && s->tasks[end].loop == s->tasks[g].loop &&
		       s->tasks[end].has_thread == s->tasks[g].has_thread &&
		       s->tasks[end].thread_id == s->tasks[g].thread_id)
			end++;
		loop_header(sb, s, g, end, o);
		/* roots: tasks nobody in the snapshot awaits */
		for (size_t i = g; i < end; i++)
			nroots += !tr.has_parent[i];
		for (size_t i = g; i < end; i++)
			if (!tr.has_parent[i])
				draw_task(&tr, i, ++drawn == nroots, 0);
		/* what is left is only reachable through a cycle */
		for (size_t i = g; i < end; i++)
			if (!tr.printed[i])
				draw_task(&tr, i, true, 0);
		g = end;
	}
	strbuf_release(&tr.prefix);
	free(tr.on_path);
	free(tr.printed);
	free(tr.kids);
	free(tr.kstart);
	free(tr.has_parent);
}

static void draw_table(struct strbuf *sb, const struct snapshot *s,
		       const struct out_opts *o)
{
	strbuf_addf(sb, "\n%s%-16s %-14s %-20s %-9s %-40s %-s%s\n",
		    col(o, C_BOLD), "THREAD", "TASK ID", "NAME", "STATE",
		    "WAITING FOR", "INNERMOST FRAME / AWAITED BY", col(o, C_OFF));
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct snap_task *t = &s->tasks[i];
		struct strbuf cell;
		size_t start;

		if (t->has_thread)
			strbuf_addf(sb, "%-16" PRIu64 " ", t->thread_id);
		else
			strbuf_addf(sb, "%-16s ", "-");
		strbuf_addf(sb, "%-14" PRIx64 " ", t->id);
		start = sb->len;
		escape_text(sb, t->name);
		while (sb->len - start < 20)
			strbuf_addch(sb, ' ');
		strbuf_addf(sb, " %-9s ", snap_task_state_name(t->state));
		strbuf_init(&cell);
		describe_wait(&cell, s, t);
		strbuf_addf(sb, "%-40s ", cell.buf);
		strbuf_release(&cell);
		if (t->nframes)
			frame_label(sb, &t->frames[0]);
		else
			strbuf_addch(sb, '-');
		if (t->nawaited_by) {
			strbuf_addstr(sb, "  <- ");
			for (size_t k = 0; k < t->nawaited_by; k++) {
				if (k)
					strbuf_addstr(sb, ", ");
				add_task_name(sb, s, t->awaited_by[k]);
			}
		}
		strbuf_addch(sb, '\n');
	}
}

static void draw_cycles(struct strbuf *sb, const struct snapshot *s,
			const struct out_opts *o)
{
	for (size_t c = 0; c < s->ncycles; c++) {
		const struct snap_cycle *cy = &s->cycles[c];

		strbuf_addf(sb, "\n%sAsync deadlock: %zu task%s await%s each "
			    "other in a cycle and will never finish:%s\n",
			    col(o, C_WARN), cy->n, cy->n == 1 ? "" : "s",
			    cy->n == 1 ? "s" : "", col(o, C_OFF));
		for (size_t k = 0; k < cy->n; k++) {
			const struct snap_task *t = task_by_id(s, cy->tasks[k],
							       NULL);

			strbuf_addstr(sb, k ? "  which awaits task " :
				      "  task ");
			add_task_name(sb, s, cy->tasks[k]);
			strbuf_addf(sb, " (0x%" PRIx64 ")", cy->tasks[k]);
			if (t && t->nframes) {
				strbuf_addstr(sb, " at ");
				frame_label(sb, &t->frames[0]);
			}
			strbuf_addch(sb, '\n');
		}
		strbuf_addstr(sb, "  which awaits task ");
		add_task_name(sb, s, cy->tasks[0]);
		strbuf_addstr(sb, ".\n");
	}
}

void out_text_tasks(struct strbuf *sb, const struct snapshot *s,
		    const struct out_opts *o)
{
	size_t loops = 0;

	if (o->tasks == OUT_TASKS_NONE)
		return;
	if (s->ntasks == 0 && !s->tasks_note)
		return;
	for (size_t i = 0; i < s->ntasks; i++)
		loops += i == 0 || s->tasks[i].loop != s->tasks[i - 1].loop;
	strbuf_addf(sb, "\n%sAsyncio: %zu task%s in %zu event loop%s%s\n",
		    col(o, C_BOLD), s->ntasks, s->ntasks == 1 ? "" : "s",
		    loops, loops == 1 ? "" : "s", col(o, C_OFF));
	if (s->tasks_note) {
		strbuf_addf(sb, "  %s(tasks may be incomplete: ",
			    col(o, C_WARN));
		escape_text(sb, s->tasks_note);
		strbuf_addf(sb, ")%s\n", col(o, C_OFF));
	}
	if (o->tasks == OUT_TASKS_TABLE)
		draw_table(sb, s, o);
	else
		draw_tree(sb, s, o);
	draw_cycles(sb, s, o);
}
