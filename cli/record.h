/*
 * record.h - 'snakescope record': sample a process (and its Python
 * children) and write folded stacks, a flame graph, speedscope, JSON
 * lines, pprof or a Chrome trace.  Shared with 'snakescope run record'.
 */
#ifndef SNAKESCOPE_RECORD_H
#define SNAKESCOPE_RECORD_H

#include <stdbool.h>
#include <sys/types.h>

enum record_format {
	RECORD_FOLDED = 0,
	RECORD_SPEEDSCOPE,
	RECORD_JSON,
	RECORD_FLAMEGRAPH,
	RECORD_PPROF,
	RECORD_CHROMETRACE,
};

struct record_opts {
	const char *output;  /* file, "-" for stdout */
	double rate;         /* samples per second; 0: as fast as possible */
	double duration;     /* seconds; 0: until stopped */
	int format;          /* enum record_format: --format's, else the
				file name's, else folded */
	bool threads, idle, gil, pause, subprocesses;
	bool native;         /* whole stacks, C frames too (implies pause) */
	bool native_all;     /* ... keeping the interpreter's own C frames */
	bool progress;       /* a progress line when stderr is a terminal */
	/* how frames are labelled: --full-filenames, --function, --nolineno */
	bool full_filenames, function, nolineno;
	/* --tasks: a stack running an asyncio task continued by the tasks
	 * awaiting it (model/task_stack.h) */
	bool tasks;
};

/* The format the ending of file name path asks for ('.svg': a flame
 * graph; cmd_record.c's table, case ignored), or -1 when it names none
 * (then record writes folded stacks). */
int record_format_of_name(const char *path);

/* May a file named path hold format: the format its name asks for, one
 * its name also fits (a speedscope file may be called .json), or any
 * when the name asks for none? */
bool record_format_fits_name(int format, const char *path);

/* The name of a format as --format takes it ("flamegraph"). */
const char *record_format_name(int format);

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
