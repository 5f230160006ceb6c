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

static const char top_usage[] =
	"usage: snakescope top [options] PID\n"
	"       snakescope top [options] -p PID\n"
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
	"  -r, --rate HZ        samples per second (default 100)\n"
	"  -i, --refresh S      redraw every S seconds (default 1; + and -\n"
	"                       change it)\n"
	"  --idle               also count the stacks of threads that are not\n"
	"                       running (by default a thread counts when it\n"
	"                       holds the GIL or is on a CPU)\n"
	"  --pause              exact stacks: each thread sampled is stopped\n"
	"                       alone while its stack is read, the others\n"
	"                       run on; by default nothing is stopped\n"
	"  --nonblocking        the default, said explicitly: never stop a\n"
	"                       thread (refused with --pause)\n"
	"  --once               no terminal UI: sample for one refresh, print\n"
	"                       the screen as text and exit\n"
	"  --iterations N       the same, N screens, one per refresh\n"
	"  --size COLSxROWS     the text screens' size (default: the\n"
	"                       terminal's, else 120x40)\n"
	"  --no-color           no colours (also when NO_COLOR is set)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Pausing the view (space) stops the sampling too: nothing is read\n"
	"from the process until it is resumed.\n";

struct top {
	const struct top_opts *o;
	pid_t pid;
	struct session *is;    /* samples, and snapshots, each with caches of
				  its own */
	struct sample sample;
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
	struct top *tp = arg;
	char state = 0;
	bool active = t->holds_gil;

	if (!active && t->native_id > 0) {
		state = session_thread_state(tp->is, (pid_t)t->native_id);
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

static void sample_once(struct top *tp, uint64_t now)
{
	struct err e;
	int rc;

	err_clear(&e);
	tui_model_begin(&tp->model);
	/* --pause: each thread read is stopped alone, never the process */
	rc = tp->o->pause ?
	     session_nonstop_sample(tp->is, now, &tp->sample, NULL, &e) :
	     session_sample(tp->is, false, now, &tp->sample, &e);
	if (rc) {
		if (rc == SS_EEXITED || session_gone(tp->is))
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
		uint64_t ticks;
		char state;

		if (!t->alive || t->native_id <= 0)
			continue;
		if (!session_thread_cpu(tp->is, (pid_t)t->native_id, &state,
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
	struct snapshot *s = NULL;
	struct err e;

	if (tp->exited)
		return;
	err_clear(&e);
	io.pause = tp->o->pause || tp->view.locals;
	io.tasks = true;
	io.locals = tp->view.locals;
	if (session_snapshot(tp->is, &io, &s, &e)) {
		if (e.code == SS_EEXITED || session_gone(tp->is))
			target_exited(tp);
		return;
	}
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
	if (tui_model_prune(&tp->model, &keep) && tp->view.drilled)
		tp->view.drill_code = keep;

	info.pid = tp->pid;
	info.version = tp->version;
	info.elapsed = secs;
	info.rate = secs > 0 ? (double)tp->model.rounds / secs : 0;
	info.secs_per_sample = tp->model.rounds ?
			       secs / (double)tp->model.rounds :
			       1 / tp->o->rate;
	info.note = tp->exited ? "process exited" :
		    tp->sample.threads_left_out ? "threads left out: a thread "
		    "list longer than its bound" : NULL;
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
		{ "nonblocking", no_argument, NULL, 'B' },
		{ "pid", required_argument, NULL, 'p' },
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
		case 'B':
			nonblocking = true;
			break;
		case 'p':
			pid_opt = optarg;
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
	if (nonblocking && o->pause) {
		report_error("top: --nonblocking (the default: the process runs "
			     "on) contradicts --pause, which stops it for each "
			     "sample");
		return EXIT_USAGE;
	}
	return take_pid_or_program("top", pid_opt, need_pid, argc, argv,
				   optind, pid);
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
	err_clear(&e);
	if (session_open(pid, &tp.is, &e) ||
	    (o->pause ?
	     session_nonstop_start(tp.is, keep_thread, &tp, false, &e) :
	     session_sampler_start(tp.is, keep_thread, &tp, &e))) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(e.code));
		session_close(tp.is);
		return err_exit_code(e.code);
	}
	tui_model_init(&tp.model);
	tui_view_init(&tp.view);
	tui_view_set_refresh(&tp.view, o->refresh);
	strbuf_init(&tp.tasks_text);
	tp.source = session_source(tp.is);
	text_size(o, &rows, &cols);
	tui_frame_init(&tp.frame, rows, cols, tui_term_utf8());
	catch_stop_signals();
	tp.start = clock_mono_ns();
	rc = o->iterations ? run_text(&tp) : run_tui(&tp);
	if (!o->iterations && tp.exited)
		fprintf(stderr, "snakescope: process %d exited\n", (int)pid);
	tui_frame_release(&tp.frame);
	tui_view_release(&tp.view);
	tui_model_release(&tp.model);
	sample_release(&tp.sample);
	snap_free(tp.snap);
	free(tp.version);
	free(tp.task_lines);
	strbuf_release(&tp.tasks_text);
	source_free(tp.source);
	session_close(tp.is);
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
