/*
 * nonstop.c - samples read thread by thread: each wanted thread stopped
 * alone (attach/pause.h's pause_thread()), its Python stack read and, for
 * native stacks, its registers taken and its stack unwound, then let go
 * before the next is stopped.  The process as a whole never stops.
 *
 * Why this is exact: a thread's Python frame stack is changed only by
 * that thread, so what is read while it alone is held is one instant of
 * its own stack, native and Python alike.  What the threads' stacks are
 * to each other is not one instant; a sample does not need it, a dump's
 * verdicts do: a dump pauses the whole process unless asked otherwise
 * (dump --nonstop: session_nonstop_threads(), the same holds over a
 * snapshot's read, which is then marked per_thread).
 *
 * A thread that cannot move is not stopped at all: without native stacks
 * (which need its registers), a thread off CPU (state S or D) is read as
 * it is, and the read is one instant when the kernel says it was not
 * switched onto a CPU meanwhile (session_quiet_begin()); else it is read
 * again, stopped.  Most threads of a large process wait most of the
 * time: they are never stopped.
 *
 * With native stacks, a thread blocked in a system call is held once:
 * it cannot change its registers or its stack, so the stack unwound then
 * serves again for as long as the kernel says it has not run since (see
 * struct still); its Python frames are read without a stop as above.
 */
#include <config.h>

#include "session/session.h"
#include "session/kind.h"
#include "attach/maps.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "model/native.h"
#include "pystructs/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* Threads whose native stack is kept for use again, at most. */
#define STILL_MAX 4096

/* A held thread's stack is copied from its stack pointer to the end of
 * its stack's mapping (where a thread's stack starts), at most this
 * much; deeper frames are read from the live process. */
#define STACK_COPY_MAX (1u << 20)
/* ... and from this far below it (the x86-64 red zone). */
#define RED_ZONE 128u

/*
 * The unwinder's reader: the target's memory, but for one range, a
 * thread's stack, served from a copy taken while it was held.  The
 * unwinding then runs after the thread is let go: it holds a thread for
 * a copy of its registers and stack (tens of microseconds), not for the
 * unwind (a few hundred).  Code and unwind tables do not move.
 */
struct stack_copy {
	struct mem_reader *inner; /* the session's (not owned) */
	uint64_t lo;
	size_t len, cap;
	uint8_t *buf;
};

static int copy_read(void *priv, uint64_t addr, void *buf, size_t len,
		     struct err *e)
{
	struct stack_copy *c = priv;

	if (c->len && addr >= c->lo && addr - c->lo <= c->len &&
	    len <= c->len - (addr - c->lo)) {
		memcpy(buf, c->buf + (addr - c->lo), len);
		return 0;
	}
	return mem_read(c->inner, addr, buf, len, e);
}

static void copy_free(void *priv)
{
	struct stack_copy *c = priv;

	free(c->buf);
	free(c);
}

static const struct mem_ops copy_ops = {
	.read = copy_read,
	.free = copy_free,
};

/*
 * The native stack of a thread blocked in a system call, as unwound at
 * its last hold.  Once let go, the thread goes back to sleep in the same
 * call: when the kernel's syscall file then says so (the same number
 * and arguments, or restart_syscall, at the same stack pointer and
 * program counter as the registers taken), its count of switches onto
 * a CPU is the baseline: right after the hold, or at a later sample if
 * it was not asleep yet (a loaded machine).  A later sample that finds
 * the count unchanged knows the thread has not run since: its stack is
 * this one.  Once the count moves, the thread is held again.
 */
struct still {
	pid_t tid;
	struct user_regs_struct regs; /* as held */
	bool ran;                    /* ran since its baseline: hold it */
	uint64_t switches;           /* the baseline; 0: none yet */
	struct unwind_frame *frames; /* innermost first (names: the
					unwinder's) */
	size_t n;
	char *error;                 /* why unwinding stopped, or NULL */
	uint64_t stamp;              /* the sample it was last met in */
};

struct session_nonstop {
	struct session *is;
	session_keep_fn keep;
	void *keep_arg;
	bool native;
	bool warm;             /* warm_up() done */
	struct unwinder *unwinder; /* over 'stack' */
	struct mem_reader *stack_reader;
	struct stack_copy *stack; /* owned by stack_reader */
	struct maps maps;      /* this sample's map */

	/* This sample's: */
	bool stopped;          /* the process is stopped (job control):
				  read as it is, nothing held */
	struct snapshot *snap; /* native: the merged stacks */
	const char *no_unwind; /* native: why nothing is unwound, or NULL */
	int64_t *seen;         /* the Python threads' TIDs */
	size_t nseen, seen_cap;
	int rc;                /* the first failure to hold a thread */
	struct err err;

	/* The thread held now, between hold() and done(): */
	struct pause pz;
	bool holding;
	bool quiet;            /* read without a stop: q says how long */
	struct proc_quiet q;
	pid_t again;           /* its read without a stop was not one
				  instant: stop it to read it again */
	char state;            /* its /proc state before the hold */
	uint64_t held_at;      /* when its hold began (clock_mono_ns()) */
	/* What was taken of it while held, for the unwind after (native):
	 * its registers (if regs_ok; its stack is in 'stack'), or why
	 * not. */
	struct user_regs_struct regs;
	bool regs_ok;
	struct err copy_err;

	/* Native: the stacks of threads blocked in a system call (sorted
	 * by TID), this sample's number, the one used for the thread now
	 * read (NULL: none). */
	struct still *still;
	size_t nstill, still_cap;
	uint64_t stamp;
	struct still *reuse;

	/* For SNAKESCOPE_TIMING: holds, and how long they lasted; reads
	 * without a stop, those read again, native stacks used again. */
	uint64_t nholds, held_ns, longest_ns, nquiet, nagain, nreused;
};

static bool ns_keep(void *arg, const struct sample_thread *t)
{
	struct session_nonstop *ns = arg;

	if (t->native_id > 0) {
		ns->seen = xgrow(ns->seen, &ns->seen_cap, ns->nseen + 1,
				 sizeof(*ns->seen));
		ns->seen[ns->nseen++] = t->native_id;
	}
	return !ns->keep || ns->keep(ns->keep_arg, t);
}

static bool hold_tid(struct session_nonstop *ns, pid_t tid);

/* Can thread tid, in state ns->state, be read without a stop?  Then
 * ns->quiet is set, until quiet_end(). */
static bool quiet_begin(struct session_nonstop *ns, pid_t tid)
{
	ns->quiet = false;
	if (ns->native || tid == ns->again ||
	    (ns->state != 'S' && ns->state != 'D'))
		return false;
	ns->quiet = session_quiet_begin(ns->is, tid, &ns->q);
	return ns->quiet;
}

/* After the read of a thread read without a stop: true when it is of
 * one instant, else it is to be read again (stopped). */
static bool quiet_end(struct session_nonstop *ns, pid_t tid)
{
	if (!ns->quiet)
		return true;
	ns->quiet = false;
	if (session_quiet_end(ns->is, &ns->q)) {
		ns->nquiet++;
		return true;
	}
	ns->again = tid;
	ns->nagain++;
	return false;
}

/* ---- native stacks of threads that do not run (struct still) ------- */

static int cmp_still(const void *a, const void *b)
{
	pid_t x = ((const struct still *)a)->tid;
	pid_t y = ((const struct still *)b)->tid;

	return x < y ? -1 : x > y;
}

static struct still *still_find(struct session_nonstop *ns, pid_t tid)
{
	struct still key = { .tid = tid };

	return ns->nstill ? bsearch(&key, ns->still, ns->nstill,
				    sizeof(*ns->still), cmp_still) : NULL;
}

static void still_release(struct still *s)
{
	free(s->frames);
	free(s->error);
}

/* A new entry for tid, in its place by TID (NULL past STILL_MAX). */
static struct still *still_insert(struct session_nonstop *ns, pid_t tid)
{
	size_t lo = 0, hi = ns->nstill;
	struct still *s;

	if (ns->nstill >= STILL_MAX)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ns->still[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	ns->still = xgrow(ns->still, &ns->still_cap, ns->nstill + 1,
			  sizeof(*ns->still));
	memmove(&ns->still[lo + 1], &ns->still[lo],
		(ns->nstill - lo) * sizeof(*ns->still));
	ns->nstill++;
	s = &ns->still[lo];
	memset(s, 0, sizeof(*s));
	s->tid = tid;
	return s;
}

/* After a sample: forget the threads it did not meet (gone, or no
 * longer wanted). */
static void still_sweep(struct session_nonstop *ns)
{
	size_t k = 0;

	for (size_t i = 0; i < ns->nstill; i++) {
		if (ns->still[i].stamp == ns->stamp)
			ns->still[k++] = ns->still[i];
		else
			still_release(&ns->still[i]);
	}
	ns->nstill = k;
}

/* Is the thread asleep where registers r say it was held: in the same
 * system call (or restarting it), at the same stack pointer and program
 * counter? */
static bool same_call(const struct proc_quiet *q,
		      const struct user_regs_struct *r)
{
	const uint64_t args[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8,
				   r->r9 };

	if ((long long)r->orig_rax < 0 || q->sp != r->rsp || q->pc != r->rip)
		return false;
	if (q->nr == SYS_restart_syscall)
		return true;
	return q->nr == (long)r->orig_rax &&
	       !memcmp(q->args, args, sizeof(args));
}

/* Native: can thread tid (state ns->state) be read without a stop, its
 * kept stack used again?  Then ns->quiet and ns->reuse are set. */
static bool still_begin(struct session_nonstop *ns, pid_t tid)
{
	struct still *s;

	if (!ns->native || ns->no_unwind || tid == ns->again ||
	    (ns->state != 'S' && ns->state != 'D'))
		return false;
	s = still_find(ns, tid);
	if (!s || s->ran || !session_quiet_begin(ns->is, tid, &ns->q))
		return false;
	/* not asleep yet when let go: the baseline, late */
	if (!s->switches && same_call(&ns->q, &s->regs))
		s->switches = ns->q.switches;
	if (!s->switches || ns->q.switches != s->switches) {
		session_quiet_end(ns->is, &ns->q);
		s->ran = s->switches != 0; /* it ran: hold it */
		return false;
	}
	ns->quiet = true;
	ns->reuse = s;
	return true;
}

/* Thread tid, held in state S or D with registers r, was unwound into
 * us: keep its stack, with the baseline if it is back asleep where it
 * was held. */
static void still_keep(struct session_nonstop *ns, pid_t tid,
		       const struct user_regs_struct *r,
		       const struct unwind_stack *us)
{
	struct still *s = still_find(ns, tid);
	struct proc_quiet q;

	if (!s) {
		s = still_insert(ns, tid);
		if (!s)
			return;
	}
	still_release(s);
	s->frames = NULL;
	if (us->n) {
		s->frames = xmalloc(us->n * sizeof(*us->frames));
		memcpy(s->frames, us->frames, us->n * sizeof(*us->frames));
	}
	s->n = us->n;
	s->error = us->error ? xstrdup(us->error) : NULL;
	s->stamp = ns->stamp;
	s->regs = *r;
	s->ran = false;
	s->switches = 0;
	if (session_quiet_begin(ns->is, tid, &q)) {
		if (same_call(&q, r))
			s->switches = q.switches;
		session_quiet_end(ns->is, &q);
	}
}

/* Stop thread t alone, unless there is no need or no way: a process
 * stopped by job control does not move (and its registers cannot be had
 * without waking it), a thread off CPU is read without a stop where it
 * can be (quiet_begin()), a thread of unknown TID cannot be stopped
 * (read as it is; the sampler marks a stack that tears).  False leaves t
 * out. */
static bool ns_hold(void *arg, const struct sample_thread *t)
{
	struct session_nonstop *ns = arg;
	pid_t tid = (pid_t)t->native_id;

	ns->holding = false;
	ns->reuse = NULL;
	ns->state = tid > 0 ? session_thread_state(ns->is, tid) : 0;
	if (ns->stopped || tid <= 0 || quiet_begin(ns, tid) ||
	    still_begin(ns, tid))
		return true;
	ns->again = 0;
	return hold_tid(ns, tid);
}

/* Stop thread tid alone: true when it is held now.  The first failure
 * that is not the thread's going is kept in ns->rc. */
static bool hold_tid(struct session_nonstop *ns, pid_t tid)
{
	struct err e;
	int rc;

	err_clear(&e);
	rc = pause_thread(ns->is->pid, tid, &ns->pz, &e);
	/* The hold counts from the stop: until then the thread ran. */
	ns->held_at = clock_mono_ns();
	if (rc < 0 && !ns->rc) {
		ns->rc = rc;
		ns->err = e;
	}
	if (rc != 0) {
		pause_resume(&ns->pz); /* gone, or refused: nothing held */
		return false;
	}
	ns->holding = true;
	return true;
}

/* Let the held thread go, if one is. */
static void let_go(struct session_nonstop *ns)
{
	uint64_t d;

	if (!ns->holding)
		return;
	/* Until the detach: it wakes the thread, which may well take our
	 * CPU at once (a woken thread preempts its waker), so that the call
	 * returns only later, with the thread long running. */
	d = clock_mono_ns() - ns->held_at;
	pause_resume(&ns->pz);
	ns->holding = false;
	ns->nholds++;
	ns->held_ns += d;
	if (d > ns->longest_ns)
		ns->longest_ns = d;
}

/* While thread tid is held: its registers into *r and its stack into
 * ns->stack.  False (with why in *e) when they cannot be had. */
static bool copy_held(struct session_nonstop *ns, pid_t tid,
		      struct user_regs_struct *r, struct err *e)
{
	struct stack_copy *c = ns->stack;
	const struct maps_entry *me;
	struct mem_span span;
	uint64_t lo;

	c->len = 0;
	if (ns->no_unwind)
		return false;
	if (!ns->holding || !pause_task_regs(&ns->pz, tid, r)) {
		err_set(e, SS_EPTRACE, ns->stopped ? "no native stack: the "
			"target was stopped (SIGSTOP) before snakescope came, "
			"and unwinding needs it running" : "cannot read the "
			"registers of thread %d", (int)tid);
		return false;
	}
	me = maps_find(&ns->maps, r->rsp);
	if (!me)
		return true; /* the unwinder reads (and says) what it can */
	lo = r->rsp - me->lo > RED_ZONE ? r->rsp - RED_ZONE : me->lo;
	span.addr = lo;
	span.len = me->hi - lo > STACK_COPY_MAX ? STACK_COPY_MAX :
		   (size_t)(me->hi - lo);
	if (span.len > c->cap) {
		c->buf = xrealloc(c->buf, span.len);
		c->cap = span.len;
	}
	span.buf = c->buf;
	span.ok = false;
	if (mem_read_spans(c->inner, &span, 1) == 1) {
		c->lo = lo;
		c->len = span.len;
	}
	return true;
}

/* Once the thread is let go: its native stack from what copy_held()
 * took, into *us. */
static void unwind_copy(struct session_nonstop *ns,
			const struct user_regs_struct *r,
			struct unwind_stack *us, struct err *e)
{
	unwind_thread(ns->unwinder, r, us, e);
	ns->stack->len = 0;
}

/* Done with the held thread tid: with --native its registers and stack
 * copied (into ns->regs and ns->stack; ns->copy_err says why not), then
 * let go. */
static void let_go_copied(struct session_nonstop *ns, pid_t tid)
{
	err_clear(&ns->copy_err);
	ns->regs_ok = ns->native && copy_held(ns, tid, &ns->regs,
					      &ns->copy_err);
	let_go(ns);
}

/* Once let go: what let_go_copied() took unwound into *us (why not in
 * *e).  False without --native (nothing to unwind). */
static bool unwind_copied(struct session_nonstop *ns,
			  struct unwind_stack *us, struct err *e)
{
	*e = ns->copy_err;
	if (!ns->native)
		return false;
	if (ns->regs_ok)
		unwind_copy(ns, &ns->regs, us, e);
	ns->regs_ok = false;
	return true;
}

/*
 * Once thread tid is let go: its native stack into *us (why not in *e),
 * the kept one when it was not held (ns->reuse: *us borrows it, *kept
 * is set, not to be released), else the one unwound from what was
 * copied while it was held, kept in turn when it waits (state S or D).
 * False without --native.
 */
static bool native_stack(struct session_nonstop *ns, pid_t tid,
			 struct unwind_stack *us, struct err *e, bool *kept)
{
	struct still *s = ns->reuse;
	struct user_regs_struct r = ns->regs;
	bool waits = ns->regs_ok && (ns->state == 'S' || ns->state == 'D');

	*kept = s != NULL;
	err_clear(e);
	if (s) {
		ns->reuse = NULL;
		s->stamp = ns->stamp;
		us->frames = s->frames;
		us->n = us->cap = s->n;
		us->error = s->error;
		ns->nreused++;
		return true;
	}
	if (!unwind_copied(ns, us, e))
		return false;
	if (waits)
		still_keep(ns, tid, &r, us);
	return true;
}

/* Thread t of the snapshot: its native stack merged with its Python
 * frames (none for a thread without Python). */
static void add_merged(struct session_nonstop *ns, struct snap_thread *st,
		       struct unwind_stack *us, const struct err *e)
{
	struct session *is = ns->is;

	session_add_native_frames(st, us, is->rt.binary);
	py_native_merge_by(is->py.L.major, is->py.L.minor, st,
			   ns->no_unwind ? ns->no_unwind : us->error ?
			   us->error : e->code ? e->msg : NULL,
			   session_eval_find());
}

static void fill_name(struct session *is, struct snap_thread *st,
		      const char *name)
{
	char comm[64];

	if (name)
		st->name = xstrdup(name);
	else if (st->native_id > 0 &&
		 is->kind->comm(is, (pid_t)st->native_id, comm, sizeof(comm)))
		st->name = xstrdup(comm);
}

/* Thread t's frame chain is read: its frames are resolved after it is
 * let go.  False when a read without a stop was not one instant. */
static bool ns_release(void *arg, const struct sample_thread *t)
{
	struct session_nonstop *ns = arg;

	if (ns->quiet) {
		if (quiet_end(ns, (pid_t)t->native_id))
			return true;
		if (ns->reuse)
			ns->reuse->ran = true; /* it ran: hold it */
		ns->reuse = NULL;
		return false;
	}
	let_go_copied(ns, (pid_t)t->native_id);
	return true;
}

static void ns_done(void *arg, const struct sample_thread *t,
		    const struct sample *out)
{
	struct session_nonstop *ns = arg;
	struct session *is = ns->is;
	struct unwind_stack us = { 0 };
	struct snap_thread *st;
	struct err e;
	bool kept;

	if (!native_stack(ns, (pid_t)t->native_id, &us, &e, &kept))
		return;
	st = snap_add_thread(ns->snap);
	st->thread_id = t->thread_id;
	st->native_id = t->native_id;
	st->ns_native_id = is->has_ns && t->native_id > 0 ?
		proc_nsmap_ns(&is->nsmap, (pid_t)t->native_id) : -1;
	st->interp_id = t->interp_id;
	st->holds_gil = t->holds_gil;
	st->os.state = ns->state;
	st->tstate = t->tstate;
	st->torn = t->torn;
	st->truncated = t->truncated;
	fill_name(is, st, t->name);
	for (size_t i = 0; i < t->nframes; i++) {
		const struct sample_frame *sf = &out->frames[t->first + i];
		struct snap_frame *f = snap_add_frame(st);

		f->function = xstrdup(sf->function ? sf->function : "<unknown>");
		f->filename = xstrdup(sf->filename ? sf->filename : "");
		f->line = sf->line;
		f->end_line = f->column = f->end_column = -1;
		f->activation = sf->activation;
	}
	if (t->neval_at) {
		st->eval_at = xcalloc(t->neval_at, sizeof(*st->eval_at));
		memcpy(st->eval_at, t->eval_at,
		       t->neval_at * sizeof(*st->eval_at));
		st->neval_at = t->neval_at;
	}
	add_merged(ns, st, &us, &e);
	if (!kept)
		unwind_stack_release(&us);
}

static bool seen(const struct session_nonstop *ns, pid_t tid)
{
	for (size_t i = 0; i < ns->nseen; i++)
		if (ns->seen[i] == tid)
			return true;
	return false;
}

/* The OS threads that run no Python: those wanted, held and unwound one
 * at a time as the Python ones were. */
static void native_only_threads(struct session_nonstop *ns)
{
	struct session *is = ns->is;
	pid_t *tids = NULL;
	size_t ntids = 0;

	if (is->kind->tids(is, &tids, &ntids, NULL))
		return;
	for (size_t i = 0; i < ntids; i++) {
		struct sample_thread t;
		struct unwind_stack us = { 0 };
		struct snap_thread *st;
		struct err e;
		bool kept;

		if (seen(ns, tids[i]))
			continue;
		memset(&t, 0, sizeof(t));
		t.thread_id = (uint64_t)tids[i];
		t.native_id = tids[i];
		t.interp_id = -1;
		t.native_only = true;
		if ((ns->keep && !ns->keep(ns->keep_arg, &t)) ||
		    !ns_hold(ns, &t))
			continue;
		if (ns->quiet) {
			/* nothing read: its kept stack is of now */
			ns->quiet = false;
			session_quiet_end(is, &ns->q);
			ns->nquiet++;
		} else {
			let_go_copied(ns, tids[i]);
		}
		native_stack(ns, tids[i], &us, &e, &kept);
		st = snap_add_thread(ns->snap);
		st->native_only = true;
		st->thread_id = (uint64_t)tids[i];
		st->native_id = tids[i];
		st->ns_native_id = is->has_ns ?
			proc_nsmap_ns(&is->nsmap, tids[i]) : -1;
		st->interp_id = -1;
		st->os.state = ns->state;
		fill_name(is, st, NULL);
		add_merged(ns, st, &us, &e);
		if (!kept)
			unwind_stack_release(&us);
	}
	free(tids);
}

/* Is path a file whose code most stacks run through: the interpreter's
 * (the executable or libpython), the C library, the dynamic loader? */
static bool on_most_stacks(const struct session *is, const char *path)
{
	const char *base = strrchr(path, '/');
	static const char *const libs[] = { "libc.so", "libc-", "libpthread",
					    "ld-linux", "libm.so", "libm-" };

	base = base ? base + 1 : path;
	if (!strcmp(path, is->rt.binary) || !strcmp(path, is->exe))
		return true;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if (!strncmp(base, libs[i], strlen(libs[i])))
			return true;
	return false;
}

/*
 * Before the first hold: load the symbol and unwind tables of the files
 * on most stacks (unwind_symbolize() loads an object's tables), so that
 * the first thread held does not wait while they are read (tens of
 * milliseconds).  Other objects (extension modules) load when a stack
 * first meets them, once.
 */
static void warm_up(struct session_nonstop *ns, const struct maps *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct unwind_frame f;

		if (m->e[i].x && m->e[i].path[0] == '/' &&
		    on_most_stacks(ns->is, m->e[i].path))
			unwind_symbolize(ns->unwinder, m->e[i].lo, false, &f);
	}
}

/* The unwinder over a held thread's stack copy (native). */
static void open_unwinder(struct session_nonstop *ns)
{
	struct session *is = ns->is;

	ns->stack = xcalloc(1, sizeof(*ns->stack));
	ns->stack->inner = is->mem;
	ns->stack_reader = mem_reader_new(&copy_ops, ns->stack);
	ns->unwinder = unwinder_new(ns->stack_reader, session_unwind_open, is,
				    is->root);
}

/* Before the threads are read: this read's map, for the stack copies
 * and the unwinder (native). */
static void begin_native(struct session_nonstop *ns)
{
	struct session *is = ns->is;
	struct err me;

	err_clear(&me);
	/* The map as of now, read before anything is held. */
	maps_release(&ns->maps);
	if (is->kind->maps(is, &ns->maps, &me)) {
		ns->no_unwind = "no native stack: the memory map could not be "
				"read";
	} else {
		unwind_begin(ns->unwinder, &ns->maps);
		if (!ns->warm) {
			warm_up(ns, &ns->maps);
			ns->warm = true;
		}
	}
}

static void ns_free(struct session_nonstop *ns)
{
	for (size_t i = 0; i < ns->nstill; i++)
		still_release(&ns->still[i]);
	free(ns->still);
	pause_resume(&ns->pz);
	snap_free(ns->snap);
	unwinder_free(ns->unwinder);
	mem_reader_free(ns->stack_reader);
	maps_release(&ns->maps);
	free(ns->seen);
	free(ns);
}

/* ---- a dump's threads, one at a time (session_nonstop_threads()) ---- */

static bool dump_hold(void *arg, struct snap_thread *t)
{
	struct session_nonstop *ns = arg;
	pid_t tid = (pid_t)t->native_id;

	ns->holding = false;
	ns->quiet = false;
	if (tid > 0 && tid != ns->again) {
		ns->seen = xgrow(ns->seen, &ns->seen_cap, ns->nseen + 1,
				 sizeof(*ns->seen));
		ns->seen[ns->nseen++] = tid;
	}
	/* Stopped by job control it does not move: read as it is. */
	if (ns->stopped || tid <= 0)
		return false;
	if (!ns->native) {
		ns->state = session_thread_state(ns->is, tid);
		if (quiet_begin(ns, tid))
			return true;
	}
	ns->again = 0;
	return hold_tid(ns, tid);
}

static bool dump_done(void *arg, struct snap_thread *t)
{
	struct session_nonstop *ns = arg;
	struct unwind_stack us = { 0 };
	struct err e;

	if (ns->quiet)
		return quiet_end(ns, (pid_t)t->native_id);
	let_go_copied(ns, (pid_t)t->native_id);
	if (!unwind_copied(ns, &us, &e))
		return true;
	add_merged(ns, t, &us, &e);
	unwind_stack_release(&us);
	return true;
}

/* SNAKESCOPE_TIMING: how threads were read. */
static void print_timing(const struct session_nonstop *ns)
{
	fprintf(stderr, "snakescope timing: nonstop: %llu holds of one "
		"thread, %.1f us on average, longest %.1f us; %llu reads of a "
		"thread off CPU without a stop, %llu read again stopped; %llu "
		"native stacks of a thread that had not run used again\n",
		(unsigned long long)ns->nholds, ns->nholds ?
		ns->held_ns / 1e3 / (double)ns->nholds : 0.0,
		ns->longest_ns / 1e3, (unsigned long long)ns->nquiet,
		(unsigned long long)ns->nagain,
		(unsigned long long)ns->nreused);
}

int session_nonstop_threads(struct session *is, struct py_read_opts *ro,
			    bool native, struct snapshot *s, struct err *e)
{
	struct session_nonstop *ns;
	int rc;

	if (is->kind != &session_live)
		return err_set(e, SS_EINVAL, "%s: a core file does not run: "
			       "there is nothing to read thread by thread",
			       is->name);
	ns = xcalloc(1, sizeof(*ns));
	ns->is = is;
	ns->native = native;
	ns->snap = s;
	ns->stopped = s->stopped;
	if (native) {
		open_unwinder(ns);
		begin_native(ns);
	}
	ro->check_torn = true; /* for the threads that cannot be held */
	ro->hold = dump_hold;
	ro->done = dump_done;
	ro->hold_arg = ns;
	rc = py_read_threads(&is->py, ro, s, e);
	if (!rc && native)
		native_only_threads(ns);
	if (!rc && ns->rc) {
		rc = ns->rc;
		*e = ns->err;
	}
	ns->snap = NULL; /* the caller's */
	if (getenv("SNAKESCOPE_TIMING"))
		print_timing(ns);
	ns_free(ns);
	return rc;
}

int session_nonstop_start(struct session *is, session_keep_fn keep,
			  void *keep_arg, bool native, struct err *e)
{
	struct py_sampler_opts so = { 0 };
	struct session_nonstop *ns;
	int rc;

	if (is->kind != &session_live)
		return err_set(e, SS_EINVAL, "%s: a core file is not "
			       "sampled", is->name);
	if (is->nonstop || is->sampler)
		return err_set(e, SS_EINVAL, "%s: sampling already started",
			       is->name);
	ns = xcalloc(1, sizeof(*ns));
	ns->is = is;
	ns->keep = keep;
	ns->keep_arg = keep_arg;
	ns->native = native;
	so.keep = ns_keep;
	so.hold = ns_hold;
	so.release = ns_release;
	so.done = ns_done;
	so.keep_arg = ns;
	is->nonstop = ns;
	rc = session_sampler_open(is, &so, e);
	if (rc) {
		session_nonstop_free(is);
		return rc;
	}
	if (native)
		open_unwinder(ns);
	return 0;
}

int session_nonstop_sample(struct session *is, uint64_t now_ns,
			   struct sample *out, struct snapshot **snap,
			   struct err *e)
{
	struct session_nonstop *ns = is->nonstop;
	int rc;

	if (snap)
		*snap = NULL;
	if (!ns)
		return err_set(e, SS_EINVAL, "session_nonstop_start() first");
	ns->nseen = 0;
	ns->rc = 0;
	err_clear(&ns->err);
	ns->stopped = is->kind->stopped(is);
	ns->no_unwind = NULL;
	ns->stamp++;
	if (ns->native) {
		ns->snap = snap_new();
		ns->snap->pid = is->pid;
		ns->snap->stopped = ns->stopped;
		begin_native(ns);
	}
	rc = py_sampler_take(is->sampler, now_ns, out, e);
	if (!rc && ns->native)
		native_only_threads(ns);
	if (!rc)
		still_sweep(ns);
	if (!rc && ns->rc) {
		rc = ns->rc;
		*e = ns->err;
	}
	if (rc && is->kind->gone(is))
		rc = err_set(e, SS_EEXITED, "process %d exited while being "
			     "read", (int)is->pid);
	if (ns->native) {
		if (!rc && snap)
			*snap = ns->snap;
		else
			snap_free(ns->snap);
		ns->snap = NULL;
	}
	return rc;
}

void session_nonstop_free(struct session *is)
{
	struct session_nonstop *ns = is->nonstop;

	if (!ns)
		return;
	if (getenv("SNAKESCOPE_TIMING"))
		print_timing(ns);
	ns_free(ns);
	is->nonstop = NULL;
}
