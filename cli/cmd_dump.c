#include <config.h>

#include "cli/commands.h"
#include "cli/dump.h"
#include "session/session.h"
#include "cli/out.h"
#include "session/source.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/strbuf.h"

#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char dump_usage[] =
	"usage: snakescope dump [options] PID [PID...]\n"
	"       snakescope dump [options] -p PID\n"
	"       snakescope dump [options] --subprocesses PID\n"
	"       snakescope dump [options] --core FILE [--exe PATH]\n"
	"                       [--sysroot DIR] [--lib-path DIR]...\n"
	"\n"
	"Print the diagnosis of process PID first: the deadlock verdict (see\n"
	"'snakescope deadlock --help') and one line per thread, or per group\n"
	"of threads with one stack (who, state, what it waits for and who\n"
	"holds that, where); then the Python stack of every thread, its\n"
	"asyncio tasks: each task's coroutine stack, what it waits for, who\n"
	"awaits it (as a tree), and any await cycle (an async deadlock);\n"
	"then the locks held and waited for.\n"
	"\n"
	"  -p, --pid PID  the process to read (the same as the operand PID)\n"
	"  --subprocesses  PID and its Python descendants (a multiprocessing\n"
	"               pool, a gunicorn master's workers), each read in turn\n"
	"  --json       print one JSON document instead of text\n"
	"  --no-pause, --nonblocking\n"
	"               read without stopping the process (faster for the\n"
	"               target, but the stacks may be slightly inconsistent)\n"
	"  --tasks=MODE asyncio tasks as a 'tree' (default), a 'table' (one\n"
	"               line per task) or 'none' (not read)\n"
	"  --locals     every frame's arguments and local variables, with\n"
	"               a bounded repr read from memory\n"
	"  --repr-width=N  cut each repr at N characters (default 100)\n"
	"  --full       show importlib's frames instead of folding them\n"
	"               into one \"importing 'module'\" line\n"
	"  --no-source  do not print source lines under the frames\n"
	"  --no-group   print every thread's stack; by default threads\n"
	"               whose stacks are the same (frames, lines, kind of\n"
	"               state, lock waited for) are one group: the stack\n"
	"               once, then the members' names and TIDs; and with\n"
	"               several processes, every process in full\n"
	"  --no-summary  no diagnosis first: the stacks, tasks and locks,\n"
	"               then the verdict last\n"
	"  --window T   when a thread holds the GIL while others wait for\n"
	"               it, look again for T (default 200ms) to tell if it\n"
	"               holds it inside a C call (a gil_held likely hang)\n"
	"  --native     each thread's whole stack: its C frames (libraries,\n"
	"               extension modules, the interpreter) with the Python\n"
	"               frames in place of the evaluation loop's, and the\n"
	"               threads that never ran Python; needs the pause\n"
	"  --native-all the same, keeping the interpreter's own C frames\n"
	"  --core FILE  read a core file (gcore, the kernel's, systemd-\n"
	"               coredump's; plain or .zst, .lz4, .xz, .gz) instead\n"
	"               of a process: the files it had mapped are read from\n"
	"               this machine, or as the next options say, and only\n"
	"               when their build-id is the core's\n"
	"  --exe PATH   the core's executable, when its own path does not\n"
	"               lead to it\n"
	"  --sysroot DIR  look for every file under DIR, a copy of the\n"
	"               root of the machine the core came from\n"
	"  --lib-path DIR  look in DIR for files by name and by build-id\n"
	"               (repeatable)\n"
	"  -h, --help   show this help\n"
	"\n"
	"Several processes (PIDs, or --subprocesses): a summary first, the\n"
	"processes alike (the same stacks in their threads, IDs and\n"
	"addresses aside) as one line and one dump, each that differs\n"
	"named with the frame where it does (\"1 process differs: PID 4107,\n"
	"in stuck_task at app.py:12\"); one that cannot be read is reported\n"
	"in its place.  Exit status 0 when at least one was read.\n"
	"\n"
	"By default every thread is paused with ptrace for the read (well\n"
	"under a millisecond for small processes) and resumed before any\n"
	"output; several processes are paused one at a time.  Colour is\n"
	"used on a terminal unless NO_COLOR is set.\n";

static const char deadlock_usage[] =
	"usage: snakescope deadlock [--json] [--no-pause] [--no-group]\n"
	"                           [--no-summary] [--native] [--window T]\n"
	"                           PID [PID...]\n"
	"       snakescope deadlock [options] -p PID\n"
	"       snakescope deadlock [options] --subprocesses PID\n"
	"       snakescope deadlock [--json] --core FILE [--exe PATH]\n"
	"                           [--sysroot DIR] [--lib-path DIR]...\n"
	"\n"
	"Print the verdict of process PID: a deadlock (threads or tasks\n"
	"waiting for each other in a cycle, threads waiting in\n"
	"Future.result() for work only they could run, or processes\n"
	"waiting for each other: a child to exit, a pipe's or a local TCP\n"
	"connection's other end), a likely hang (waiting behind an Event,\n"
	"Condition, ... that nothing will end, or behind other processes\n"
	"waiting for each other, an asyncio loop blocked in a task's\n"
	"synchronous code with its timers more than 1 s overdue, or a\n"
	"thread holding the GIL inside a C call - a regex, an extension -\n"
	"through --window while others wait for it), or none; then one\n"
	"line per thread, or per group of threads with one stack (who,\n"
	"state, what it waits for, who holds that, where); then every lock\n"
	"held or waited for (threading's Lock, RLock, Condition, Semaphore,\n"
	"Event, Barrier, queue.Queue, thread joins, import locks, asyncio's\n"
	"Lock, Semaphore, Condition, Event, Queue), its holder and where it\n"
	"was taken, its waiters and where they wait.\n"
	"\n"
	"  -p, --pid PID  the process to read (the same as the operand PID)\n"
	"  --subprocesses  PID and its Python descendants, a verdict each\n"
	"  --json       print the dump's JSON document (see README.md)\n"
	"  --no-pause, --nonblocking\n"
	"               read without stopping the process\n"
	"  --no-group   name every waiting thread; by default threads whose\n"
	"               stacks are the same are named as one group\n"
	"  --no-summary  no verdict and thread lines first: the locks, then\n"
	"               the verdict last\n"
	"  --native     the C function a thread holding the GIL runs\n"
	"  --window T   how long to watch a thread that holds the GIL while\n"
	"               others wait for it (default 200ms; see above)\n"
	"  --core FILE, --exe PATH, --sysroot DIR, --lib-path DIR\n"
	"               read a core file (see 'snakescope dump --help')\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status: 0 no deadlock, 6 a deadlock, 7 a likely hang (no\n"
	"deadlock); 1-5 as for every command (see README.md).  Several\n"
	"processes: the worst verdict of those read (a process that cannot\n"
	"be read is reported in its place; 1-5 only when none was read).\n";

static unsigned env_hold_ms(void)
{
	const char *v = getenv("SNAKESCOPE_TEST_HOLD_PAUSE_MS");

	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

const struct option dump_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "no-pause", no_argument, NULL, 'P' },
	{ "nonblocking", no_argument, NULL, 'P' }, /* py-spy's name */
	{ "tasks", required_argument, NULL, 'T' },
	{ "locals", no_argument, NULL, 'l' },
	{ "repr-width", required_argument, NULL, 'W' },
	{ "full", no_argument, NULL, 'F' },
	{ "no-source", no_argument, NULL, 'S' },
	{ "no-group", no_argument, NULL, 'G' },
	{ "native", no_argument, NULL, 'N' },
	{ "native-all", no_argument, NULL, 'A' },
	{ "no-summary", no_argument, NULL, 'U' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void dump_longopts_after(struct option *out, const struct option *own,
			 size_t nown)
{
	size_t k = 0;

	for (size_t i = 0; i < nown; i++)
		out[k++] = own[i];
	for (size_t i = 0; dump_longopts[i].name; i++)
		out[k++] = dump_longopts[i];
	assert(k < DUMP_LONGOPTS_MAX);
	memset(&out[k], 0, sizeof(out[k]));
}

void dump_opts_init(struct dump_opts *d)
{
	memset(d, 0, sizeof(*d));
	d->io.pause = true;
	d->io.tasks = true;
	d->io.locks = true;
	d->source = true;
	d->oo.group = true;
	d->oo.summary = true;
	d->window = DUMP_WINDOW_DEFAULT;
}

int dump_opt(struct dump_opts *d, int c, const char *arg, const char *cmd)
{
	char *end;

	switch (c) {
	case 'j':
		d->json = true;
		return 0;
	case 'P':
		d->io.pause = false;
		return 0;
	case 'T':
		if (!strcmp(arg, "tree"))
			d->oo.tasks = OUT_TASKS_TREE;
		else if (!strcmp(arg, "table"))
			d->oo.tasks = OUT_TASKS_TABLE;
		else if (!strcmp(arg, "none"))
			d->oo.tasks = OUT_TASKS_NONE;
		else {
			report_error("%s: --tasks takes tree, table or none, "
				     "not '%s'", cmd, arg);
			return EXIT_USAGE;
		}
		d->io.tasks = d->oo.tasks != OUT_TASKS_NONE;
		return 0;
	case 'l':
		d->io.locals = true;
		return 0;
	case 'W':
		d->io.repr_width = strtoul(arg, &end, 10);
		if (*end || d->io.repr_width < SESSION_REPR_WIDTH_MIN ||
		    d->io.repr_width > SESSION_REPR_WIDTH_MAX) {
			report_error("%s: --repr-width takes a number from %d "
				     "to %d, not '%s'", cmd, SESSION_REPR_WIDTH_MIN,
				     SESSION_REPR_WIDTH_MAX, arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'F':
		d->oo.full = true;
		return 0;
	case 'S':
		d->source = false;
		return 0;
	case 'G':
		d->oo.group = false;
		return 0;
	case 'U':
		d->oo.summary = false;
		return 0;
	case 'A':
		d->oo.native_all = true;
		/* fall through */
	case 'N':
		d->io.native = true;
		return 0;
	default:
		return -1;
	}
}

int dump_opts_check(const struct dump_opts *d, const char *cmd)
{
	if (d->io.native && !d->io.pause) {
		report_error("%s: --native needs the process paused (its "
			     "threads' registers are read with ptrace); drop "
			     "--no-pause", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

void dump_render(struct strbuf *sb, struct session *s,
		 const struct snapshot *snap, bool color,
		 const struct dump_opts *d)
{
	struct out_opts oo = d->oo;

	oo.color = color;
	/* Locals differ between threads whose stacks are the same. */
	oo.group = d->oo.group && !d->io.locals;
	if (d->json) {
		out_json_dump(sb, snap, d->io.locals, d->oo.native_all);
	} else {
		oo.source = d->source ? session_source(s) : NULL;
		out_text_dump(sb, snap, &oo);
		source_free(oo.source);
	}
}

int dump_window_opt(struct dump_opts *d, const char *arg, const char *cmd)
{
	if (!parse_seconds(arg, &d->window) || d->window > 10) {
		report_error("%s: --window takes a duration up to 10s (200ms, "
			     "1s), not '%s'", cmd, arg);
		return EXIT_USAGE;
	}
	return 0;
}

/* dump's and deadlock's own options, past every letter of dump_longopts */
enum { OPT_CORE = 256, OPT_EXE, OPT_SYSROOT, OPT_LIB_PATH, OPT_SUBPROCESSES,
       OPT_WINDOW };

int dump_parse(int argc, char **argv, bool deadlock, struct dump_opts *d,
	       pid_t *pid)
{
	static const struct option own[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "core", required_argument, NULL, OPT_CORE },
		{ "exe", required_argument, NULL, OPT_EXE },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "lib-path", required_argument, NULL, OPT_LIB_PATH },
		{ "subprocesses", no_argument, NULL, OPT_SUBPROCESSES },
		{ "window", required_argument, NULL, OPT_WINDOW },
	};
	const char *cmd = deadlock ? "deadlock" : "dump";
	struct option longopts[DUMP_LONGOPTS_MAX];
	const char *pid_opt = NULL;
	int c, rc;

	dump_longopts_after(longopts, own, sizeof(own) / sizeof(own[0]));
	dump_opts_init(d);
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+hp:", longopts, NULL)) != -1) {
		if (deadlock && c < OPT_CORE && !strchr("jPhNApGU", c))
			c = '?';
		if (c == 'h') {
			fputs(deadlock ? deadlock_usage : dump_usage, stdout);
			return -1;
		}
		if (c == 'p') {
			pid_opt = optarg;
			continue;
		}
		if (c == OPT_SUBPROCESSES) {
			d->subprocesses = true;
			continue;
		}
		if (c == OPT_WINDOW) {
			if (dump_window_opt(d, optarg, cmd))
				return EXIT_USAGE;
			continue;
		}
		if (c == OPT_CORE || c == OPT_EXE || c == OPT_SYSROOT) {
			*(c == OPT_CORE ? &d->core : c == OPT_EXE ?
			  &d->copts.exe : &d->copts.sysroot) = optarg;
			continue;
		}
		if (c == OPT_LIB_PATH) {
			if (d->copts.nlib_paths == DUMP_MAX_LIB_PATHS) {
				report_error("%s: at most %d --lib-path", cmd,
					     DUMP_MAX_LIB_PATHS);
				return EXIT_USAGE;
			}
			d->lib_paths[d->copts.nlib_paths++] = optarg;
			continue;
		}
		rc = dump_opt(d, c, optarg, cmd);
		if (rc > 0)
			return rc;
		if (rc < 0) {
			report_error("%s: unknown option '%s'; see "
				     "'snakescope %s --help'", cmd,
				     argv[optind - 1], cmd);
			return EXIT_USAGE;
		}
	}
	d->copts.lib_paths = d->lib_paths;
	rc = dump_opts_check(d, cmd);
	if (rc)
		return rc;
	if (!d->core && (d->copts.exe || d->copts.sysroot ||
			 d->copts.nlib_paths)) {
		report_error("%s: --exe, --sysroot and --lib-path go with "
			     "--core FILE", cmd);
		return EXIT_USAGE;
	}
	if (d->core && d->subprocesses) {
		report_error("%s: --subprocesses reads processes, not a core "
			     "file", cmd);
		return EXIT_USAGE;
	}
	if (d->core) {
		if (pid_opt || optind < argc) {
			report_error("%s: --core reads a file, not a process: "
				     "give no PID", cmd);
			return EXIT_USAGE;
		}
		*pid = 0;
		return 0;
	}
	if (!pid_opt && optind + 1 < argc) {
		/* Several processes, each operand a PID. */
		if (d->subprocesses) {
			report_error("%s: --subprocesses takes one PID, the "
				     "parent, not '%s' too", cmd,
				     argv[optind + 1]);
			return EXIT_USAGE;
		}
		for (int i = optind; i < argc; i++)
			if (!parse_pid(argv[i], pid)) {
				report_error("%s: '%s' is not a process ID (a "
					     "positive number)", cmd, argv[i]);
				return EXIT_USAGE;
			}
		d->more_pids = &argv[optind + 1];
		d->nmore_pids = (size_t)(argc - optind - 1);
		parse_pid(argv[optind], pid);
		return 0;
	}
	return take_pid(cmd, pid_opt, argc, argv, optind, pid);
}

void deadlock_render(struct strbuf *sb, const struct snapshot *snap,
		     bool color, const struct dump_opts *d)
{
	struct out_opts oo = d->oo;

	oo.color = color;
	strbuf_addf(sb, "Process %d: Python %s, %zu thread%s, %zu task%s\n",
		    (int)snap->pid, snap->version, snap->nthreads,
		    snap->nthreads == 1 ? "" : "s", snap->ntasks,
		    snap->ntasks == 1 ? "" : "s");
	out_text_threads_note(sb, snap, &oo);
	if (oo.summary)
		out_text_summary(sb, snap, &oo);
	out_text_locks(sb, snap, &oo);
}

int deadlock_exit(int verdict)
{
	if (verdict == SNAP_VERDICT_NONE)
		return 0;
	return verdict == SNAP_VERDICT_DEADLOCK ? EXIT_DEADLOCK :
	       EXIT_LIKELY_HANG;
}

/*
 * A thread holds the GIL at a Python frame while others wait for it:
 * look again DUMP_WINDOW_LOOKS times over d->window seconds (the
 * threads only, as paused as the first read) and find the holders that
 * never let go (snap_find_gil_held).  A look that fails ends the watch
 * with no verdict: the process may be exiting.
 */
void dump_gil_window(struct session *s, struct snapshot *snap,
		     const struct dump_opts *d)
{
	struct session_opts io = { 0 };
	struct snapshot *looks[DUMP_WINDOW_LOOKS];
	uint64_t t0 = clock_mono_ns(), step;
	size_t n = 0;
	struct err e;

	if (d->core || d->window <= 0 || !snap_gil_contended(snap))
		return;
	io.pause = d->io.pause;
	/* Paused, the registers tell a futex wait on the GIL for sure (a
	 * timed wait that the pause interrupts is not seen in /proc). */
	io.native = d->io.pause;
	step = (uint64_t)(d->window * 1e9 / DUMP_WINDOW_LOOKS);
	for (; n < DUMP_WINDOW_LOOKS; n++) {
		err_clear(&e);
		if (clock_sleep_until_ns(t0 + step * (n + 1)) ||
		    session_snapshot(s, &io, &looks[n], &e))
			break;
	}
	if (n == DUMP_WINDOW_LOOKS)
		snap_find_gil_held(snap, (const struct snapshot *const *)looks,
				   n, (double)(clock_mono_ns() - t0) / 1e9);
	for (size_t i = 0; i < n; i++)
		snap_free(looks[i]);
}

/* dump and deadlock: the same read, the whole or only the locks. */
static int dump_or_deadlock(int argc, char **argv, bool deadlock)
{
	struct dump_opts d;
	struct session *s = NULL;
	struct snapshot *snap;
	struct strbuf sb;
	struct err e;
	bool color;
	pid_t pid;
	int rc, verdict;

	rc = dump_parse(argc, argv, deadlock, &d, &pid);
	if (rc)
		return rc < 0 ? 0 : rc;
	d.io.hold_ms = env_hold_ms();
	if (d.subprocesses || d.nmore_pids)
		return dump_many(&d, pid, deadlock);
	err_clear(&e);
	rc = d.core ? session_open_core(d.core, &d.copts, &s, &e) :
		      session_open(pid, &s, &e);
	if (!rc)
		rc = session_snapshot(s, &d.io, &snap, &e);
	if (rc) {
		session_close(s);
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	if (snap->warning)
		report_warning("%s", snap->warning);
	dump_gil_window(s, snap, &d);
	color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	strbuf_init(&sb);
	if (deadlock && !d.json) {
		deadlock_render(&sb, snap, color, &d);
	} else {
		dump_render(&sb, s, snap, color, &d);
	}
	session_close(s);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	verdict = snap_verdict(snap);
	snap_free(snap);
	if (fflush(stdout) != 0) {
		report_error("cannot write output");
		return 1;
	}
	return deadlock ? deadlock_exit(verdict) : 0;
}

int cmd_dump(int argc, char **argv)
{
	return dump_or_deadlock(argc, argv, false);
}

int cmd_deadlock(int argc, char **argv)
{
	return dump_or_deadlock(argc, argv, true);
}
