/*
 * sampler.h - read every thread's Python stack as cheaply as possible,
 * many times a second, for record, watch's neighbours and top.
 *
 * A dump builds a full snapshot (strings copied, locals, tasks, locks); a
 * sample is only "which code objects, at which lines, on which thread".
 * The sampler keeps what survives between samples: the thread list, the
 * thread states' buffers, the decoded code objects, the data stack chunks
 * of 3.11+.  One sample then costs, for a thread, one batched read of the
 * thread states (with the GIL word), one of the data stack chunks (3.11+,
 * plus the 3.11/3.12 cframe word), one of the code objects it uses (their
 * headers, names, file names and line tables, compared with what was
 * decoded: addresses are reused), and one read per frame that lives elsewhere
 * (a generator's frame, an older chunk; <=3.10 frame objects, read through
 * whole pages since frames of one pool sit side by side).
 *
 * Nothing here pauses the target: the caller does, if it wants to.
 * Unpaused, a stack may change while it is read; such a stack is kept up
 * to the first frame that does not hold together and marked torn.
 */
#ifndef SNAKESCOPE_SAMPLER_H
#define SNAKESCOPE_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "pystructs/pyproc.h"
#include "pystructs/target.h"

struct py_sample_frame {
	/* Names one code object for the whole session: a code object
	 * decoded again (its address reused, or the cache dropped) gets a
	 * new key, so (code_key, line) identifies a frame's text. */
	uint32_t code_key;
	int32_t line;           /* -1 when the instruction has no line */
	int32_t first_line;     /* the code's co_firstlineno */
	/* Owned by the sampler, valid until the next py_sampler_take(). */
	const char *function;
	const char *filename;
	/* A C frame ('record --native' only): function is its symbol or
	 * "??", filename its library, line -1. */
	bool native;
};

struct py_sample_thread {
	uint64_t thread_id;  /* threading.get_ident() */
	int64_t native_id;   /* TID, -1 when unknown */
	const char *name;    /* threading's name or NULL; owned by the
				sampler, valid until the next take */
	int64_t interp_id;
	bool holds_gil;
	bool torn;           /* changed while read: frames kept up to there */
	bool truncated;      /* deeper than PY_MAX_FRAMES */
	bool native_only;    /* a thread that runs no Python ('record
				--native'): thread_id is its TID */
	size_t first;        /* its frames: sample->frames[first ..] */
	size_t nframes;      /* innermost first */
};

struct py_sample {
	struct py_sample_thread *threads;
	size_t nthreads, threads_cap;
	struct py_sample_frame *frames;
	size_t nframes, frames_cap;
};

/* Is this thread wanted in the sample?  Called before its stack is read,
 * so that leaving a thread out costs nothing more. */
typedef bool (*py_sample_keep_fn)(void *arg, const struct py_sample_thread *t);

struct py_sampler_opts {
	py_sample_keep_fn keep; /* NULL: every thread */
	void *keep_arg;
	const pid_t *tids;      /* the process's TIDs, to find native ids
				   before 3.11 (copied) */
	size_t ntids;
	const struct py_ns *ns; /* in another PID namespace: its TIDs
				   (target.h; not owned), else NULL */};

struct py_sampler;

/* A sampler over p (not owned; it must outlive the sampler). */
struct py_sampler *py_sampler_new(struct py_proc *p,
				  const struct py_sampler_opts *o);
void py_sampler_free(struct py_sampler *s);

/*
 * Read one sample into *out (emptied first; reuse it between calls and
 * release it with py_sample_release()).  now_ns is a monotonic clock
 * reading: cached code objects are checked again once it has moved a
 * second past their last check.  Returns 0 (threads whose stacks could not
 * be read completely are marked torn), or SS_EEXITED / SS_EPERM / SS_EREAD
 * / SS_ECORRUPT when no thread list could be read at all.
 */
int py_sampler_take(struct py_sampler *s, uint64_t now_ns,
		    struct py_sample *out, struct err *e);

void py_sample_release(struct py_sample *s);

#endif
