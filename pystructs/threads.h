/*
 * threads.h - walk interpreters, their threads and each thread's frames
 * into a snapshot.
 */
#ifndef SNAKESCOPE_THREADS_H
#define SNAKESCOPE_THREADS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/addrset.h"
#include "pystructs/pyproc.h"
#include "model/snapshot.h"
#include "pystructs/target.h"


/* Bounds on what the target may claim (CPYTHON_INTERNALS.md section 7). */
#define PY_MAX_INTERPS 64
#define PY_MAX_FRAMES 4096

/*
 * How many thread states of one interpreter's list are walked.  The list
 * is as long as the process has threads (each thread state belongs to an
 * OS thread, give or take the threads starting or ending meanwhile), so
 * the bound comes from the task count /proc gave: ntids, with slack for
 * threads started since.  With no count (0), and in any case, at most
 * PY_THREADS_HARD_MAX: only against a list that is corrupt (a loop is
 * found sooner, by the walk's address set).  A bound that is reached is
 * said (snapshot threads_note, sample threads_left_out), never silent.
 */
#define PY_THREADS_HARD_MAX (1u << 20)
static inline size_t py_threads_bound(size_t ntids)
{
	size_t b = ntids + ntids / 2 + 1024;

	return ntids && b < PY_THREADS_HARD_MAX ? b : PY_THREADS_HARD_MAX;
}

/*
 * Append every thread of every interpreter to s->threads (main thread of
 * the main interpreter first), with thread ids, native ids, threading
 * names, GIL and hook state, frames (and what o asks for).  o->tids is
 * used to find native ids before 3.11 and to match o->os to threads.
 *
 * A thread whose stack cannot be read completely is kept with the frames
 * read so far and an error note.  A runtime with no interpreter (starting
 * up or finalizing) gives no threads and success.  Returns an error only
 * when no thread list can be read at all (SS_EREAD, SS_EEXITED, SS_ECORRUPT).
 */
/* The interpreters, newest first (the main one last): at most
 * PY_MAX_INTERPS addresses in interps[], their number in *n. */
int py_interp_list(struct py_proc *p, uint64_t *interps, size_t *n,
		   struct err *e);

/* What to read besides the stacks; a zeroed struct reads stacks only. */
struct py_read_opts {
	const pid_t *tids;   /* the process's TIDs (from /proc), or NULL */
	size_t ntids;
	const struct py_ns *ns; /* its own TIDs when it is in another PID
				   namespace (target.h), else NULL */
	const struct snap_os_thread *os; /* per TID, or NULL */
	bool locals;         /* every frame's variables */
	size_t repr_width;   /* their reprs' width (0: the default) */
	bool check_torn;     /* reading unpaused: re-read each stack and
				mark frames that changed meanwhile */
	/* Thread by thread (dump --nonstop), or NULL: hold(hold_arg, t) is
	 * asked once t's TID is known (t->native_id), before its stack is
	 * read; true when t alone is stopped now, or is off CPU and done()
	 * will say whether it stayed so, and then its thread state is read
	 * again and its stack once, as paused (check_torn only for the
	 * threads not held).  done(hold_arg, t) follows every hold(), once
	 * t's stack is read, to let it go; false: the read was not of one
	 * instant, read t's stack again (hold() and done() again), once. */
	bool (*hold)(void *arg, struct snap_thread *t);
	bool (*done)(void *arg, struct snap_thread *t);
	void *hold_arg;
};

int py_read_threads(struct py_proc *p, const struct py_read_opts *o,
		    struct snapshot *s, struct err *e);

/*
 * The frame walker, one for dumps and the sampler: it follows a thread's
 * frame chain (<=3.10 frame objects by f_back, 3.11+ _PyInterpreterFrame
 * by previous), skips what holds no Python code (3.12+ shim and C-stack
 * entry frames, by their owner byte; frames with no code), and hands every
 * other frame to a callback, innermost first.  Every walk is bounded
 * (PY_MAX_FRAMES frames met) and ends at a loop, found within two turns
 * of it by comparing with a frame marked at every power of two (Brent's
 * method) and, when 'seen' is given, at the first frame met again.
 */

/* A frame the walker met that runs code. */
struct py_walk_frame {
	uint64_t addr;        /* the frame object / _PyInterpreterFrame */
	uint64_t code;        /* f_code / f_executable, 3.14+ stackref tag
				 bits cleared; never 0 */
	const uint8_t *hdr;   /* its first frame.localsplus bytes (at most
				 512), valid during the call only */
	unsigned activation;  /* evaluation-loop activation, counted from
				 the innermost (see struct snap_frame) */
};

enum py_walk_step {
	PY_WALK_KEEP, /* a frame of the stack: it ends an activation when
			 it is one's first (<=3.10: every frame; 3.11: the
			 frame's is_entry) */
	PY_WALK_SKIP, /* not one to show (CPython's own trampoline, or a
			 3.13+ f_executable that is no code object) */
};

typedef enum py_walk_step (*py_walk_fn)(void *arg,
					const struct py_walk_frame *f);

/* The header of the frame at addr (frame.localsplus bytes), or NULL when
 * it cannot be read. */
typedef const uint8_t *(*py_frame_header_fn)(void *arg, uint64_t addr);

struct py_walker {
	struct py_proc *p;
	/* The sampler's walk: cheap checks cut a torn stack where it stops
	 * holding together - a code pointer that is no pointer, and before
	 * 3.11 an object that is not a frame, break the chain (else the
	 * callback is given them, to show as unknown frames). */
	bool sampling;
	py_frame_header_fn header; /* NULL: one read per frame, here */
	void *header_arg;
	struct addrset *seen; /* or NULL: Brent's method alone */
	uint64_t base;        /* 3.15+: the thread's base frame, which every
				 complete chain ends at; 0: not checked */
	uint64_t frame_type;  /* <=3.10, sampling: PyFrame_Type, learnt */
	/* 3.12+, or NULL: called with fn's arg for each shim / C-stack
	 * entry frame, the one that closes 'activation' (which lives in
	 * that activation's C frame). */
	void (*entry)(void *arg, uint64_t addr, unsigned activation);
	uint8_t buf[512];
};

enum py_walk_end {
	PY_WALK_DONE,      /* the chain ended */
	PY_WALK_TRUNCATED, /* PY_MAX_FRAMES frames met */
	PY_WALK_BROKEN,    /* a loop, a frame that cannot be read or does
			      not hold together, a chain not ending at the
			      base frame: *e says which (not from 'header') */
};

/* Walk the frames from 'top' (0: none), calling fn for each that runs
 * code.  w is set up by the caller (zeroed, then p and what it wants);
 * it may serve many walks. */
enum py_walk_end py_frames_walk(struct py_walker *w, uint64_t top,
				py_walk_fn fn, void *arg, struct err *e);

/* <=3.10, sampling: is type the frame objects' type (learnt from the
 * first frame met)? */
bool py_walker_frame_type_ok(struct py_walker *w, uint64_t type);

/*
 * The same walk, for a caller whose callbacks the compiler should see
 * through (header stands for w->header): the sampler calls it with its
 * own static header and frame functions, every sample, for every frame.
 */
static inline enum py_walk_end
py_frames_walk_inline(struct py_walker *w, uint64_t frame,
		      py_frame_header_fn header, py_walk_fn fn, void *arg,
		      struct err *e)
{
	const struct py_layout *L = &w->p->L;
	size_t hdr = (size_t)L->frame.localsplus;
	uint64_t last = 0, mark = 0, tag_mask = ~(uint64_t)L->frame.tag_bits;
	size_t depth = 0, power = 1, steps = 0;
	unsigned activation = 0;
	bool owned = L->frame.owner != LAYOUT_NONE &&
		     L->frame.owner_skip != LAYOUT_NONE;

	if (hdr > sizeof(w->buf))
		hdr = sizeof(w->buf);
	if (w->seen)
		addrset_clear(w->seen);
	while (frame) {
		struct py_walk_frame f;
		const uint8_t *h;
		uint64_t code;

		if (depth++ >= PY_MAX_FRAMES)
			return PY_WALK_TRUNCATED;
		/* A chain that loops (torn, or garbage) is broken: Brent's
		 * mark costs a compare per frame, every sample. */
		if (frame == mark || !py_ptr_ok(frame) ||
		    (w->seen && !addrset_add(w->seen, frame))) {
			err_set(e, SS_ECORRUPT, "frame chain is broken at 0x%llx",
				(unsigned long long)frame);
			return PY_WALK_BROKEN;
		}
		if (++steps == power) {
			mark = frame;
			power *= 2;
			steps = 0;
		}
		if (header)
			h = header(w->header_arg, frame);
		else
			h = mem_read(w->p->mem, frame, w->buf, hdr, e) ? NULL :
			    w->buf;
		if (!h)
			return PY_WALK_BROKEN;
		if (w->sampling && L->frame.kind == LAYOUT_FRAME_OBJECT &&
		    !py_walker_frame_type_ok(w, py_rd64(h, L->object.ob_type)))
			return PY_WALK_BROKEN;
		/* Nothing real is all zeros: memory a core did not hold (a
		 * dumper that wrote a thread's stack as zeros). */
		if (!py_rd64(h, L->frame.code) && !py_rd64(h, L->frame.back) &&
		    (!owned || !h[L->frame.owner])) {
			err_set(e, SS_ECORRUPT, "the frame at 0x%llx reads as "
				"zeros", (unsigned long long)frame);
			return PY_WALK_BROKEN;
		}
		last = frame;
		code = py_rd64(h, L->frame.code) & tag_mask;
		frame = py_rd64(h, L->frame.back);
		/* Shim / C-stack entry frames (3.12+) carry no Python code;
		 * each closes an evaluation-loop activation. */
		if (owned && h[L->frame.owner] >= L->frame.owner_skip) {
			if (w->entry)
				w->entry(arg, last, activation);
			activation++;
			continue;
		}
		if (!code)
			continue;
		if (w->sampling && !py_ptr_ok(code))
			return PY_WALK_BROKEN;
		f.addr = last;
		f.code = code;
		f.hdr = h;
		f.activation = activation;
		/* Up to 3.10 every frame has an activation of its own; 3.11
		 * flags the first frame of each. */
		if (fn(arg, &f) == PY_WALK_KEEP &&
		    (L->frame.kind != LAYOUT_FRAME_INTERP ||
		     (L->frame.is_entry != LAYOUT_NONE && h[L->frame.is_entry])))
			activation++;
	}
	/* 3.15: every complete chain ends at the thread's base frame. */
	if (w->base && last && last != w->base) {
		err_set(e, SS_ECORRUPT, "frame chain ended at 0x%llx, not at "
			"the thread's base frame", (unsigned long long)last);
		return PY_WALK_BROKEN;
	}
	return PY_WALK_DONE;
}


/* A thread's name as threading knows it. */
struct py_thread_name {
	uint64_t ident; /* threading.get_ident() */
	char *name;
};

/*
 * The names in threading._active of the interpreter at interp, best
 * effort (none when threading is not imported), at most 'limit' of them
 * (py_threads_bound()).  Stores a malloc'd array in *out (free with
 * py_thread_names_free) and returns its length.
 */
size_t py_thread_names_read(struct py_proc *p, uint64_t interp,
			    size_t limit, struct py_thread_name **out);
void py_thread_names_free(struct py_thread_name *v, size_t n);

/*
 * The native TID of the thread whose state was copied into ts (L.tstate
 * bytes), or -1.  3.11+ store it; before, it is read from glibc's struct
 * pthread, whose tid offset is found once by matching the TIDs in tids.
 * With tids, the result must be one of them; without (ntids 0), any
 * positive TID read at the offset found before is taken.
 */
int64_t py_thread_native_id(struct py_proc *p, const uint8_t *ts,
			    const pid_t *tids, size_t ntids);

#endif
