/*
 * top.h - 'snakescope top': a live view of a process, or its screens as
 * text (--once, --iterations).  Shared with 'snakescope run top'.
 */
#ifndef SNAKESCOPE_TOP_H
#define SNAKESCOPE_TOP_H

#include <stdbool.h>
#include <sys/types.h>

struct top_opts {
	double rate;
	double refresh;
	bool idle;
	bool pause;
	bool native;     /* C frames too: each thread read is stopped alone */
	bool native_all; /* ... the interpreter's own too */
	long iterations; /* 0: interactive */
	int rows, cols;  /* --size */
	bool color;
	/* Several processes: --subprocesses (the PID's descendants, found
	 * again as they come), and PIDs after the first (argv's, not
	 * copied). */
	bool subprocesses;
	char **more_pids;
	size_t nmore_pids;
};

/*
 * Parse top's options (argv[0] is the command name).  With need_pid the
 * process follows, as an operand or with -p/--pid; without, none may be
 * given (a program is started instead).  Returns 0, EXIT_USAGE after
 * reporting, or -1 when --help was printed.
 */
int top_parse(int argc, char **argv, struct top_opts *o, pid_t *pid,
	      bool need_pid);

/* Show pid (and, as o says, other processes) until quit (interactive)
 * or for o->iterations screens; returns the exit status. */
int top_run(pid_t pid, const struct top_opts *o);

#endif
