/*
 * commands.h - the subcommands.  Each takes argv after the command name
 * (argv[0] is the command) and returns the process exit status.
 */
#ifndef SNAKESCOPE_COMMANDS_H
#define SNAKESCOPE_COMMANDS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

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

/* Parse a PID argument strictly (digits only, 1..INT_MAX). */
bool parse_pid(const char *s, pid_t *pid);

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
