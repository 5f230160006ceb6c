/*
 * watch.h - 'snakescope watch': a full dump every interval, each headed by
 * a timestamp, until stopped or the target exits.  Shared with
 * 'snakescope run watch'.
 */
#ifndef SNAKESCOPE_WATCH_H
#define SNAKESCOPE_WATCH_H

#include <sys/types.h>

#include "cli/dump.h"

struct watch_opts {
	struct dump_opts d;
	double every;        /* seconds between dumps */
	unsigned long count; /* stop after this many dumps; 0: never */
	const char *output;  /* append to this file; NULL: stdout */
};

/* Parse watch's options (argv[0] is the command name); with need_pid one
 * PID operand must follow.  Returns 0, EXIT_USAGE after reporting, or -1
 * when --help was printed. */
int watch_parse(int argc, char **argv, struct watch_opts *o, pid_t *pid,
		bool need_pid);

/* Watch pid; returns the exit status (0 also when the target exited). */
int watch_run(pid_t pid, const struct watch_opts *o);

#endif
