/*
 * run.h - start a program and inspect it while it runs: 'snakescope run
 * MODE ... -- PROGRAM', and 'record' and 'top' given '-- PROGRAM' instead
 * of a process ID.
 */
#ifndef SNAKESCOPE_RUN_H
#define SNAKESCOPE_RUN_H

#include <stdbool.h>
#include <sys/types.h>

/* Inspect the started program, process pid; returns an exit status. */
typedef int (*run_inspect_fn)(pid_t pid, const void *arg);

/* When the inspection ends first, end the program (SIGTERM, SIGKILL
 * after RUN_END_GRACE_MS) instead of waiting for it to exit. */
#define RUN_END_PROGRAM 1u
/* The program's stdin, stdout and stderr are /dev/null (a full-screen
 * view owns the terminal). */
#define RUN_QUIET_PROGRAM 2u

#define RUN_END_GRACE_MS 5000

/*
 * Start prog[0 .. nprog) (looked up in PATH), then drop our privileges
 * (privs_drop(): the program gets the caller's, so main() must not drop
 * them before), wait for the program's Python runtime to show and call
 * inspect(pid, arg).  Then wait for the program to exit, or with
 * RUN_END_PROGRAM end it.  cmd names the command in messages.
 *
 * Returns the exit status: the program's (128+N when signal N ended it);
 * with RUN_END_PROGRAM, when the program was still running, inspect's
 * status (0 after a normal end) or, when no Python runtime showed, the
 * status of that error (5: not Python); 127 when the program could not
 * be started, EXIT_USAGE (reported) when nprog is 0.
 */
int run_program(const char *cmd, char **prog, int nprog,
		run_inspect_fn inspect, const void *arg, unsigned flags);

/* Does 'snakescope CMD ARGS' (argv[0] is CMD) start a program: 'run',
 * or 'record' or 'top' with a "--"?  main() keeps its privileges then,
 * for the program (see run_program). */
bool run_starts_program(int argc, char **argv);

#endif
