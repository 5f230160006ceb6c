#include <config.h>

#include "attach/privs.h"
#include "cli/commands.h"
#include "cli/dump.h"
#include "cli/inspect.h"
#include "cli/record.h"
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
	"                                    (default 1)\n";

/*
 * Fork and exec argv.  A close-on-exec pipe tells when the exec happened
 * (EOF) or why it failed (the child writes errno).  Returns the child's
 * pid, or -1 after reporting.
 */
static pid_t start_program(char **argv)
{
	int fds[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		report_error("run: cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		report_error("run: cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		/* The program gets default signal dispositions, not ours. */
		signal(SIGPIPE, SIG_DFL);
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
		report_error("run: cannot run '%s': %s", argv[0], strerror(err));
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

/*
 * Wait until pid shows a Python runtime: 0.  Else the exit status to
 * report after reporting why (the program may not be inspected: 4), or
 * -1 when it exits first or never shows one (reported).
 */
static int wait_for_python(pid_t pid, const char *prog)
{
	unsigned refused = 0;
	struct err e;

	for (unsigned waited = 0; waited < FIND_PYTHON_MS; waited += POLL_MS) {
		struct inspect_session *is;
		int rc;

		if (!running(pid))
			return -1;
		err_clear(&e);
		rc = inspect_open(pid, &is, &e);
		if (!rc) {
			inspect_close(is);
			return 0;
		}
		refused = rc == SS_EPERM ? refused + POLL_MS : 0;
		if (refused >= REFUSED_MS) {
			report_error("%s", e.msg);
			return err_exit_code(rc);
		}
		clock_sleep_ms(POLL_MS);
	}
	report_error("run: '%s' (process %d) shows no Python runtime: %s",
		     prog, (int)pid, e.msg[0] ? e.msg : err_describe(e.code));
	return -1;
}

static int dump_once(pid_t pid, const struct dump_opts *d, double delay)
{
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
	rc = inspect_take(pid, &d->io, &snap, &e);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	strbuf_init(&sb);
	dump_render(&sb, snap, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), d);
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
	};
	struct option longopts[DUMP_LONGOPTS_MAX];
	int c, rc;

	dump_longopts_after(longopts, own, 1);
	dump_opts_init(d);
	*delay = 1;
	optind = 1;
	opterr = 0;
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

int cmd_run(int argc, char **argv)
{
	struct record_opts ro;
	struct watch_opts wo;
	struct dump_opts d;
	const char *mode;
	double delay = 1;
	int sep, rc, status, result = 0;
	pid_t pid;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(run_usage, stdout);
		return 0;
	}
	for (sep = 1; sep < argc && strcmp(argv[sep], "--"); sep++)
		;
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
		rc = parse_dump(sep - 1, argv + 1, &d, &delay);
	else {
		report_error("run: the mode is record, watch or dump, not '%s'",
			     mode);
		return EXIT_USAGE;
	}
	if (rc)
		return rc < 0 ? 0 : rc;

	pid = start_program(argv + sep + 1);
	if (pid < 0)
		return 127;
	privs_drop();
	/* Ctrl-C reaches the program too (same process group); snakescope
	 * finishes its output and waits for the program. */
	rc = wait_for_python(pid, argv[sep + 1]);
	if (rc > 0)
		result = rc;
	else if (rc == 0) {
		if (!strcmp(mode, "record"))
			result = record_run(pid, &ro);
		else if (!strcmp(mode, "watch"))
			result = watch_run(pid, &wo);
		else
			result = dump_once(pid, &d, delay);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			report_error("run: cannot wait for process %d: %s",
				     (int)pid, strerror(errno));
			return result ? result : 1;
		}
	}
	/* Refused for good: that is the outcome, said once (the program
	 * ran on as it would have without us). */
	if (result == err_exit_code(SS_EPERM))
		return result;
	if (result)
		report_warning("run: inspecting the program failed (status %d)",
			       result);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
