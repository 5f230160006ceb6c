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
#include "model/sample.h"

/* Is this thread wanted in the sample?  Called before its stack is read,
 * so that leaving a thread out costs nothing more. */
typedef bool (*py_sample_keep_fn)(void *arg, const struct sample_thread *t);

/* Thread by thread (see py_sampler_opts.hold): before a wanted thread's
 * stack is read, once its frame chain is read (its frames not yet
 * resolved), and after (its frames are out->frames[t->first ..]). */
typedef bool (*py_sample_hold_fn)(void *arg, const struct sample_thread *t);
typedef bool (*py_sample_release_fn)(void *arg,
				     const struct sample_thread *t);
typedef void (*py_sample_done_fn)(void *arg, const struct sample_thread *t,
				  const struct sample *out);

struct py_sampler_opts {
	py_sample_keep_fn keep; /* NULL: every thread */
	void *keep_arg;
	const pid_t *tids;      /* the process's TIDs, to find native ids
				   before 3.11 (copied) */
	size_t ntids;
	const struct py_ns *ns; /* in another PID namespace: its TIDs
				   (target.h; not owned), else NULL */
	/* NULL: the wanted threads are read together, in batches.  Else
	 * one at a time: hold(keep_arg, t) (it may stop thread t alone;
	 * false leaves t out), then t's thread state is read again and
	 * its frame chain read with nothing read ahead before the hold,
	 * then release(keep_arg, t) (it lets t go: what is left, checking
	 * code objects and resolving frames, needs no hold; false: the
	 * read may not be of one instant, read it again, from hold(), at
	 * most once more), then done(keep_arg, t, out), then the next
	 * thread.  Costlier than the batches, but each thread's stack is
	 * of the instant it was held.  release may be NULL (done lets t
	 * go). */
	py_sample_hold_fn hold;
	py_sample_release_fn release;
	py_sample_done_fn done;
};

struct py_sampler;

/* A sampler over p (not owned; it must outlive the sampler). */
struct py_sampler *py_sampler_new(struct py_proc *p,
				  const struct py_sampler_opts *o);
void py_sampler_free(struct py_sampler *s);

/* The process's TIDs as /proc gives them now (copied): they find native
 * ids before 3.11 and bound the thread-list walk (py_threads_bound());
 * a sample whose walk reached that bound says so (threads_left_out),
 * and its taker may give newer TIDs and take it again. */
void py_sampler_set_tids(struct py_sampler *s, const pid_t *tids,
			 size_t ntids);

/*
 * Read one sample into *out (emptied first; reuse it between calls and
 * release it with sample_release()).  now_ns is a monotonic clock
 * reading: cached code objects are checked again once it has moved a
 * second past their last check.  Returns 0 (threads whose stacks could not
 * be read completely are marked torn), or SS_EEXITED / SS_EPERM / SS_EREAD
 * / SS_ECORRUPT when no thread list could be read at all.
 */
int py_sampler_take(struct py_sampler *s, uint64_t now_ns,
		    struct sample *out, struct err *e);


#endif
