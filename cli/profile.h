/*
 * profile.h - samples aggregated for the record writers: each distinct
 * frame (function, file, line) and each distinct stack once, with counts;
 * for speedscope and Chrome traces also each thread's stacks in time
 * order, run-length encoded.  Only formats what the sampler gave; never
 * reads memory.  The writers of pprof and Chrome traces are in
 * out_pprof.c and out_chrometrace.c.
 */
#ifndef SNAKESCOPE_PROFILE_H
#define SNAKESCOPE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "model/sample.h"

/* What runs in a frame (the flame graph colours by it). */
enum prof_kind {
	PROF_PYTHON = 0,
	PROF_NATIVE,   /* a C frame (record --native) */
	PROF_INTERNAL, /* the interpreter's own C code (--native-all) */
};

/* How frames are labelled, in every record format (py-spy's options). */
struct prof_labels {
	bool full_filenames; /* else short under a sys.path-like directory */
	bool function;       /* one frame per function, at its first line */
	bool nolineno;       /* no line numbers at all */
};

/* The file name a frame shows: with full_filenames, or for a C frame
 * (native: its library), filename itself; else the part of it after the
 * last sys.path-like directory in it (.../lib/pythonX.Y/, site-packages/,
 * dist-packages/), as py-spy shows it: "threading.py", "requests/api.py".
 * Returns a pointer into filename. */
const char *prof_label_file(const struct prof_labels *l, const char *filename,
			    bool native);

/* The line a frame shows: -1 with nolineno (or when unknown), the
 * function's first line with function (-1 when unknown), else its own. */
int prof_label_line(const struct prof_labels *l, const struct sample_frame *f);

struct prof_frame {
	char *function, *filename; /* copied, as labelled */
	int line;
	enum prof_kind kind;
	int first_line;        /* the function's first line, -1: unknown */
	bool native;           /* a C frame or a marker of snakescope's */
};

struct prof_thread {
	pid_t pid;
	uint64_t thread_id;
	int64_t native_id;
	char *name;            /* threading's name, or NULL */
	unsigned long samples;
	/* time order (speedscope, Chrome traces): stack ids, how many
	 * samples in a row, and when the first of them was taken (the
	 * profile's now_ns then) */
	uint32_t *run_stack;
	uint32_t *run_count;
	uint64_t *run_start;
	size_t nruns, runs_cap;
};

struct prof_stack {
	pid_t pid;
	uint32_t thread;       /* index in threads, UINT32_MAX: merged */
	uint32_t *frames;      /* outermost first */
	size_t nframes;
	unsigned long count;
	unsigned long idle;    /* of count: the thread was not running */
	uint32_t id;           /* index in stacks */
	struct prof_stack *next; /* hash chain */
	uint64_t hash;
};

struct profile {
	bool by_thread;   /* stacks of different threads kept apart */
	bool keep_order;  /* record each thread's time order */
	struct prof_labels labels; /* the caller's, before the first add */
	uint64_t now_ns;  /* the caller's clock for the next add (keep_order) */
	/* names of the processes (profile_set_process) */
	struct prof_process {
		pid_t pid;
		char *name;
	} *procs;
	size_t nprocs, procs_cap;
	struct prof_frame *frames;
	size_t nframes, frames_cap;
	struct prof_thread *threads;
	size_t nthreads, threads_cap;
	struct prof_stack **stacks; /* by id */
	size_t nstacks, stacks_cap;
	struct prof_stack **bucket; /* hash table of stacks */
	size_t nbuckets;
	/* (pid, code_key, line) -> frame index, open addressing (code
	 * keys are never reused, so the triple names the frame) */
	struct prof_key {
		pid_t pid;
		uint32_t code_key;
		int32_t line;
		uint32_t idx; /* index + 1; 0: empty */
	} *fkeys;
	size_t fkeys_cap, fkeys_n;
	uint32_t *scratch;
	size_t scratch_cap;
	unsigned long samples;        /* profile_add() calls */
	unsigned long thread_samples; /* stacks added */
};

void profile_init(struct profile *pf, bool by_thread, bool keep_order);
void profile_release(struct profile *pf);

/* Add the threads of one sample of process pid (torn ones are the
 * caller's to leave out).  Strings are copied. */
void profile_add(struct profile *pf, pid_t pid, const struct sample *s);

/* Name process pid (its command line, say) for the writers that label
 * it (pprof); name is copied.  The last name given stands. */
void profile_set_process(struct profile *pf, pid_t pid, const char *name);

/* The name given to process pid, or NULL. */
const char *profile_process(const struct profile *pf, pid_t pid);

/* Label of a thread as written in every format: 'thread "NAME" (TID)'
 * (escaped for the format by the writer), with the pid when asked. */
void profile_thread_label(const struct prof_thread *t, bool with_pid,
			  char *buf, size_t size);

/*
 * Write Brendan Gregg's collapsed stacks: one line per distinct stack,
 * "root;...;leaf COUNT", frames as "function (file:line)".  The thread
 * (with by_thread) and the process (with_pid) are the first frames.
 * Returns 0, or -1 on a write error (errno set).
 */
int profile_write_folded(const struct profile *pf, bool with_pid, FILE *f);

/* With by_thread, the folded writer names the thread first (the
 * stacks of threads are kept apart for speedscope anyway). */

/*
 * Write a self-contained interactive flame graph (SVG with its script,
 * cli/out_flame.c): root at the top, boxes as wide as their samples,
 * each with a <title> 'FRAME (N samples, P%)' (P of all the stacks
 * sampled: a sample of two running threads is two);
 * click zooms, a search highlights the matches and says their share.
 * One section per thread with by_thread, else per process with with_pid,
 * else one.  Colours by kind (Python, native, interpreter, idle: a box
 * whose samples were mostly taken while its thread did not run) and,
 * within a kind, by a hash of the function's name.  Boxes narrower than
 * FLAME_MIN_WIDTH pixels are left out (and counted in the picture).
 * Every string is escaped for XML.  Memory: the stacks' index and one
 * entry per level of the deepest stack.  Returns 0, or -1 on a write
 * error.
 */
#define FLAME_WIDTH 1200     /* pixels, the picture's width */
#define FLAME_MIN_WIDTH 0.1  /* pixels */
int profile_write_flamegraph(const struct profile *pf, bool with_pid,
			     const char *title, FILE *f);

/* A box's fill, "#rrggbb" into out: the kind's hues (greys when idle),
 * picked within them by a hash of function, so the same function has the
 * same colour in every box and every file. */
void flame_color(enum prof_kind kind, bool idle, const char *function,
		 char out[8]);

/*
 * Write a speedscope file (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile per thread in time order, weights in seconds
 * (each sample counts 'interval' seconds).  Needs keep_order.
 */
int profile_write_speedscope(const struct profile *pf, bool with_pid,
			     const char *name, double interval, FILE *f);

/* What a pprof file says besides the stacks. */
struct pprof_info {
	int64_t time_nanos;     /* the start, ns since the epoch */
	int64_t duration_nanos;
	int64_t period_nanos;   /* one sample's wall time */
	bool with_process;      /* a "process" label (record --subprocesses) */
};

/*
 * Write a gzipped pprof profile (github.com/google/pprof, proto/
 * profile.proto): sample types samples/count and wall/nanoseconds (count
 * x period), one location per distinct frame, functions by name, file
 * and first line, locations leaf first; labels thread_name, thread_id
 * (the TID, else threading's ident), pid and, with_process, process.
 * A stack without frames shows as "<no Python frames>".  Needs
 * by_thread.  Returns 0, or -1 on a write error (errno set) or a zlib
 * failure (errno EIO).
 */
int profile_write_pprof(const struct profile *pf, const struct pprof_info *info,
			FILE *f);

/*
 * Write Chrome's trace-event JSON (what Perfetto and chrome://tracing
 * open): a process_name and a thread_name event per thread, then each
 * thread's frames as begin/end ("B"/"E") pairs, a frame staying open
 * while consecutive samples keep it; a pause in a thread's samples (it
 * was not sampled: idle, say) longer than one interval closes them.
 * Times in whole microseconds from the start of the recording; each
 * sample lasts interval seconds.  Needs keep_order.
 */
int profile_write_chrometrace(const struct profile *pf, bool with_pid,
			      double interval, FILE *f);

#endif
