#include <config.h>

#include "cli/commands.h"
#include "cli/dump.h"
#include "session/session.h"
#include "cli/record.h"
#include "cli/run.h"
#include "cli/top.h"
#include "cli/watch.h"
#include "common/clock.h"
#include "common/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a started program may take to show its Python runtime (a
 * shared libpython is mapped by the dynamic loader after exec). */
#define FIND_PYTHON_MS 10000
#define POLL_MS 10

static const char run_usage[] =
	"usage: snakescope run MODE [options] -- PROGRAM [ARGS...]\n"
	"\n"
	"Start PROGRAM (a Python interpreter, or a program embedding one) and\n"
	"inspect it until it exits; snakescope's exit status is the\n"
	"program's (128+N when a signal N ended it), or 4 when snakescope\n"
	"may not inspect it (another user's, or more privileged).\n"
	"\n"
	"Modes and their options (see 'snakescope MODE --help'):\n"
	"  record -o FILE [record options]   sample it from start to exit\n"
	"  watch --every T [watch options]   a timestamped dump every T\n"
	"  dump [--delay S] [dump options]   one dump after S seconds\n"
	"                                    (default 1)\n"
	"  top [top options]                 the live view; the program's\n"
	"                                    input and output go to /dev/null\n"
	"                                    while the view owns the terminal\n"
	"                                    (not with --once, --iterations);\n"
	"                                    when the view ends first, the\n"
	"                                    program is ended (SIGTERM) and\n"
	"                                    the status is 0\n"
	"\n"
	"  --delay S            (dump) seconds to wait before the dump\n"
	"  -h, --help           show this help\n"
	"\n"
	"'snakescope record -o FILE -- PROGRAM' and 'snakescope top --\n"
	"PROGRAM' are the same as 'run record' and 'run top'.\n";

/*
 * Fork and exec argv.  A close-on-exec pipe tells when the exec happened
 * (EOF) or why it failed (the child writes errno).  Returns the child's
 * pid, or -1 after reporting.
 */
static pid_t start_program(const char *cmd, char **argv, bool quiet)
{
	int fds[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		report_error("%s: cannot create a pipe: %s", cmd,
			     strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		report_error("%s: cannot fork: %s", cmd, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		/* The program gets default signal dispositions, not ours. */
		signal(SIGPIPE, SIG_DFL);
		if (quiet) {
			int fd = open("/dev/null", O_RDWR);

			if (fd >= 0) {
				dup2(fd, STDIN_FILENO);
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
				if (fd > STDERR_FILENO)
					close(fd);
			}
		}
		execvp(argv[0], argv);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	do
		n = read(fds[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		report_error("%s: cannot run '%s': %s", cmd, argv[0],
			     strerror(err));
		return -1;
	}
	return pid;
}

/* Is the child still running (not exited, not a zombie we hold)? */
static bool running(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	/* WNOWAIT: leave it to be reaped with its status at the end. */
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == 0;
}

/* A refusal lasting this long is for good: the program runs as another
 * user, or gained privileges (set-user-ID, file capabilities) we lack. */
#define REFUSED_MS 200

/* Wait until pid shows a Python runtime: 0 when it does, -1 when it
 * exits first, else the exit status of why not (reported): 4 when it may
 * not be inspected. */
static int wait_for_python(const char *cmd, pid_t pid, const char *prog)
{
	unsigned refused = 0;
	struct err e;

	err_clear(&e);
	for (unsigned waited = 0; waited < FIND_PYTHON_MS; waited += POLL_MS) {
		struct session *is;
		int rc;

		if (!running(pid))
			return -1;
		err_clear(&e);
		rc = session_open(pid, &is, &e);
		if (!rc) {
			session_close(is);
			return 0;
		}
		refused = rc == SS_EPERM ? refused + POLL_MS : 0;
		if (refused >= REFUSED_MS) {
			report_error("%s", e.msg);
			return err_exit_code(rc);
		}
		clock_sleep_ms(POLL_MS);
	}
	report_error("%s: '%s' (process %d) shows no Python runtime: %s",
		     cmd, prog, (int)pid, e.msg[0] ? e.msg :
		     err_describe(e.code));
	return e.code ? err_exit_code(e.code) : 1;
}

/* End the program we started: SIGTERM, then SIGKILL after the grace. */
static void end_program(pid_t pid)
{
	if (!running(pid))
		return;
	kill(pid, SIGTERM);
	for (unsigned waited = 0; waited < RUN_END_GRACE_MS && running(pid);
	     waited += POLL_MS)
		clock_sleep_ms(POLL_MS);
	if (running(pid))
		kill(pid, SIGKILL);
}

int run_program(const char *cmd, char **prog, int nprog,
		run_inspect_fn inspect, const void *arg, unsigned flags)
{
	int status, found, result = 0;
	bool ended = false;
	pid_t pid;

	if (nprog < 1) {
		report_error("%s: no program after '--'", cmd);
		return EXIT_USAGE;
	}
	pid = start_program(cmd, prog, flags & RUN_QUIET_PROGRAM);
	if (pid < 0)
		return 127;
	session_drop_privileges();
	/* Ctrl-C reaches the program too (same process group); snakescope
	 * finishes its output and waits for the program. */
	found = wait_for_python(cmd, pid, prog[0]);
	if (!found)
		result = inspect(pid, arg);
	else if (found > 0 && ((flags & RUN_END_PROGRAM) ||
			       found == err_exit_code(SS_EPERM)))
		result = found;
	if ((flags & RUN_END_PROGRAM) && running(pid)) {
		end_program(pid);
		ended = true;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			report_error("%s: cannot wait for process %d: %s", cmd,
				     (int)pid, strerror(errno));
			return result ? result : 1;
		}
	}
	/* Refused for good: that is the outcome, said once (the program
	 * ran on as it would have without us). */
	if (ended || result == err_exit_code(SS_EPERM))
		return result;
	if (result)
		report_warning("%s: inspecting the program failed (status %d)",
			       cmd, result);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool run_starts_program(int argc, char **argv)
{
	if (argc < 1)
		return false;
	if (!strcmp(argv[0], "run"))
		return true;
	return (!strcmp(argv[0], "record") || !strcmp(argv[0], "top")) &&
	       program_sep(argc, argv) < argc;
}

struct run_dump {
	struct dump_opts d;
	double delay;
};

static int dump_once(pid_t pid, const void *arg)
{
	const struct run_dump *rd = arg;
	const struct dump_opts *d = &rd->d;
	double delay = rd->delay;
	struct session *s = NULL;
	struct snapshot *snap;
	struct strbuf sb;
	struct err e;
	int rc;

	for (double t = 0; t < delay && running(pid); t += POLL_MS / 1000.0)
		clock_sleep_ms(POLL_MS);
	if (!running(pid)) {
		report_error("run: process %d exited before the dump", (int)pid);
		return 0;
	}
	err_clear(&e);
	rc = session_open(pid, &s, &e);
	if (!rc)
		rc = session_snapshot(s, &d->io, &snap, &e);
	if (rc) {
		session_close(s);
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	dump_gil_window(s, snap, d);
	strbuf_init(&sb);
	dump_render(&sb, s, snap, isatty(STDOUT_FILENO) &&
		    !getenv("NO_COLOR"), d);
	session_close(s);
	fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	strbuf_release(&sb);
	snap_free(snap);
	return 0;
}

static int parse_dump(int argc, char **argv, struct dump_opts *d,
		      double *delay)
{
	static const struct option own[] = {
		{ "delay", required_argument, NULL, 'D' },
		{ "window", required_argument, NULL, 'w' },
	};
	struct option longopts[DUMP_LONGOPTS_MAX];
	int c, rc;

	dump_longopts_after(longopts, own, sizeof(own) / sizeof(own[0]));
	dump_opts_init(d);
	*delay = 1;
	getopt_reset();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(run_usage, stdout);
			return -1;
		}
		if (c == 'D') {
			if (!parse_seconds(optarg, delay)) {
				report_error("run dump: --delay takes seconds, "
					     "not '%s'", optarg);
				return EXIT_USAGE;
			}
			continue;
		}
		if (c == 'w') {
			if (dump_window_opt(d, optarg, "run dump"))
				return EXIT_USAGE;
			continue;
		}
		rc = dump_opt(d, c, optarg, "run dump");
		if (rc)
			return rc > 0 ? rc :
			       (report_error("run dump: unknown option '%s'",
					     argv[optind - 1]), EXIT_USAGE);
	}
	if (optind != argc) {
		report_error("run dump: unexpected '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return dump_opts_check(d, "run dump");
}

static int record_cb(pid_t pid, const void *arg)
{
	return record_run(pid, arg);
}

static int watch_cb(pid_t pid, const void *arg)
{
	return watch_run(pid, arg);
}

static int top_cb(pid_t pid, const void *arg)
{
	return top_run(pid, arg);
}

int cmd_run(int argc, char **argv)
{
	struct record_opts ro;
	struct watch_opts wo;
	struct top_opts to;
	struct run_dump rd;
	const char *mode;
	int sep, rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(run_usage, stdout);
		return 0;
	}
	sep = program_sep(argc, argv);
	if (argc < 2 || sep >= argc - 1) {
		report_error("run: usage: snakescope run MODE [options] -- "
			     "PROGRAM [ARGS...]");
		return EXIT_USAGE;
	}
	mode = argv[1];
	/* The mode's parser sees "MODE options..." up to the "--". */
	if (!strcmp(mode, "record"))
		rc = record_parse(sep - 1, argv + 1, &ro, NULL, false);
	else if (!strcmp(mode, "watch"))
		rc = watch_parse(sep - 1, argv + 1, &wo, NULL, false);
	else if (!strcmp(mode, "dump"))
		rc = parse_dump(sep - 1, argv + 1, &rd.d, &rd.delay);
	else if (!strcmp(mode, "top"))
		rc = top_parse(sep - 1, argv + 1, &to, NULL, false);
	else {
		report_error("run: the mode is record, watch, dump or top, not "
			     "'%s'", mode);
		return EXIT_USAGE;
	}
	if (rc)
		return rc < 0 ? 0 : rc;

	argv += sep + 1;
	argc -= sep + 1;
	if (!strcmp(mode, "record"))
		return run_program("run", argv, argc, record_cb, &ro, 0);
	if (!strcmp(mode, "watch"))
		return run_program("run", argv, argc, watch_cb, &wo, 0);
	if (!strcmp(mode, "dump"))
		return run_program("run", argv, argc, dump_once, &rd, 0);
	return run_program("run", argv, argc, top_cb, &to, RUN_END_PROGRAM |
			   (to.iterations ? 0 : RUN_QUIET_PROGRAM));
}
