#include <config.h>

#include "cli/commands.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void report_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("snakescope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void report_warning(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("snakescope: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

int take_pid(const char *cmd, const char *opt, int argc, char **argv,
	     int first, pid_t *pid)
{
	const char *arg = opt;

	if (opt && first < argc) {
		report_error("%s: give the process ID once: -p %s or %s, not "
			     "both", cmd, opt, argv[first]);
		return EXIT_USAGE;
	}
	if (!opt && first >= argc) {
		report_error("%s: missing process ID (PID or -p PID); see "
			     "'snakescope %s --help'", cmd, cmd);
		return EXIT_USAGE;
	}
	if (!opt && first + 1 < argc) {
		report_error("%s: too many arguments: '%s' after the process "
			     "ID; see 'snakescope %s --help'", cmd,
			     argv[first + 1], cmd);
		return EXIT_USAGE;
	}
	if (!opt)
		arg = argv[first];
	if (!parse_pid(arg, pid)) {
		report_error("%s: '%s' is not a process ID (a positive "
			     "number)", cmd, arg);
		return EXIT_USAGE;
	}
	return 0;
}

int program_sep(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		;
	return i;
}

bool parse_seconds(const char *s, double *out)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "m", 60 }, { "h", 3600 },
	};
	char *end;
	double v;

	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !(v > 0) || v > 1e9)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].unit)) {
			*out = v * units[i].scale;
			return true;
		}
	}
	return false;
}

volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

void catch_stop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	/* Restart waits (a pause in progress finishes); sleeps still end. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int take_pid_or_program(const char *cmd, const char *opt, bool need_pid,
			int argc, char **argv, int first, pid_t *pid)
{
	if (need_pid)
		return take_pid(cmd, opt, argc, argv, first, pid);
	if (opt) {
		report_error("%s: -p/--pid with a program to start: give one "
			     "or the other", cmd);
		return EXIT_USAGE;
	}
	if (first != argc) {
		report_error("%s: unexpected '%s' (the program to start "
			     "follows '--')", cmd, argv[first]);
		return EXIT_USAGE;
	}
	return 0;
}
