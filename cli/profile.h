/*
 * profile.h - samples aggregated for the record writers: each distinct
 * frame (function, file, line) and each distinct stack once, with counts;
 * for speedscope also each thread's stacks in time order, run-length
 * encoded.  Only formats what the sampler gave; never reads memory.
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

struct prof_frame {
	char *function, *filename; /* copied */
	int line;
	enum prof_kind kind;
};

struct prof_thread {
	pid_t pid;
	uint64_t thread_id;
	int64_t native_id;
	char *name;            /* threading's name, or NULL */
	unsigned long samples;
	/* time order (speedscope): stack ids and how many samples in a row */
	uint32_t *run_stack;
	uint32_t *run_count;
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

#endif
