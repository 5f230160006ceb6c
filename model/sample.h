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
	/* Thread by thread (py_sampler_opts.hold) only, else NULL: where
	 * each activation keeps its entry frame on the C stack (3.12+;
	 * struct snap_thread's eval_at), owned by the sampler, valid until
	 * the next thread is taken. */
	const uint64_t *eval_at;
	size_t neval_at;
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

/*
 * Frames named, not read from code objects (C frames, marks, frames of
 * a snapshot): each distinct (function, file) keyed for the whole
 * session as the sampler keys code objects, from SAMPLE_NAME_KEY_BASE up
 * (the sampler's keys count from 1), its strings copied once and kept
 * until sample_names_release().
 */
#define SAMPLE_NAME_KEY_BASE 0x80000000u
struct sample_names {
	struct sample_name {
		uint64_t hash;
		char *function, *filename;
		uint32_t key; /* 0: empty slot */
	} *slots;
	size_t cap, n;
};
void sample_names_release(struct sample_names *t);

/* f, zeroed, then keyed and named (function, filename) by t. */
void sample_named_frame(struct sample_names *t, const char *function,
			const char *filename, int line, int first_line,
			bool native, struct sample_frame *f);

/* Append such a frame to s->frames. */
void sample_add_named(struct sample *s, struct sample_names *t,
		      const char *function, const char *filename, int line,
		      bool native, bool internal);

/*
 * A sample of snapshot snap's threads (read with native stacks, the
 * Python frames merged in: model/native.h), into s (emptied first): each
 * thread's whole stack, the interpreter's own C frames too with
 * native_all; a C frame is (symbol or "??", library or "??"), a mark
 * "[note]" of "snakescope".  Its strings are t's and snap's: valid while
 * both are.
 */
struct snapshot;
void sample_of_snapshot(struct sample *s, struct sample_names *t,
			const struct snapshot *snap, bool native_all);

#endif
