#include <config.h>

#include "cli/commands.h"
#include "cli/profile.h"
#include "cli/out.h"
#include "cli/run.h"
#include "session/source.h"
#include "cli/top.h"
#include "common/clock.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "model/native.h"
#include "model/sample.h"
#include "session/session.h"
#include "tui/model.h"
#include "tui/screen.h"
#include "tui/term.h"
#include "tui/view.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NS CLOCK_NS_PER_S
/* Samples a late schedule may take back to back to keep its rate. */
#define CATCH_UP 10
/* How long a key is waited for when nothing else is due (paused). */
#define IDLE_WAIT_MS 500
/* Processes shown at most (a bound on a tree the user does not
 * control: a fork bomb under the PID). */
#define TOP_MAX_PROCS 256

static const char top_usage[] =
	"usage: snakescope top [options] PID\n"
	"       snakescope top [options] -p PID\n"
	"       snakescope top [options] --subprocesses PID\n"
	"       snakescope top [options] PID PID...\n"
	"       snakescope top [options] -- PROGRAM [ARGS...]\n"
	"\n"
	"A live view of process PID: its threads (state, GIL, CPU), the\n"
	"functions where time goes (own and total), the selected thread's\n"
	"stack with the running expression, its asyncio tasks, and a frame's\n"
	"local variables on demand.  Press ? for the keys, q to quit.\n"
	"With '-- PROGRAM', start the program and show it ('snakescope run\n"
	"top'): its input and output go to /dev/null while the view owns\n"
	"the terminal; when the view ends first, the program is ended\n"
	"(SIGTERM); the exit status is then 0, else the program's.\n"
	"\n"
	"  -p, --pid PID        the process to show (the same as the operand\n"
	"                       PID)\n"
	"  --subprocesses       PID and its Python descendants (a\n"
	"                       multiprocessing pool, a server's workers),\n"
	"                       in one view with a PID column; processes\n"
	"                       that start later are added (looked for at\n"
	"                       each refresh), those that exit are dropped\n"
	"  -r, --rate HZ        samples per second (default 100)\n"
	"  -i, --refresh S      redraw every S seconds (default 1; + and -\n"
	"                       change it)\n"
	"  --idle               also count the stacks of threads that are not\n"
	"                       running (by default a thread counts when it\n"
	"                       holds the GIL or is on a CPU)\n"
	"  --pause              exact stacks: each thread sampled is stopped\n"
	"                       alone while its stack is read, the others\n"
	"                       run on (a waiting thread is read without a\n"
	"                       stop); by default nothing is stopped\n"
	"  --native             C frames too, in the functions and the stack:\n"
	"                       each thread sampled is stopped alone for its\n"
	"                       registers and stack (as record --native),\n"
	"                       never the process; C threads are shown too\n"
	"  --native-all         the same, keeping the interpreter's own C\n"
	"                       frames\n"
	"  --nonblocking        the default, said explicitly: never stop a\n"
	"                       thread (refused with --pause and --native)\n"
	"  --once               no terminal UI: sample for one refresh, print\n"
	"                       the screen as text and exit\n"
	"  --iterations N       the same, N screens, one per refresh\n"
	"  --size COLSxROWS     the text screens' size (default: the\n"
	"                       terminal's, else 120x40)\n"
	"  --no-color           no colours (also when NO_COLOR is set)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Pausing the view (space) stops the sampling too: nothing is read\n"
	"from the process until it is resumed.\n"
	"\n"
	"Several processes (PIDs, or --subprocesses): their threads in one\n"
	"list with a PID column, the functions of all of them together, the\n"
	"PID column naming the process where a function's time goes most\n"
	"(\"+N\": N others have it too); the stack and tasks panes show the\n"
	"selected thread's process.\n";

/* One process shown. */
struct top_proc {
	struct top *tp;
	pid_t pid;
	struct session *is;    /* samples, and snapshots, each with caches of
				  its own */
	struct snapshot *native; /* --native: the last sample's stacks (the
				    sample borrows its threads' names) */
	bool gone;             /* exited (or no longer readable) */
	bool forgotten;        /* ... and its threads dropped from the model,
				  its session closed: the slot is free */
};

struct top {
	const struct top_opts *o;
	pid_t pid;
	struct top_proc *procs; /* [0]: pid; then the others, as found (a
				   free slot taken again) */
	size_t nprocs;
	size_t nlive;
	bool many;             /* several processes (PID column) */
	bool procs_left_out;   /* past TOP_MAX_PROCS */
	pid_t *skipped;        /* children that are not Python (of the last
				  scan: a PID is not kept past its process) */
	size_t nskipped, skipped_cap;
	struct sample sample;
	struct sample_names names; /* --native: C frames keyed */
	struct tui_model model;
	struct tui_view view;
	struct tui_frame frame;
	struct snapshot *snap;
	char *version;
	struct strbuf tasks_text;
	char **task_lines;
	size_t ntask_lines, task_lines_cap;
	struct source_cache *source;
	bool exited;
	uint64_t start;        /* of the counts (reset moves it) */
	uint64_t paused_ns;    /* time spent paused since start */
	uint64_t pause_began;  /* 0: not paused */
	uint64_t ended;        /* when the process exited, or 0 */
	uint64_t cpu_read;     /* last CPU reading */
	long clk_tck;
};

/* ---- sampling --------------------------------------------------------- */

/* Every thread is noted in the model; its stack is read when it runs
 * (holds the GIL, or is on a CPU), or always with --idle. */
static bool keep_thread(void *arg, const struct sample_thread *t)
{
	struct top_proc *pr = arg;
	struct top *tp = pr->tp;
	char state = 0;
	bool active = t->holds_gil;

	if (!active && t->native_id > 0) {
		state = session_thread_state(pr->is, (pid_t)t->native_id);
		active = state == 'R';
	}
	tui_model_observe(&tp->model, t, state, active);
	return active || tp->o->idle;
}

/* The last rounds were read while the process ran: its threads would
 * keep their last states (the main thread "running") under "process
 * exited". */
static void target_exited(struct top *tp)
{
	tp->exited = true;
	tui_model_gone(&tp->model);
}

static void proc_gone(struct top *tp, struct top_proc *pr);

/* A sample of pr into tp->sample.  --pause: each thread read is stopped
 * alone, never the process; --native: the same, and each one's C frames
 * merged with its Python ones. */
static int proc_sample(struct top *tp, struct top_proc *pr, uint64_t now,
		       struct err *e)
{
	int rc;

	if (!tp->o->native)
		return tp->o->pause ?
		       session_nonstop_sample(pr->is, now, &tp->sample, NULL,
					      e) :
		       session_sample(pr->is, false, now, &tp->sample, e);
	snap_free(pr->native);
	pr->native = NULL;
	rc = session_nonstop_sample(pr->is, now, &tp->sample, &pr->native, e);
	if (!rc)
		sample_of_snapshot(&tp->sample, &tp->names, pr->native,
				   tp->o->native_all);
	return rc;
}

/* One round of several processes: a sample of each.  A process that
 * exited is dropped, not an error; a round is counted when at least one
 * process was read. */
static void sample_many(struct top *tp, uint64_t now)
{
	bool any = false, failed = false;

	for (size_t i = 0; i < tp->nprocs; i++) {
		struct top_proc *pr = &tp->procs[i];
		struct err e;
		int rc;

		if (pr->gone)
			continue;
		err_clear(&e);
		tui_model_process(&tp->model, pr->pid);
		rc = proc_sample(tp, pr, now, &e);
		if (rc) {
			if (rc == SS_EEXITED || session_gone(pr->is))
				proc_gone(tp, pr);
			else
				failed = true;
			continue;
		}
		tui_model_add(&tp->model, &tp->sample);
		any = true;
	}
	if (any)
		tui_model_end(&tp->model);
	else if (failed)
		tui_model_error(&tp->model);
}

/* ---- processes -------------------------------------------------------- */

static bool shown_pid(const struct top *tp, pid_t pid)
{
	for (size_t i = 0; i < tp->nprocs; i++)
		if (tp->procs[i].pid == pid && !tp->procs[i].forgotten)
			return true;
	return false;
}

static bool pid_in(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

/* Open process pid and start its sampler: 0, or the error (in e). */
static int add_proc(struct top *tp, pid_t pid, struct err *e)
{
	struct top_proc *pr = NULL;
	struct session *is = NULL;
	int rc;

	/* A process gone leaves a free slot: a server that replaces its
	 * workers for days is not cut at TOP_MAX_PROCS.  procs is
	 * allocated once, at its bound: the samplers keep pointers into
	 * it. */
	for (size_t i = 0; i < tp->nprocs && !pr; i++)
		if (tp->procs[i].forgotten)
			pr = &tp->procs[i];
	if (!pr && tp->nprocs == (tp->many ? TOP_MAX_PROCS : 1)) {
		tp->procs_left_out = true;
		return 0;
	}
	rc = session_open(pid, &is, e);
	if (rc) {
		session_close(is);
		return rc;
	}
	if (!pr)
		pr = &tp->procs[tp->nprocs];
	memset(pr, 0, sizeof(*pr));
	pr->tp = tp;
	pr->pid = pid;
	pr->is = is;
	rc = tp->o->pause || tp->o->native ?
	     session_nonstop_start(is, keep_thread, pr, tp->o->native, e) :
	     session_sampler_start(is, keep_thread, pr, e);
	if (rc) {
		session_close(is);
		pr->forgotten = true; /* still free */
		return rc;
	}
	if (pr == &tp->procs[tp->nprocs])
		tp->nprocs++;
	tp->nlive++;
	return 0;
}

/* Look for new descendants of the processes shown (--subprocesses),
 * breadth first: a child found now is looked into in the same pass.  A
 * child that is not Python (a shell, a compiler) or a zombie is skipped
 * for as long as it is a child; one that cannot be read yet (just
 * forked, not yet exec'd) is tried again at the next scan. */
static void scan_children(struct top *tp)
{
	pid_t *skip = NULL;
	size_t nskip = 0, skip_cap = 0;

	for (size_t i = 0; i < tp->nprocs; i++) {
		pid_t *kids;
		size_t n;

		if (tp->procs[i].gone)
			continue;
		n = session_children(tp->procs[i].pid, &kids);
		for (size_t k = 0; k < n; k++) {
			bool was = pid_in(tp->skipped, tp->nskipped, kids[k]);
			struct err e;
			int rc = 0;

			if (!was && shown_pid(tp, kids[k]))
				continue;
			if (!was) {
				err_clear(&e);
				rc = add_proc(tp, kids[k], &e);
			}
			if (was || rc == SS_ENOTPY || rc == SS_EUNSUPPORTED ||
			    rc == SS_EBADBUILD || rc == SS_EPERM ||
			    rc == SS_EZOMBIE) {
				skip = xgrow(skip, &skip_cap, nskip + 1,
					     sizeof(*skip));
				skip[nskip++] = kids[k];
			}
		}
		free(kids);
	}
	free(tp->skipped);
	tp->skipped = skip;
	tp->nskipped = nskip;
	tp->skipped_cap = skip_cap;
}

/* Drop the threads of the processes gone since the last time (before the
 * view takes its rows from the model). */
static void forget_gone(struct top *tp)
{
	if (!tp->many || tp->exited)
		return;
	for (size_t i = 0; i < tp->nprocs; i++) {
		struct top_proc *pr = &tp->procs[i];

		if (pr->gone && !pr->forgotten) {
			tui_model_forget(&tp->model, pr->pid);
			session_close(pr->is);
			pr->is = NULL;
			snap_free(pr->native);
			pr->native = NULL;
			pr->forgotten = true;
		}
	}
}

/* The process whose stack and tasks are shown: the selected thread's,
 * else the first. */
static struct top_proc *shown_proc(struct top *tp)
{
	if (tp->view.has_thread)
		for (size_t i = 0; i < tp->nprocs; i++)
			if (tp->procs[i].pid == tp->view.thread_pid &&
			    !tp->procs[i].forgotten)
				return &tp->procs[i];
	return &tp->procs[0];
}

static struct top_proc *proc_of(struct top *tp, int pid)
{
	for (size_t i = 0; i < tp->nprocs; i++)
		if (tp->procs[i].pid == pid && !tp->procs[i].forgotten)
			return &tp->procs[i];
	return NULL;
}

/* Process pr ended (several processes): its threads go at the next
 * render; the view ends when none is left. */
static void proc_gone(struct top *tp, struct top_proc *pr)
{
	if (pr->gone)
		return;
	pr->gone = true;
	if (!--tp->nlive)
		target_exited(tp);
}

static void sample_once(struct top *tp, uint64_t now)
{
	struct top_proc *pr = &tp->procs[0];
	struct err e;
	int rc;

	err_clear(&e);
	tui_model_begin(&tp->model);
	if (tp->many) {
		sample_many(tp, now);
		return;
	}
	tui_model_process(&tp->model, pr->pid);
	rc = proc_sample(tp, pr, now, &e);
	if (rc) {
		if (rc == SS_EEXITED || session_gone(pr->is))
			target_exited(tp);
		else
			tui_model_error(&tp->model);
		return;
	}
	tui_model_add(&tp->model, &tp->sample);
	tui_model_end(&tp->model);
}

/* States and CPU use of the threads, from /proc, once a refresh. */
static void read_cpu(struct top *tp, uint64_t now)
{
	double secs = tp->cpu_read ? (double)(now - tp->cpu_read) / NS : 0;

	for (size_t i = 0; i < tp->model.nthreads; i++) {
		struct tui_thread *t = &tp->model.threads[i];
		struct top_proc *pr = proc_of(tp, t->pid);
		uint64_t ticks;
		char state;

		if (!t->alive || t->native_id <= 0 || !pr || pr->gone)
			continue;
		if (!session_thread_cpu(pr->is, (pid_t)t->native_id, &state,
					&ticks))
			continue;
		t->state = state;
		tui_model_cpu(t, ticks, secs, tp->clk_tck);
	}
	tp->cpu_read = now;
}

/* ---- the snapshot: stack, locals, tasks -------------------------------- */

static void split_task_lines(struct top *tp)
{
	struct out_opts oo = { 0 };
	char *s;

	tp->ntask_lines = 0;
	strbuf_reset(&tp->tasks_text);
	if (!tp->snap || !tp->snap->ntasks)
		return;
	oo.tasks = OUT_TASKS_TREE;
	out_text_tasks(&tp->tasks_text, tp->snap, &oo);
	for (s = tp->tasks_text.buf; *s;) {
		char *nl = strchr(s, '\n');

		if (nl)
			*nl = 0;
		if (*s) {
			tp->task_lines = xgrow(tp->task_lines,
					       &tp->task_lines_cap,
					       tp->ntask_lines + 1,
					       sizeof(*tp->task_lines));
			tp->task_lines[tp->ntask_lines++] = s;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
}

static void take_snapshot(struct top *tp)
{
	struct session_opts io = { 0 };
	struct top_proc *pr = shown_proc(tp);
	struct snapshot *s = NULL;
	struct err e;

	if (tp->exited || pr->gone)
		return;
	err_clear(&e);
	/* --pause and --native: thread by thread, never the process */
	io.nonstop = tp->o->pause || tp->o->native;
	io.pause = !io.nonstop && tp->view.locals;
	io.native = tp->o->native && tp->view.native;
	io.tasks = true;
	io.locals = tp->view.locals;
	if (session_snapshot(pr->is, &io, &s, &e)) {
		if (tp->many && (e.code == SS_EEXITED || session_gone(pr->is)))
			proc_gone(tp, pr);
		else if (e.code == SS_EEXITED || session_gone(pr->is))
			target_exited(tp);
		return;
	}
	/* the stack pane lists one stack: C frames among the Python ones */
	for (size_t i = 0; io.native && i < s->nthreads; i++)
		py_native_flatten(&s->threads[i], tp->o->native_all);
	snap_free(tp->snap);
	tp->snap = s;
	/* A program caught starting up may not have told its micro version
	 * yet ("3.9"): the latest snapshot's is the best. */
	if (s->version && (!tp->version || strcmp(tp->version, s->version))) {
		free(tp->version);
		tp->version = xstrdup(s->version);
	}
	split_task_lines(tp);
}

static const char *source_line_cb(void *arg, const char *file, int line)
{
	return source_line(arg, file, line);
}

/* ---- drawing ---------------------------------------------------------- */

static uint64_t elapsed_ns(const struct top *tp, uint64_t now)
{
	uint64_t end = tp->ended ? tp->ended : tp->pause_began ?
		       tp->pause_began : now;

	return end > tp->start + tp->paused_ns ?
	       end - tp->start - tp->paused_ns : 0;
}

static void render(struct top *tp, uint64_t now)
{
	struct tui_info info = { 0 };
	const struct snap_thread *st;
	double secs = (double)elapsed_ns(tp, now) / NS;
	uint32_t keep = tp->view.drilled ? tp->view.drill_code : UINT32_MAX;

	/* Before the view takes its rows from the model: indexes change. */
	forget_gone(tp);
	if (tui_model_prune(&tp->model, &keep) && tp->view.drilled)
		tp->view.drill_code = keep;

	info.pid = tp->pid;
	info.nprocs = tp->nlive;
	info.version = tp->version;
	info.elapsed = secs;
	info.rate = secs > 0 ? (double)tp->model.rounds / secs : 0;
	info.secs_per_sample = tp->model.rounds ?
			       secs / (double)tp->model.rounds :
			       1 / tp->o->rate;
	info.note = tp->exited ? (tp->many ? "processes exited" :
				  "process exited") :
		    tp->sample.threads_left_out ? "threads left out: a thread "
		    "list longer than its bound" :
		    tp->procs_left_out ? "processes left out: more than 256" :
		    NULL;
	info.snap = tp->snap;
	info.task_lines = tp->task_lines;
	info.ntask_lines = tp->ntask_lines;
	info.source_line = source_line_cb;
	info.source_arg = tp->source;
	st = tui_selected_stack(&tp->view, &info);
	tui_view_update(&tp->view, &tp->model, st ? st->nframes : 0,
			tp->ntask_lines);
	tui_view_layout(&tp->view, tp->frame.rows, tp->frame.cols);
	/* The update may have picked another thread (the first one picks
	 * one; a sort keeps it): its stack is what the pane shows. */
	st = tui_selected_stack(&tp->view, &info);
	tp->view.pane[TUI_PANE_STACK].nrows = st ? st->nframes : 0;
	tui_render(&tp->frame, &tp->view, &tp->model, &info);
}

/* ---- the loops -------------------------------------------------------- */

/* When the next sample is due (the schedule keeps the rate; after a long
 * stall it starts again instead of bursting). */
static uint64_t next_sample(uint64_t next, uint64_t period, uint64_t now)
{
	next += period;
	if (next + CATCH_UP * period < now)
		next = now;
	return next;
}

static void reset_counts(struct top *tp, uint64_t now)
{
	tui_model_reset(&tp->model);
	tp->start = now;
	tp->paused_ns = 0;
	if (tp->pause_began)
		tp->pause_began = now;
}

static int run_text(struct top *tp)
{
	uint64_t period = (uint64_t)(NS / tp->o->rate);
	uint64_t refresh = (uint64_t)(tp->o->refresh * NS);
	struct strbuf out;

	strbuf_init(&out);
	for (long it = 0; it < tp->o->iterations && !stop_signal; it++) {
		uint64_t now = clock_mono_ns(), due = now + refresh, next = now;

		while (!tp->exited && !stop_signal && now < due) {
			if (now >= next) {
				sample_once(tp, now);
				next = next_sample(next, period, clock_mono_ns());
			}
			clock_sleep_until_ns(next < due ? next : due);
			now = clock_mono_ns();
		}
		if (tp->exited && !tp->ended)
			tp->ended = now;
		if (tp->o->subprocesses && !tp->exited)
			scan_children(tp);
		read_cpu(tp, now);
		take_snapshot(tp);
		render(tp, now);
		strbuf_reset(&out);
		if (it)
			strbuf_addch(&out, '\n');
		tui_frame_text(&tp->frame, &out);
		fwrite(out.buf, 1, out.len, stdout);
		fflush(stdout);
		if (tp->exited)
			break;
	}
	strbuf_release(&out);
	return ferror(stdout) ? 1 : 0;
}

static void emergency(void)
{
	session_emergency_resume();
}

static int run_tui(struct top *tp)
{
	uint64_t period = (uint64_t)(NS / tp->o->rate);
	uint64_t now = clock_mono_ns(), next = now, redraw_at = now;
	struct tui_term *term;
	struct err e;
	int rows, cols;
	bool dirty = true;

	err_clear(&e);
	term = tui_term_open(tp->o->color, emergency, &e);
	if (!term) {
		report_error("top: %s", e.msg[0] ? e.msg : err_describe(e.code));
		return err_exit_code(e.code);
	}
	tui_term_size(term, &rows, &cols);
	tui_frame_release(&tp->frame);
	tui_frame_init(&tp->frame, rows, cols, tui_term_utf8());
	take_snapshot(tp);
	while (!stop_signal) {
		uint64_t due;
		unsigned effects = 0;
		int key, my = 0, mx = 0;

		now = clock_mono_ns();
		if (!tp->view.paused && !tp->exited && now >= next) {
			sample_once(tp, now);
			next = next_sample(next, period, clock_mono_ns());
			if (tp->exited)
				tp->ended = clock_mono_ns();
		}
		now = clock_mono_ns();
		if (!tp->view.paused && now >= redraw_at) {
			if (tp->o->subprocesses && !tp->exited)
				scan_children(tp);
			read_cpu(tp, now);
			take_snapshot(tp);
			dirty = true;
			redraw_at = now + (uint64_t)(tui_view_refresh(&tp->view) *
						     NS);
		}
		if (dirty) {
			render(tp, now);
			tui_term_draw(term, &tp->frame);
			dirty = false;
		}
		/* Wait for a key until the next sample or redraw. */
		due = tp->view.paused ? now + IDLE_WAIT_MS * (NS / 1000) :
		      tp->exited ? redraw_at : (next < redraw_at ? next :
						redraw_at);
		now = clock_mono_ns();
		key = tui_term_key(term, due > now ?
				   (int)((due - now) / (NS / 1000)) : 0,
				   &my, &mx);
		if (key < 0)
			continue;
		if (key == TUI_KEY_RESIZE) {
			tui_term_size(term, &rows, &cols);
			tui_frame_release(&tp->frame);
			tui_frame_init(&tp->frame, rows, cols, tui_term_utf8());
			dirty = true;
			continue;
		}
		if (key == TUI_KEY_MOUSE)
			effects = tui_view_click(&tp->view, &tp->model, my, mx);
		else
			effects = tui_view_key(&tp->view, &tp->model, key);
		if (effects & TUI_QUIT)
			break;
		now = clock_mono_ns();
		if (effects & TUI_PAUSE) {
			if (tp->view.paused) {
				tp->pause_began = now;
			} else {
				tp->paused_ns += now - tp->pause_began;
				tp->pause_began = 0;
				next = now;
			}
		}
		if (effects & TUI_RESET)
			reset_counts(tp, now);
		if ((effects & TUI_SNAPSHOT) && !tp->view.paused) {
			take_snapshot(tp);
			redraw_at = now + (uint64_t)(tui_view_refresh(&tp->view) *
						     NS);
		}
		dirty |= (effects & TUI_REDRAW) != 0;
	}
	tui_term_close(term);
	return 0;
}

/* ---- options ---------------------------------------------------------- */

static bool parse_size(const char *s, int *cols, int *rows)
{
	char *end;
	long c, r;

	errno = 0;
	c = strtol(s, &end, 10);
	if (errno || *end != 'x' || c < 1 || c > 1000)
		return false;
	r = strtol(end + 1, &end, 10);
	if (errno || *end || r < 1 || r > 1000)
		return false;
	*cols = (int)c;
	*rows = (int)r;
	return true;
}

int top_parse(int argc, char **argv, struct top_opts *o, pid_t *pid,
	      bool need_pid)
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "refresh", required_argument, NULL, 'i' },
		{ "idle", no_argument, NULL, 'I' },
		{ "pause", no_argument, NULL, 'P' },
		{ "native", no_argument, NULL, 'N' },
		{ "native-all", no_argument, NULL, 'A' },
		{ "nonblocking", no_argument, NULL, 'B' },
		{ "pid", required_argument, NULL, 'p' },
		{ "subprocesses", no_argument, NULL, 'S' },
		{ "once", no_argument, NULL, '1' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *nc = getenv("NO_COLOR");
	const char *pid_opt = NULL;
	bool nonblocking = false;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->rate = 100;
	o->refresh = 1;
	o->color = !nc || !*nc;
	getopt_reset();
	while ((c = getopt_long(argc, argv, "hr:i:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->rate = strtod(optarg, &end);
			if (*end || !(o->rate > 0) || o->rate > 10000) {
				report_error("top: --rate takes samples per "
					     "second (up to 10000), not '%s'",
					     optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (!parse_seconds(optarg, &o->refresh) ||
			    o->refresh < 0.05) {
				report_error("top: --refresh takes seconds "
					     "(0.05 or more), not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'I':
			o->idle = true;
			break;
		case 'P':
			o->pause = true;
			break;
		case 'A':
			o->native_all = true;
			/* fall through */
		case 'N':
			o->native = true;
			break;
		case 'B':
			nonblocking = true;
			break;
		case 'p':
			pid_opt = optarg;
			break;
		case 'S':
			o->subprocesses = true;
			break;
		case '1':
			o->iterations = 1;
			break;
		case 'n':
			o->iterations = strtol(optarg, &end, 10);
			if (*end || o->iterations < 1 || o->iterations > INT_MAX) {
				report_error("top: --iterations takes a positive "
					     "number, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (!parse_size(optarg, &o->cols, &o->rows)) {
				report_error("top: --size takes COLSxROWS (like "
					     "120x40), not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'C':
			o->color = false;
			break;
		case 'h':
			fputs(top_usage, stdout);
			return -1;
		default:
			report_error("top: unknown option '%s'; see 'snakescope "
				     "top --help'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (nonblocking && (o->pause || o->native)) {
		report_error("top: --nonblocking (the default: no thread is "
			     "stopped) contradicts %s, which stops each thread "
			     "sampled", o->pause ? "--pause" : "--native");
		return EXIT_USAGE;
	}
	if (need_pid && !pid_opt && optind + 1 < argc) {
		/* Several processes, each operand a PID. */
		if (o->subprocesses) {
			report_error("top: --subprocesses takes one PID, the "
				     "parent, not '%s' too", argv[optind + 1]);
			return EXIT_USAGE;
		}
		for (int i = optind; i < argc; i++)
			if (!parse_pid(argv[i], pid)) {
				report_error("top: '%s' is not a process ID (a "
					     "positive number)", argv[i]);
				return EXIT_USAGE;
			}
		o->more_pids = &argv[optind + 1];
		o->nmore_pids = (size_t)(argc - optind - 1);
		parse_pid(argv[optind], pid);
		return 0;
	}
	return take_pid_or_program("top", pid_opt, need_pid, argc, argv,
				   optind, pid);
}

static void close_procs(struct top *tp)
{
	for (size_t i = 0; i < tp->nprocs; i++) {
		session_close(tp->procs[i].is);
		snap_free(tp->procs[i].native);
	}
	free(tp->procs);
	free(tp->skipped);
}

/* The processes besides the first: the other PIDs given (each must be
 * read: an error is reported and ends top, as for the first), and with
 * --subprocesses the descendants found now.  Returns 0 or -1. */
static int open_others(struct top *tp, const struct top_opts *o)
{
	for (size_t i = 0; i < o->nmore_pids; i++) {
		struct err e;
		pid_t p;

		if (!parse_pid(o->more_pids[i], &p) || shown_pid(tp, p))
			continue;
		err_clear(&e);
		if (add_proc(tp, p, &e)) {
			report_error("%s", e.msg[0] ? e.msg :
				     err_describe(e.code));
			return -1;
		}
	}
	if (o->subprocesses)
		scan_children(tp);
	return 0;
}

/* The text screens' size: --size, else the terminal's, else 120x40. */
static void text_size(const struct top_opts *o, int *rows, int *cols)
{
	struct winsize ws;

	*rows = 40;
	*cols = 120;
	if (o->rows) {
		*rows = o->rows;
		*cols = o->cols;
	} else if (isatty(STDOUT_FILENO) &&
		   !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row &&
		   ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

int top_run(pid_t pid, const struct top_opts *o)
{
	struct top tp;
	struct err e;
	int rows, cols, rc;

	setlocale(LC_ALL, "");
	memset(&tp, 0, sizeof(tp));
	tp.o = o;
	tp.pid = pid;
	tp.clk_tck = sysconf(_SC_CLK_TCK);
	tp.many = o->subprocesses || o->nmore_pids;
	/* Allocated once: the samplers keep pointers into it. */
	tp.procs = xcalloc(tp.many ? TOP_MAX_PROCS : 1, sizeof(*tp.procs));
	err_clear(&e);
	rc = add_proc(&tp, pid, &e);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(e.code));
		free(tp.procs);
		return err_exit_code(e.code);
	}
	if (open_others(&tp, o)) {
		close_procs(&tp);
		return EXIT_USAGE;
	}
	tui_model_init(&tp.model);
	tui_view_init(&tp.view);
	tp.view.native_available = tp.view.native = o->native;
	tp.view.procs = tp.many;
	tui_view_set_refresh(&tp.view, o->refresh);
	strbuf_init(&tp.tasks_text);
	tp.source = session_source(tp.procs[0].is);
	text_size(o, &rows, &cols);
	tui_frame_init(&tp.frame, rows, cols, tui_term_utf8());
	catch_stop_signals();
	tp.start = clock_mono_ns();
	rc = o->iterations ? run_text(&tp) : run_tui(&tp);
	if (!o->iterations && tp.exited && tp.many)
		fprintf(stderr, "snakescope: the processes exited\n");
	else if (!o->iterations && tp.exited)
		fprintf(stderr, "snakescope: process %d exited\n", (int)pid);
	tui_frame_release(&tp.frame);
	tui_view_release(&tp.view);
	tui_model_release(&tp.model);
	sample_release(&tp.sample);
	sample_names_release(&tp.names);
	snap_free(tp.snap);
	free(tp.version);
	free(tp.task_lines);
	strbuf_release(&tp.tasks_text);
	source_free(tp.source);
	close_procs(&tp);
	return rc;
}

static int top_cb(pid_t pid, const void *arg)
{
	return top_run(pid, arg);
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o;
	int sep = program_sep(argc, argv);
	pid_t pid;
	int rc = top_parse(sep, argv, &o, &pid, sep == argc);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (sep == argc)
		return top_run(pid, &o);
	/* The view ends the program it started; on the terminal it is the
	 * view's alone. */
	return run_program("top", argv + sep + 1, argc - sep - 1, top_cb, &o,
			   RUN_END_PROGRAM |
			   (o.iterations ? 0 : RUN_QUIET_PROGRAM));
}
