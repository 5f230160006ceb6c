/*
 * record.h - 'snakescope record': sample a process (and its Python
 * children) and write folded stacks, speedscope, JSON lines, pprof or a
 * Chrome trace.  Shared
 * with 'snakescope run record'.
 */
#ifndef SNAKESCOPE_RECORD_H
#define SNAKESCOPE_RECORD_H

#include <stdbool.h>
#include <sys/types.h>

enum record_format {
	RECORD_FOLDED = 0,
	RECORD_SPEEDSCOPE,
	RECORD_JSON,
	RECORD_PPROF,
	RECORD_CHROMETRACE,
};

struct record_opts {
	const char *output;  /* file, "-" for stdout */
	double rate;         /* samples per second; 0: as fast as possible */
	double duration;     /* seconds; 0: until stopped */
	int format;          /* enum record_format */
	bool threads, idle, gil, pause, subprocesses;
	bool native;         /* whole stacks, C frames too (implies pause) */
	bool native_all;     /* ... keeping the interpreter's own C frames */
	bool progress;       /* a progress line when stderr is a terminal */
	/* how frames are labelled: --full-filenames, --function, --nolineno */
	bool full_filenames, function, nolineno;
};

/*
 * Parse record's options (argv[0] is the command name).  With need_pid,
 * one PID operand must follow.  Returns 0, EXIT_USAGE after reporting, or
 * -1 when --help was printed.
 */
int record_parse(int argc, char **argv, struct record_opts *o, pid_t *pid,
		 bool need_pid);

/* Record pid until the duration ends, a stop signal or its exit; write
 * the file in every case.  Returns the exit status. */
int record_run(pid_t pid, const struct record_opts *o);

#endif
