/*
 * sample.h - one sample of a target's stacks: which code objects, at which
 * lines, on which thread, as record and top count them.  Cheaper than a
 * snapshot (model/snapshot.h): strings are borrowed from whoever filled
 * the sample (pystructs/sampler.h, or a snapshot turned into a sample for
 * 'record --native'), and valid until it fills the next one.
 */
#ifndef SNAKESCOPE_MODEL_SAMPLE_H
#define SNAKESCOPE_MODEL_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sample_frame {
	/* Names one code object for the whole session: a code object
	 * decoded again (its address reused, or the cache dropped) gets a
	 * new key, so (code_key, line) identifies a frame's text. */
	uint32_t code_key;
	int32_t line;           /* -1 when the instruction has no line */
	int32_t first_line;     /* the code's co_firstlineno */
	/* Owned by whoever filled the sample (the sampler: until its next
	 * take). */
	const char *function;
	const char *filename;
	/* A C frame ('record --native' only): function is its symbol or
	 * "??", filename its library, line -1. */
	bool native;
	/* ... in the interpreter's own binary ('record --native-all'). */
	bool internal;
	/* The evaluation-loop activation that runs it, innermost 0 (as
	 * struct snap_frame's; set by the sampler, for a native merge). */
	unsigned activation;
};

struct sample_thread {
	uint64_t thread_id;  /* threading.get_ident() */
	int64_t native_id;   /* TID, -1 when unknown */
	const char *name;    /* threading's name or NULL; owned as the
				frames' strings are */
	int64_t interp_id;
	uint64_t tstate;     /* its thread state's address, 0: unknown */
	bool holds_gil;
	bool torn;           /* changed while read: frames kept up to there */
	bool truncated;      /* deeper than PY_MAX_FRAMES */
	bool native_only;    /* a thread that runs no Python ('record
				--native'): thread_id is its TID */
	bool idle;           /* not running when sampled (kept by 'record
				--idle'); set by whoever chose to keep it */
	size_t first;        /* its frames: sample->frames[first ..] */
	size_t nframes;      /* innermost first */
};

struct sample {
	struct sample_thread *threads;
	size_t nthreads, threads_cap;
	struct sample_frame *frames;
	size_t nframes, frames_cap;
	/* A thread list went on past its bound (far more thread states than
	 * the process has threads: corrupt, or many threads started since the
	 * TIDs were read): the threads beyond it are not in this sample. */
	bool threads_left_out;
};

/* Free the sample's arrays (not the strings it borrows) and empty it. */
void sample_release(struct sample *s);

#endif
