/*
 * watch.h - 'snakescope watch': a full dump every interval, each headed by
 * a timestamp, until stopped or the target exits; or, with --on-stall, a
 * dump only when the process stops making progress (cli/stall.h).
 * Shared with 'snakescope run watch'.
 */
#ifndef SNAKESCOPE_WATCH_H
#define SNAKESCOPE_WATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "cli/dump.h"

struct watch_opts {
	struct dump_opts d;
	double every;        /* seconds between dumps */
	unsigned long count; /* stop after this many dumps; 0: never */
	const char *output;  /* append to this file (--on-stall: write a
				file per dump, see watch --help); NULL:
				stdout */
	double on_stall;     /* > 0: dump when no stack moved for this
				long (seconds), instead of --every */
	unsigned rate;       /* --on-stall's samples a second */
	const char *exec;    /* --on-stall: run this after each dump */
};

/* --on-stall's default sampling rate (samples a second). */
#define WATCH_STALL_RATE 10
#define WATCH_STALL_RATE_MAX 1000

/* The file dump n of an --on-stall watch goes to: output with each "%n"
 * replaced by n; else output itself when count is 1; else output.N.
 * Into buf (size bytes, truncated). */
void watch_dump_path(char *buf, size_t size, const char *output,
		     unsigned long count, unsigned long n);

/* Parse watch's options (argv[0] is the command name); with need_pid one
 * PID operand must follow.  Returns 0, EXIT_USAGE after reporting, or -1
 * when --help was printed. */
int watch_parse(int argc, char **argv, struct watch_opts *o, pid_t *pid,
		bool need_pid);

/* Watch pid; returns the exit status (0 also when the target exited). */
int watch_run(pid_t pid, const struct watch_opts *o);

#endif
