/*
 * commands.h - the subcommands.  Each takes argv after the command name
 * (argv[0] is the command) and returns the process exit status.
 */
#ifndef SNAKESCOPE_COMMANDS_H
#define SNAKESCOPE_COMMANDS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

/* Exit status for bad usage (also SS_EINVAL's). */
#define EXIT_USAGE 2
/* snakescope deadlock's findings (1-5 are the errors of every command) */
#define EXIT_DEADLOCK 6
#define EXIT_LIKELY_HANG 7

int cmd_dump(int argc, char **argv);
int cmd_deadlock(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* Parse a PID argument strictly (digits only, 1..INT_MAX). */
bool parse_pid(const char *s, pid_t *pid);

/*
 * The process a command works on, once its options are parsed: given by
 * -p/--pid (opt, NULL when absent) or as the one operand left in
 * argv[first .. argc), not both.  Returns 0 with *pid set, or EXIT_USAGE
 * after reporting (none given, both, more than one, malformed).
 */
int take_pid(const char *cmd, const char *opt, int argc, char **argv,
	     int first, pid_t *pid);

/*
 * The end of the parse of a command that takes a process or starts a
 * program (record, top): with need_pid, the PID as take_pid() takes it;
 * else (a program follows "--"), neither -p/--pid nor an operand may be
 * given.  Returns 0 or EXIT_USAGE after reporting.
 */
int take_pid_or_program(const char *cmd, const char *opt, bool need_pid,
			int argc, char **argv, int first, pid_t *pid);

/*
 * Where the program of 'COMMAND [options] -- PROGRAM [ARGS...]' starts:
 * the index of the first "--" in argv[1 .. argc) (argc when there is
 * none).  The options before it are parsed with argc = that index.
 */
int program_sep(int argc, char **argv);

/*
 * Reset getopt before a command parses its options.  optind = 0 (not 1)
 * makes glibc start afresh, also reading the new option string's '+'
 * prefix; the tests parse several commands in one process.
 */
static inline void getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/* A positive duration: "0.2", "0.2s", "500ms", "10s", "1m", "1h"
 * (seconds without a unit).  False when malformed. */
bool parse_seconds(const char *s, double *out);

/* The last of SIGINT, SIGTERM, SIGHUP caught (0: none) once
 * catch_stop_signals() has run; long-running commands stop at their next
 * step and finish their output. */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(void);

/* Report an error line "snakescope: msg" on stderr. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "snakescope: warning: ..." on stderr. */
void report_warning(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
