/*
 * asyncio.c - asyncio tasks from the target's memory.
 *
 * Finding the tasks (CPYTHON_INTERNALS.md section 5):
 *   - every version: the module asyncio.tasks holds the registry of tasks
 *     that are not native C tasks, and up to 3.13 of all of them:
 *     _all_tasks (3.8-3.11, a WeakSet), _scheduled_tasks (a WeakSet) and
 *     _eager_tasks (a set) from 3.12;
 *   - 3.14+: native tasks are on a circular list in each thread state
 *     (and in the interpreter, for threads that have exited).
 * Reading one task: its Future/Task fields (C layout from the layout
 * tables, or the attributes of the pure-Python classes), its coroutine
 * chain (each suspended coroutine's awaited object, as _PyGen_yf finds
 * it), what it waits for (the innermost frame tells a lock from an event
 * from a sleep; else the future's type), and who awaits it: 3.14+ keep
 * that in the future (fut_awaited_by); before, it is derived from the
 * future's done-callbacks (the awaiting task's wakeup method, gather's
 * and shield's closures, wait_for's partial, a TaskGroup's
 * _on_task_done).
 */
#include <config.h>

#include "pystructs/asyncio.h"
#include "common/addrset.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/object.h"
#include "pystructs/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TNAME 128
#define TYPE_CACHE 64
#define LOOP_CACHE 64
#define CALLBACKS_MAX 4096      /* done-callbacks of one future */
#define AWAITER_DEPTH 8         /* futures between two tasks */
#define TIMERS_MAX (1u << 20)   /* scheduled handles of one loop */
#define READY_MAX 4096          /* ready handles of one loop looked at */
#define DEQUE_BLOCKLEN 64       /* items of a collections.deque block */
#define READY_REFS_MAX 4096     /* closure objects kept per loop */
#define CHILDREN_MAX 100000     /* children of one gather / group */
#define TASK_MAX_SIZE 512       /* bytes of a C Task (3.14: 200) */

enum fut_kind {
	FK_OTHER = 0,
	FK_CTASK,   /* _asyncio.Task or a subclass: C layout */
	FK_CFUT,    /* _asyncio.Future or a subclass */
	FK_PYTASK,  /* asyncio.tasks._PyTask: attributes */
	FK_PYFUT,   /* asyncio.futures._PyFuture */
};

#define FK_GATHERING 0x10 /* flag: a _GatheringFuture */
#define FK_MASK 0x0f

enum { FUT_PENDING = 0, FUT_CANCELLED = 1, FUT_FINISHED = 2 };

struct fut {
	uint64_t addr;
	int kind;       /* enum fut_kind */
	bool gathering;
	int state;      /* FUT_*, -1 unknown */
	uint64_t loop, waiter, coro, name;
	uint64_t callback0, callbacks; /* C: first callback + list; Python:
					  callbacks = the _callbacks list */
	uint64_t awaited_by;
	bool awaited_by_is_set;
};

struct timer {
	uint64_t future;
	double when;
};

struct loop_info {
	uint64_t loop;
	bool has_thread;
	uint64_t thread_id;
	bool timers_read;
	struct timer *timers;   /* one-argument handles, by future */
	size_t ntimers;
	size_t nscheduled;      /* every handle of _scheduled */
	size_t nready;          /* callbacks in _ready */
	uint64_t *refs;         /* what their closures hold (snap_loop's
				   ready_refs, handed over) */
	size_t nrefs;
	bool has_earliest;
	double earliest;        /* the earliest _when of a timer not yet
				   run: in _scheduled or _ready */
};

struct actx {
	struct py_proc *p;
	struct snapshot *s;
	struct addrset seen;     /* task addresses already taken */
	uint64_t *cands;         /* candidate task addresses */
	size_t ncands, cands_cap;
	int64_t *cand_interp;    /* interpreter id per candidate */
	int64_t *cand_thread;    /* thread index (3.14 lists) or -1 */
	uint64_t *running;       /* current tasks (per loop / thread) */
	size_t nrunning, running_cap;
	struct { uint64_t type; int kind; } types[TYPE_CACHE];
	struct loop_info loops[LOOP_CACHE];
	size_t nloops;
	uint64_t timer_type;     /* TimerHandle type whose slots are known */
	int64_t off_args, off_when;
	uint64_t ready_timer_type; /* the same, for _ready's handles */
	uint64_t plain_handle_type; /* a Handle type without _when */
	int64_t off_ready_when;
	double now;              /* CLOCK_MONOTONIC, as loop.time() */
	struct err err;          /* first problem worth a note */
	/* per task, filled by the coroutine walk */
	uint64_t outer_frame;    /* frame of the task's own coroutine */
	uint64_t leaf_self;      /* 'self' of the innermost frame */
	int leaf_kind;           /* SNAP_AWAIT_* the innermost frame says */
};

static void note(struct actx *a, const struct err *e)
{
	if (!a->err.code && e->code)
		a->err = *e;
}

/* ---- types -------------------------------------------------------- */

static int classify_type(struct actx *a, uint64_t type)
{
	struct py_proc *p = a->p;
	size_t slot = (size_t)(type >> 4) % TYPE_CACHE;
	char name[TNAME];
	uint64_t t = type;
	int kind = FK_OTHER, flags = 0;

	if (a->types[slot].type == type)
		return a->types[slot].kind;
	for (int i = 0; i < 32 && t && kind == FK_OTHER; i++) {
		if (py_type_name_at(p, t, name, sizeof(name), NULL))
			break;
		if (!strcmp(name, "_asyncio.Task"))
			kind = FK_CTASK;
		else if (!strcmp(name, "_asyncio.Future"))
			kind = FK_CFUT;
		else if (!strcmp(name, "Task"))
			kind = FK_PYTASK;
		else if (!strcmp(name, "Future"))
			kind = FK_PYFUT;
		else if (!strcmp(name, "_GatheringFuture"))
			flags |= FK_GATHERING;
		if (py_field(p, t, p->L.type.tp_base, &t, NULL))
			break;
	}
	a->types[slot].type = type;
	a->types[slot].kind = kind | flags;
	return kind | flags;
}

static int classify(struct actx *a, uint64_t obj)
{
	uint64_t type;

	if (!py_ptr_ok(obj) || py_type_of(a->p, obj, &type, NULL))
		return FK_OTHER;
	return classify_type(a, type);
}

static bool is_task_kind(int k)
{
	return (k & FK_MASK) == FK_CTASK || (k & FK_MASK) == FK_PYTASK;
}

static bool is_future_kind(int k)
{
	return (k & FK_MASK) != FK_OTHER;
}

/* ---- futures and tasks -------------------------------------------- */

static int py_state(struct actx *a, uint64_t str)
{
	char *s = NULL;
	int st = -1;

	if (py_str_read(a->p, str, 16, &s, NULL, NULL))
		return -1;
	if (!strcmp(s, "PENDING"))
		st = FUT_PENDING;
	else if (!strcmp(s, "CANCELLED"))
		st = FUT_CANCELLED;
	else if (!strcmp(s, "FINISHED"))
		st = FUT_FINISHED;
	free(s);
	return st;
}

/* An attribute's value, 0 when it is missing or None. */
static uint64_t attr(struct actx *a, uint64_t obj, const char *name)
{
	char tn[TNAME];
	uint64_t v = 0;

	if (py_getattr_any(a->p, obj, name, &v, NULL) ||
	    py_type_name(a->p, v, tn, sizeof(tn), NULL) ||
	    !strcmp(tn, "NoneType"))
		return 0;
	return v;
}

/* How much of a C future read_future() reads: up to the end of the last
 * future field, wherever the layout (or the 3.14+ debug words) put it. */
static size_t fut_read_size(const struct py_layout *L)
{
	const int ends[][2] = {
		{ L->asyncio.fut_state, 4 },
		{ L->asyncio.fut_loop, 8 },
		{ L->asyncio.fut_callback, 8 },
		{ L->asyncio.fut_callbacks, 8 },
		{ L->asyncio.fut_awaited_by, 8 },
		{ L->asyncio.fut_awaited_by_is_set, 1 },
	};
	size_t size = 0;

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (ends[i][0] != LAYOUT_NONE &&
		    (size_t)ends[i][0] + (size_t)ends[i][1] > size)
			size = (size_t)ends[i][0] + (size_t)ends[i][1];
	return size;
}

/* Read a future or task (kind already classified). */
static int fut_read(struct actx *a, uint64_t addr, int kind, struct fut *f,
		    struct err *e)
{
	const struct py_layout *L = &a->p->L;
	uint8_t buf[TASK_MAX_SIZE];
	int32_t state;
	size_t size;
	int rc;

	memset(f, 0, sizeof(*f));
	f->addr = addr;
	f->kind = kind & FK_MASK;
	f->gathering = kind & FK_GATHERING;
	f->state = -1;
	if (f->kind == FK_PYTASK || f->kind == FK_PYFUT) {
		f->state = py_state(a, attr(a, addr, "_state"));
		f->loop = attr(a, addr, "_loop");
		f->callbacks = attr(a, addr, "_callbacks");
		if (L->asyncio.fut_awaited_by != LAYOUT_NONE) {
			f->awaited_by = attr(a, addr,
					     "_Future__asyncio_awaited_by");
			f->awaited_by_is_set = true;
		}
		if (f->kind == FK_PYTASK) {
			f->waiter = attr(a, addr, "_fut_waiter");
			f->coro = attr(a, addr, "_coro");
			f->name = attr(a, addr, "_name");
		}
		return 0;
	}
	if (L->asyncio.task_size == LAYOUT_NONE ||
	    (size_t)L->asyncio.task_size > sizeof(buf))
		return err_set(e, SS_EUNSUPPORTED, "no Task layout for Python "
			       "%u.%u", L->major, L->minor);
	/* A plain future is smaller than a task: read only the future's
	 * fields (3.14+ put awaited_by_is_set after the state). */
	size = fut_read_size(L);
	if (size > (size_t)L->asyncio.task_size)
		return err_set(e, SS_EUNSUPPORTED, "Future fields past the "
			       "Task's %d bytes", L->asyncio.task_size);
	rc = mem_read(a->p->mem, addr, buf, f->kind == FK_CTASK ?
		      (size_t)L->asyncio.task_size : size, e);
	if (rc)
		return rc;
	memcpy(&state, buf + L->asyncio.fut_state, sizeof(state));
	f->state = state >= 0 && state <= 2 ? state : -1;
	f->loop = py_rd64(buf, L->asyncio.fut_loop);
	f->callback0 = py_rd64(buf, L->asyncio.fut_callback);
	f->callbacks = py_rd64(buf, L->asyncio.fut_callbacks);
	if (L->asyncio.fut_awaited_by != LAYOUT_NONE) {
		f->awaited_by = py_rd64(buf, L->asyncio.fut_awaited_by);
		f->awaited_by_is_set =
			L->asyncio.fut_awaited_by_is_set != LAYOUT_NONE ?
			buf[L->asyncio.fut_awaited_by_is_set] != 0 :
			f->awaited_by != 0;
	}
	if (f->kind == FK_CTASK) {
		f->waiter = py_rd64(buf, L->asyncio.task_fut_waiter);
		f->coro = py_rd64(buf, L->asyncio.task_coro);
		f->name = py_rd64(buf, L->asyncio.task_name);
	}
	return 0;
}

/* Task name: a str, or (3.12+, until get_name()) the counter N of
 * "Task-N". */
static char *task_name(struct actx *a, uint64_t name)
{
	uint64_t n;
	char *s = NULL;

	if (!name)
		return xstrdup("?");
	if (!py_str_read(a->p, name, 1024, &s, NULL, NULL))
		return s;
	if (!py_long_read_u64(a->p, name, &n, NULL)) {
		char buf[32];

		snprintf(buf, sizeof(buf), "Task-%llu", (unsigned long long)n);
		return xstrdup(buf);
	}
	return xstrdup("?");
}

/* ---- coroutine chains --------------------------------------------- */

enum gen_kind { GK_NONE = 0, GK_GEN, GK_ASEND, GK_FUTUREITER };

static int gen_kind(struct actx *a, uint64_t obj)
{
	char name[TNAME];

	if (!py_ptr_ok(obj) || py_type_name(a->p, obj, name, sizeof(name), NULL))
		return GK_NONE;
	if (!strcmp(name, "coroutine") || !strcmp(name, "generator") ||
	    !strcmp(name, "async_generator"))
		return GK_GEN;
	if (!strcmp(name, "async_generator_asend"))
		return GK_ASEND;
	if (!strcmp(name, "_asyncio.FutureIter"))
		return GK_FUTUREITER;
	return GK_NONE;
}

static uint64_t untag(const struct py_proc *p, uint64_t v)
{
	return v & ~(uint64_t)p->L.frame.tag_bits;
}

/* The value stack slot 'depth' below the top of a suspended frame. */
static uint64_t stack_peek(struct actx *a, uint64_t frame, const uint8_t *fr,
			   int depth)
{
	uint64_t end = py_frame_stack_end(a->p, frame, fr), v = 0;
	uint64_t slot = end - 8 * (uint64_t)depth;

	if (!end || slot > end || slot < frame + (uint64_t)a->p->L.frame.localsplus ||
	    mem_read_u64(a->p->mem, slot, &v, NULL))
		return 0;
	return untag(a->p, v);
}

/* What a suspended generator awaits (yields from), as _PyGen_yf: 0 when
 * it is not suspended in an await. */
static uint64_t gen_awaited(struct actx *a, const uint8_t *gh, uint64_t frame,
			    const uint8_t *fr)
{
	const struct py_layout *L = &a->p->L;
	int8_t state = 0;

	if (L->gen.frame_state != LAYOUT_NONE)
		state = (int8_t)gh[L->gen.frame_state];
	switch (L->gen.yf_kind) {
	case LAYOUT_YF_NEXT_OPCODE: {
		int32_t lasti;
		uint64_t co_code, code = py_rd64(fr, L->frame.code);
		uint8_t op;

		memcpy(&lasti, fr + L->frame.lasti, sizeof(lasti));
		if (lasti < 0 || py_field(a->p, code, L->code.code, &co_code,
					  NULL) ||
		    !py_ptr_ok(co_code) ||
		    mem_read(a->p->mem, co_code + (uint64_t)L->bytes.data +
			     (uint64_t)lasti * (uint64_t)L->frame.lasti_scale + 2,
			     &op, 1, NULL) ||
		    op != L->gen.yf_opcode)
			return 0;
		break;
	}
	case LAYOUT_YF_RESUME: {
		uint8_t next[2];

		if (state != L->gen.state_suspended ||
		    mem_read(a->p->mem, py_rd64(fr, L->frame.instr_ptr) + 2,
			     next, 2, NULL) ||
		    (next[0] != L->gen.yf_opcode &&
		     next[0] != L->gen.yf_opcode_alt) || next[1] < 2)
			return 0;
		break;
	}
	case LAYOUT_YF_STATE:
		if (state != L->gen.yf_state && state != L->gen.yf_state_alt)
			return 0;
		break;
	default:
		return 0;
	}
	return stack_peek(a, frame, fr, L->gen.yf_slot);
}

/* Innermost frames that say what a task waits for: function, file. */
static const struct {
	const char *function;
	const char *file; /* suffix of the file name */
	int kind;
} waits[] = {
	{ "Lock.acquire", "asyncio/locks.py", SNAP_AWAIT_LOCK },
	{ "Event.wait", "asyncio/locks.py", SNAP_AWAIT_EVENT },
	{ "Condition.wait", "asyncio/locks.py", SNAP_AWAIT_CONDITION },
	{ "Semaphore.acquire", "asyncio/locks.py", SNAP_AWAIT_SEMAPHORE },
	{ "Queue.get", "asyncio/queues.py", SNAP_AWAIT_QUEUE },
	{ "Queue.put", "asyncio/queues.py", SNAP_AWAIT_QUEUE },
	{ "TaskGroup.__aexit__", "asyncio/taskgroups.py", SNAP_AWAIT_TASKGROUP },
	{ "TaskGroup._aexit", "asyncio/taskgroups.py", SNAP_AWAIT_TASKGROUP },
	{ "sleep", "asyncio/tasks.py", SNAP_AWAIT_SLEEP },
};

static int wait_kind(const char *function, const char *file)
{
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
		if (!strcmp(function, waits[i].function) &&
		    str_ends_with(file, waits[i].file))
			return waits[i].kind;
	return SNAP_AWAIT_NONE;
}

/* A pure-Python future's __await__ generator, between the waiting
 * coroutine and the future. */
static bool is_future_await(const char *function, const char *file)
{
	return (!strcmp(function, "Future.__await__") ||
		!strcmp(function, "Future.__iter__")) &&
	       str_ends_with(file, "asyncio/futures.py");
}

struct chain_frame {
	char *function, *filename;
	struct py_location loc;
	uint64_t code, addr;
};

/*
 * Walk the await chain from a task's coroutine, outermost first, into
 * out[] (at most PY_MAX_AWAIT_DEPTH).  Sets a->outer_frame, and from the
 * innermost frame that is not a future's own __await__: a->leaf_kind and
 * a->leaf_self.
 */
static size_t coro_chain(struct actx *a, uint64_t obj, struct chain_frame *out,
			 struct err *e)
{
	struct py_proc *p = a->p;
	const struct py_layout *L = &p->L;
	size_t n = 0, hdr = (size_t)L->frame.localsplus;
	struct addrset seen;
	uint8_t gh[256], fr[512];

	if (hdr > sizeof(fr))
		hdr = sizeof(fr);
	addrset_init(&seen);
	a->outer_frame = 0;
	for (int steps = 0; obj && steps < 2 * PY_MAX_AWAIT_DEPTH &&
	     n < PY_MAX_AWAIT_DEPTH; steps++) {
		int k = gen_kind(a, obj);
		size_t ghsize;
		uint64_t frame, code;
		const struct py_code *c;
		struct py_location loc;
		struct chain_frame *cf;

		if (!addrset_add(&seen, obj)) {
			err_set(e, SS_ECORRUPT, "await chain loops at 0x%llx",
				(unsigned long long)obj);
			break;
		}
		if (k == GK_ASEND) {
			if (py_field(p, obj, L->gen.asend_gen, &obj, e))
				break;
			continue;
		}
		if (k != GK_GEN)
			break;
		/* The generator's head, and (3.11+) its embedded frame. */
		ghsize = L->gen.iframe != LAYOUT_NONE ?
			 (size_t)L->gen.iframe :
			 (size_t)(L->gen.frame > L->gen.qualname ?
				  L->gen.frame : L->gen.qualname) + 8;
		if (ghsize > sizeof(gh) || mem_read(p->mem, obj, gh, ghsize, e))
			break;
		if (L->gen.iframe != LAYOUT_NONE)
			frame = obj + (uint64_t)L->gen.iframe;
		else
			frame = py_rd64(gh, L->gen.frame);
		if (!frame)
			break; /* finished */
		if (!py_ptr_ok(frame) || mem_read(p->mem, frame, fr, hdr, e))
			break;
		code = untag(p, py_rd64(fr, L->frame.code));
		c = py_code_get(p, code, e);
		if (!c)
			break;
		py_code_location(p, c, py_frame_lasti(p, fr, code, c), &loc);
		cf = &out[n++];
		cf->code = code;
		cf->addr = frame;
		cf->loc = loc;
		cf->filename = xstrdup(c->filename);
		cf->function = NULL;
		/* Before 3.11 code objects have no qualified name: the
		 * generator's is the one Python shows. */
		if (L->code.qualname == LAYOUT_NONE && L->gen.qualname != LAYOUT_NONE)
			py_str_read(p, py_rd64(gh, L->gen.qualname),
				    PY_CODE_NAME_MAX,
				    &cf->function, NULL, NULL);
		if (!cf->function)
			cf->function = xstrdup(c->name);
		if (!a->outer_frame)
			a->outer_frame = frame;
		if (!is_future_await(cf->function, cf->filename)) {
			a->leaf_kind = wait_kind(cf->function, cf->filename);
			a->leaf_self = 0;
			if (a->leaf_kind != SNAP_AWAIT_NONE &&
			    !mem_read_u64(p->mem, frame +
					  (uint64_t)L->frame.localsplus,
					  &a->leaf_self, NULL))
				a->leaf_self = untag(p, a->leaf_self);
		}
		obj = gen_awaited(a, gh, frame, fr);
	}
	addrset_release(&seen);
	return n;
}

/* ---- loops: thread and timers ------------------------------------- */

static struct loop_info *loop_info(struct actx *a, uint64_t loop)
{
	struct loop_info *li;
	uint64_t v, tid;

	for (size_t i = 0; i < a->nloops; i++)
		if (a->loops[i].loop == loop)
			return &a->loops[i];
	if (a->nloops >= LOOP_CACHE)
		return NULL;
	li = &a->loops[a->nloops++];
	memset(li, 0, sizeof(*li));
	li->loop = loop;
	/* BaseEventLoop.run_forever() sets _thread_id while it runs. */
	v = attr(a, loop, "_thread_id");
	if (v && !py_long_read_u64(a->p, v, &tid, NULL)) {
		li->has_thread = true;
		li->thread_id = tid;
	}
	return li;
}

static int timer_cmp(const void *x, const void *y)
{
	const struct timer *a = x, *b = y;

	return a->future < b->future ? -1 : a->future > b->future;
}

/* The loop's scheduled TimerHandles: (first argument, when).  Slots are
 * looked up once per handle class. */
static void read_timers(struct actx *a, struct loop_info *li)
{
	struct py_proc *p = a->p;
	uint64_t sched = attr(a, li->loop, "_scheduled"), *items = NULL;
	size_t n = 0;

	li->timers_read = true;
	if (!sched || py_list_items(p, sched, TIMERS_MAX, &items, &n, NULL))
		return;
	li->nscheduled = n;
	li->timers = xmalloc((n + 1) * sizeof(*li->timers));
	for (size_t i = 0; i < n; i++) {
		uint64_t type, args, when, *targs = NULL;
		size_t nargs = 0;
		double w;

		if (py_type_of(p, items[i], &type, NULL))
			continue;
		if (type != a->timer_type) {
			if (py_slot_offset(p, type, "_args", &a->off_args, NULL) ||
			    py_slot_offset(p, type, "_when", &a->off_when, NULL))
				continue;
			a->timer_type = type;
		}
		if (mem_read_u64(p->mem, items[i] + (uint64_t)a->off_when,
				 &when, NULL) ||
		    py_float_read(p, when, &w, NULL))
			continue;
		/* Whatever the handle runs: the earliest one tells when the
		 * loop last took a turn (blocked loops). */
		if (!li->has_earliest || w < li->earliest) {
			li->has_earliest = true;
			li->earliest = w;
		}
		if (mem_read_u64(p->mem, items[i] + (uint64_t)a->off_args,
				 &args, NULL) ||
		    py_tuple_items(p, args, 1, &targs, &nargs, NULL))
			continue;
		if (nargs == 1) {
			li->timers[li->ntimers].future = targs[0];
			li->timers[li->ntimers].when = w;
			li->ntimers++;
		}
		free(targs);
	}
	free(items);
	qsort(li->timers, li->ntimers, sizeof(*li->timers), timer_cmp);
}

static bool sleep_left(struct actx *a, uint64_t loop, uint64_t fut,
		       double *left)
{
	struct loop_info *li = loop ? loop_info(a, loop) : NULL;
	struct timer key = { fut, 0 }, *hit;

	if (!li)
		return false;
	if (!li->timers_read)
		read_timers(a, li);
	hit = li->ntimers ? bsearch(&key, li->timers, li->ntimers,
				    sizeof(key), timer_cmp) : NULL;
	if (!hit)
		return false;
	*left = hit->when - a->now;
	return true;
}

/* A handle's _when if it is a TimerHandle (a plain Handle has none). */
static bool handle_when(struct actx *a, uint64_t h, double *when)
{
	struct py_proc *p = a->p;
	uint64_t type, w;

	if (py_type_of(p, h, &type, NULL) || type == a->plain_handle_type)
		return false;
	if (type != a->ready_timer_type) {
		if (py_slot_offset(p, type, "_when", &a->off_ready_when, NULL)) {
			a->plain_handle_type = type;
			return false;
		}
		a->ready_timer_type = type;
	}
	return !mem_read_u64(p->mem, h + (uint64_t)a->off_ready_when, &w,
			     NULL) && !py_float_read(p, w, when, NULL);
}

/* The objects in the closure of a ready handle's callback (a function),
 * appended to li's ready_refs. */
static void ready_refs(struct actx *a, struct loop_info *li, uint64_t h)
{
	struct py_proc *p = a->p;
	uint64_t cb = attr(a, h, "_callback"), closure, *cells = NULL;
	char tn[TNAME];
	size_t n = 0;

	if (!cb || py_type_name(p, cb, tn, sizeof(tn), NULL) ||
	    strcmp(tn, "function") ||
	    py_field(p, cb, p->L.container.function_closure, &closure, NULL) ||
	    !closure || py_tuple_items(p, closure, 16, &cells, &n, NULL))
		return;
	for (size_t i = 0; i < n && li->nrefs < READY_REFS_MAX; i++) {
		uint64_t obj;

		if (!py_field(p, cells[i], p->L.container.cell_ref, &obj, NULL) &&
		    py_ptr_ok(obj)) {
			li->refs = xrealloc(li->refs, (li->nrefs + 1) *
					    sizeof(*li->refs));
			li->refs[li->nrefs++] = obj;
		}
	}
	free(cells);
}

/*
 * A loop's _ready deque: its length (a deque's ob_size), and the earliest
 * _when of the TimerHandles in its first READY_MAX items - timers the last
 * turn found due and that have not run yet, so still overdue.  The
 * deque's layout (Modules/_collectionsmodule.c: after the var-object head
 * leftblock, rightblock, leftindex, rightindex; a block is leftlink,
 * 64 items, rightlink) is the same in every version that has asyncio
 * tasks read (3.8+).
 */
static void read_ready(struct actx *a, struct loop_info *li)
{
	struct py_proc *p = a->p;
	uint64_t ready = attr(a, li->loop, "_ready"), head[4], block;
	uint64_t off = (uint64_t)p->L.object.ob_size;
	char tn[TNAME];
	int64_t n, left;

	if (!ready || py_type_name(p, ready, tn, sizeof(tn), NULL) ||
	    strcmp(tn, "collections.deque") ||
	    mem_read(p->mem, ready + off, &n, sizeof(n), NULL) || n < 0 ||
	    n > (int64_t)TIMERS_MAX ||
	    mem_read(p->mem, ready + off + 8, head, sizeof(head), NULL))
		return;
	li->nready = (size_t)n;
	block = head[0];
	left = (int64_t)head[2];
	if (left < 0 || left >= DEQUE_BLOCKLEN)
		return;
	for (int64_t i = 0; i < n && i < READY_MAX;) {
		uint64_t items[DEQUE_BLOCKLEN + 1];

		if (!py_ptr_ok(block) ||
		    mem_read(p->mem, block + 8, items, sizeof(items), NULL))
			return;
		for (int64_t k = left; k < DEQUE_BLOCKLEN && i < n; k++, i++) {
			double w;

			if (handle_when(a, items[k], &w)) {
				if (!li->has_earliest || w < li->earliest) {
					li->has_earliest = true;
					li->earliest = w;
				}
			} else {
				ready_refs(a, li, items[k]);
			}
		}
		left = 0;
		block = items[DEQUE_BLOCKLEN]; /* rightlink */
	}
}

/* The loops the tasks run on, into s->loops: thread, ready callbacks,
 * timers and how soon the earliest is due. */
static void add_loops(struct actx *a)
{
	for (size_t i = 0; i < a->s->ntasks; i++) {
		uint64_t loop = a->s->tasks[i].loop;
		struct loop_info *li;
		struct snap_loop *sl;
		bool dup = false;

		for (size_t j = 0; j < a->s->nloops && !dup; j++)
			dup = a->s->loops[j].id == loop;
		if (!loop || dup || !(li = loop_info(a, loop)))
			continue;
		if (!li->timers_read)
			read_timers(a, li);
		read_ready(a, li);
		sl = snap_add_loop(a->s);
		sl->id = loop;
		sl->has_thread = li->has_thread;
		sl->thread_id = li->thread_id;
		sl->nready = li->nready;
		sl->ready_refs = li->refs;
		sl->nready_refs = li->nrefs;
		li->refs = NULL;
		li->nrefs = 0;
		sl->ntimers = li->nscheduled;
		sl->has_next_timer = li->has_earliest;
		sl->next_timer = li->earliest - a->now;
	}
}

/* ---- what a task waits for ---------------------------------------- */

static void await_add_task(struct snap_await *w, uint64_t task)
{
	w->tasks = xrealloc(w->tasks, (w->ntasks + 1) * sizeof(*w->tasks));
	w->tasks[w->ntasks++] = task;
}

/* Pending tasks among items[] into w->tasks. */
static void add_pending_tasks(struct actx *a, struct snap_await *w,
			      const uint64_t *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int k = classify(a, items[i]);
		struct fut f;

		if (is_task_kind(k) && !fut_read(a, items[i], k, &f, NULL) &&
		    f.state == FUT_PENDING)
			await_add_task(w, items[i]);
	}
}

static void describe_wait(struct actx *a, struct snap_task *t,
			  const struct fut *task)
{
	struct snap_await *w = &t->awaiting;
	uint64_t *items = NULL, list;
	size_t n = 0;
	int k;

	if (!task->waiter)
		return;
	w->future = task->waiter;
	w->object = task->waiter;
	k = classify(a, task->waiter);
	switch (a->leaf_kind) {
	case SNAP_AWAIT_NONE:
		break;
	case SNAP_AWAIT_SLEEP:
		w->kind = SNAP_AWAIT_SLEEP;
		w->has_delay = sleep_left(a, task->loop, task->waiter,
					  &w->delay);
		return;
	case SNAP_AWAIT_TASKGROUP:
		w->kind = SNAP_AWAIT_TASKGROUP;
		w->object = a->leaf_self;
		list = attr(a, a->leaf_self, "_tasks");
		if (list && !py_set_items(a->p, list, CHILDREN_MAX, &items, &n,
					  NULL))
			add_pending_tasks(a, w, items, n);
		free(items);
		return;
	default:
		if (!a->leaf_self)
			break;
		w->kind = a->leaf_kind;
		w->object = a->leaf_self;
		return;
	}
	if (is_task_kind(k)) {
		w->kind = SNAP_AWAIT_TASK;
		await_add_task(w, task->waiter);
	} else if (k & FK_GATHERING) {
		w->kind = SNAP_AWAIT_GATHER;
		list = attr(a, task->waiter, "_children");
		if (list && !py_list_items(a->p, list, CHILDREN_MAX, &items, &n,
					   NULL))
			add_pending_tasks(a, w, items, n);
		free(items);
	} else {
		w->kind = SNAP_AWAIT_FUTURE;
	}
}

/* ---- who awaits a task -------------------------------------------- */

struct idlist {
	uint64_t *v;
	size_t n, cap;
};

static void idlist_add(struct idlist *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = id;
}

static void awaiters_of(struct actx *a, const struct fut *f, int depth,
			struct idlist *out, struct addrset *visited);

/* A future found in a callback: its own awaiters await through it. */
static void awaiters_via(struct actx *a, uint64_t fut, int depth,
			 struct idlist *out, struct addrset *visited)
{
	int k = classify(a, fut);
	struct fut f;

	if (is_task_kind(k)) {
		/* A callback chain leading back to the task itself (shield's
		 * outer future wakes its inner task) is no awaiter. */
		if (addrset_add(visited, fut))
			idlist_add(out, fut);
		return;
	}
	if (!is_future_kind(k) || depth >= AWAITER_DEPTH ||
	    !addrset_add(visited, fut) || fut_read(a, fut, k, &f, NULL))
		return;
	awaiters_of(a, &f, depth + 1, out, visited);
}

/* The task or future a done-callback wakes up, or 0. */
static uint64_t callback_target(struct actx *a, uint64_t cb, uint64_t self)
{
	struct py_proc *p = a->p;
	const struct py_layout *L = &p->L;
	char name[TNAME];
	uint64_t v = 0, type, closure, *cells = NULL;
	size_t n = 0;

	if (py_type_name(p, cb, name, sizeof(name), NULL))
		return 0;
	if (!strcmp(name, "builtin_function_or_method")) {
		/* 3.10+: a C task's bound task_wakeup */
		py_field(p, cb, L->container.cfunction_self, &v, NULL);
		return is_task_kind(classify(a, v)) ? v : 0;
	}
	if (!strcmp(name, "TaskWakeupMethWrapper")) { /* 3.8/3.9 */
		py_field(p, cb, L->asyncio.wakeup_task, &v, NULL);
		return v;
	}
	if (!strcmp(name, "method")) {
		/* a Python task's __wakeup, or TaskGroup._on_task_done */
		if (py_field(p, cb, L->container.method_self, &v, NULL))
			return 0;
		if (is_task_kind(classify(a, v)))
			return v;
		if (!py_type_of(p, v, &type, NULL) &&
		    py_type_inherits(p, type, "TaskGroup", NULL) == 1)
			return attr(a, v, "_parent_task");
		return 0;
	}
	if (!strcmp(name, "functools.partial")) {
		/* wait_for() before 3.12: partial(_release_waiter, waiter) */
		if (py_field(p, cb, L->container.partial_args, &closure, NULL) ||
		    py_tuple_items(p, closure, 8, &cells, &n, NULL))
			return 0;
		for (size_t i = 0; i < n && !v; i++)
			if (cells[i] != self && is_future_kind(classify(a, cells[i])))
				v = cells[i];
		free(cells);
		return v;
	}
	if (strcmp(name, "function"))
		return 0;
	/* gather's _done_callback, shield's and wait's closures: a cell
	 * holds the outer future. */
	if (py_field(p, cb, L->container.function_closure, &closure, NULL) ||
	    !closure || py_tuple_items(p, closure, 64, &cells, &n, NULL))
		return 0;
	for (size_t i = 0; i < n && !v; i++) {
		uint64_t obj;

		if (!py_field(p, cells[i], L->container.cell_ref, &obj, NULL) &&
		    obj != self && is_future_kind(classify(a, obj)))
			v = obj;
	}
	free(cells);
	return v;
}

static void awaiters_of(struct actx *a, const struct fut *f, int depth,
			struct idlist *out, struct addrset *visited)
{
	struct py_proc *p = a->p;
	uint64_t *items = NULL;
	size_t n = 0;

	if (a->p->L.asyncio.fut_awaited_by != LAYOUT_NONE) {
		/* 3.14+: the runtime keeps it (a task, or a set of them). */
		if (!f->awaited_by)
			return;
		if (f->awaited_by_is_set) {
			if (py_set_items(p, f->awaited_by, CHILDREN_MAX, &items,
					 &n, NULL))
				return;
			for (size_t i = 0; i < n; i++)
				awaiters_via(a, items[i], depth, out, visited);
			free(items);
		} else {
			awaiters_via(a, f->awaited_by, depth, out, visited);
		}
		return;
	}
	if (f->callback0) {
		uint64_t t = callback_target(a, f->callback0, f->addr);

		if (t)
			awaiters_via(a, t, depth, out, visited);
	}
	if (!f->callbacks ||
	    py_list_items(p, f->callbacks, CALLBACKS_MAX, &items, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t *pair = NULL, t;
		size_t np = 0;

		/* (callback, context) tuples */
		if (py_tuple_items(p, items[i], 2, &pair, &np, NULL) || !np) {
			free(pair);
			continue;
		}
		t = callback_target(a, pair[0], f->addr);
		if (t)
			awaiters_via(a, t, depth, out, visited);
		free(pair);
	}
	free(items);
}

/* ---- bridges to concurrent.futures -------------------------------- */

/* A concurrent.futures.Future?  Its class is named "Future" like
 * asyncio's Python one (classify() says FK_PYFUT), but it has the
 * _condition that result() waits on. */
static bool is_cfuture(struct actx *a, uint64_t obj)
{
	char tn[TNAME];

	return py_ptr_ok(obj) &&
	       !py_type_name(a->p, obj, tn, sizeof(tn), NULL) &&
	       !strcmp(tn, "Future") && attr(a, obj, "_condition");
}

/* The concurrent.futures.Future a cell of the closure of callback cb
 * holds, or 0. */
static uint64_t closure_cfuture(struct actx *a, uint64_t cb)
{
	struct py_proc *p = a->p;
	uint64_t closure, *cells = NULL, v = 0;
	char tn[TNAME];
	size_t n = 0;

	if (py_type_name(p, cb, tn, sizeof(tn), NULL) ||
	    strcmp(tn, "function") ||
	    py_field(p, cb, p->L.container.function_closure, &closure, NULL) ||
	    !closure || py_tuple_items(p, closure, 16, &cells, &n, NULL))
		return 0;
	for (size_t i = 0; i < n && !v; i++) {
		uint64_t obj;

		if (!py_field(p, cells[i], p->L.container.cell_ref, &obj, NULL) &&
		    is_cfuture(a, obj))
			v = obj;
	}
	free(cells);
	return v;
}

/*
 * The concurrent.futures.Future that asyncio.futures._chain_future() tied
 * f to, or 0: its done callbacks _call_check_cancel (f the destination:
 * wrap_future(), so run_in_executor() and to_thread()) and
 * _call_set_state (f the source: the task of run_coroutine_threadsafe())
 * are closures whose cells hold the other future.
 */
static uint64_t chained_cfuture(struct actx *a, const struct fut *f)
{
	uint64_t *items = NULL, v = 0;
	size_t n = 0;

	if (f->callback0)
		v = closure_cfuture(a, f->callback0);
	if (v || !f->callbacks ||
	    py_list_items(a->p, f->callbacks, CALLBACKS_MAX, &items, &n, NULL))
		return v;
	for (size_t i = 0; i < n && !v; i++) {
		uint64_t *pair = NULL;
		size_t np = 0;

		/* (callback, context) tuples */
		if (!py_tuple_items(a->p, items[i], 2, &pair, &np, NULL) && np)
			v = closure_cfuture(a, pair[0]);
		free(pair);
	}
	free(items);
	return v;
}

/* ---- finding the tasks -------------------------------------------- */

static void add_cand(struct actx *a, uint64_t task, int64_t interp_id,
		     int64_t thread)
{
	if (!py_ptr_ok(task) || a->ncands >= PY_MAX_TASKS ||
	    !addrset_add(&a->seen, task))
		return;
	if (a->ncands == a->cands_cap) {
		size_t cap = a->cands_cap;

		a->cands = xgrow(a->cands, &cap, a->ncands + 1,
				 sizeof(*a->cands));
		a->cand_interp = xrealloc(a->cand_interp,
					  cap * sizeof(*a->cand_interp));
		a->cand_thread = xrealloc(a->cand_thread,
					  cap * sizeof(*a->cand_thread));
		a->cands_cap = cap;
	}
	a->cand_interp[a->ncands] = interp_id;
	a->cand_thread[a->ncands] = thread;
	a->cands[a->ncands++] = task;
}

static void add_running(struct actx *a, uint64_t task)
{
	if (!py_ptr_ok(task))
		return;
	a->running = xgrow(a->running, &a->running_cap, a->nrunning + 1,
			   sizeof(*a->running));
	a->running[a->nrunning++] = task;
}

/* Tasks of a WeakSet (3.8-3.13 all, 3.14+ the non-native ones). */
static void weakset_tasks(struct actx *a, uint64_t wset, int64_t interp_id)
{
	uint64_t data, *refs = NULL;
	size_t n = 0;

	if (!wset || !(data = attr(a, wset, "data")) ||
	    py_set_items(a->p, data, PY_MAX_TASKS, &refs, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t obj;

		if (!py_weakref_target(a->p, refs[i], &obj, NULL) && obj)
			add_cand(a, obj, interp_id, -1);
	}
	free(refs);
}

static int collect_current(struct py_proc *p, uint64_t key, uint64_t value,
			   void *arg)
{
	(void)p;
	(void)key;
	add_running(arg, value);
	return 0;
}

/* The registries kept in the module asyncio.tasks of one interpreter. */
static void module_tasks(struct actx *a, uint64_t interp, int64_t interp_id)
{
	struct py_proc *p = a->p;
	uint64_t mod, v, *items = NULL;
	size_t n = 0;

	if (py_module_get(p, interp, "asyncio.tasks", &mod, NULL))
		return; /* asyncio not imported */
	if (!py_module_attr(p, mod, "_all_tasks", &v, NULL))
		weakset_tasks(a, v, interp_id);
	if (!py_module_attr(p, mod, "_scheduled_tasks", &v, NULL))
		weakset_tasks(a, v, interp_id);
	if (!py_module_attr(p, mod, "_eager_tasks", &v, NULL) &&
	    !py_set_items(p, v, PY_MAX_TASKS, &items, &n, NULL)) {
		for (size_t i = 0; i < n; i++)
			add_cand(a, items[i], interp_id, -1);
		free(items);
	}
	if (!py_module_attr(p, mod, "_current_tasks", &v, NULL))
		py_dict_each(p, v, 4096, collect_current, a, NULL);
}

/* 3.14+: a circular list of native tasks rooted at 'head'. */
static void llist_tasks(struct actx *a, uint64_t head, int64_t interp_id,
			int64_t thread)
{
	const struct py_layout *L = &a->p->L;
	struct addrset nodes;
	uint64_t node;

	if (mem_read_u64(a->p->mem, head, &node, NULL))
		return;
	/* A list that loops without coming back to its head (torn, or
	 * garbage) ends at the first node seen twice, not after
	 * PY_MAX_TASKS reads for each thread. */
	addrset_init(&nodes);
	for (size_t i = 0; node != head && i < PY_MAX_TASKS; i++) {
		if (!py_ptr_ok(node) || !addrset_add(&nodes, node))
			break;
		add_cand(a, node - (uint64_t)L->asyncio.task_node, interp_id,
			 thread);
		if (mem_read_u64(a->p->mem, node, &node, NULL))
			break;
	}
	addrset_release(&nodes);
}

static void find_tasks(struct actx *a)
{
	struct py_proc *p = a->p;
	const struct py_layout *L = &p->L;
	uint64_t interps[PY_MAX_INTERPS];
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (py_interp_list(p, interps, &n, &e)) {
		note(a, &e);
		return;
	}
	for (size_t i = n; i-- > 0;) {
		int64_t id = (int64_t)(n - 1 - i);

		if (L->interp.id != LAYOUT_NONE)
			mem_read(p->mem, interps[i] + (uint64_t)L->interp.id,
				 &id, sizeof(id), NULL);
		if (L->asyncio.interp_tasks_head != LAYOUT_NONE &&
		    L->asyncio.task_node != LAYOUT_NONE)
			llist_tasks(a, interps[i] +
				    (uint64_t)L->asyncio.interp_tasks_head, id,
				    -1);
		module_tasks(a, interps[i], id);
	}
	if (L->asyncio.ts_tasks_head == LAYOUT_NONE ||
	    L->asyncio.task_node == LAYOUT_NONE)
		return;
	for (size_t i = 0; i < a->s->nthreads; i++) {
		const struct snap_thread *t = &a->s->threads[i];
		uint64_t task;

		if (!t->tstate)
			continue;
		llist_tasks(a, t->tstate + (uint64_t)L->asyncio.ts_tasks_head,
			    t->interp_id, (int64_t)i);
		if (!mem_read_u64(p->mem, t->tstate +
				  (uint64_t)L->asyncio.ts_running_task, &task,
				  NULL))
			add_running(a, task);
	}
}

/* ---- one task ----------------------------------------------------- */

static bool is_running(const struct actx *a, uint64_t task)
{
	for (size_t i = 0; i < a->nrunning; i++)
		if (a->running[i] == task)
			return true;
	return false;
}

static void copy_frame(struct snap_frame *dst, const struct snap_frame *src)
{
	dst->function = xstrdup(src->function);
	dst->filename = xstrdup(src->filename);
	dst->line = src->line;
	dst->end_line = src->end_line;
	dst->column = src->column;
	dst->end_column = src->end_column;
	dst->code = src->code;
	dst->addr = src->addr;
}

/* A running task's coroutine frame is on its thread's stack: its stack
 * is that thread's frames down to (and including) it.  True if found. */
static bool running_stack(struct actx *a, struct snap_task *t)
{
	for (size_t i = 0; i < a->s->nthreads && a->outer_frame; i++) {
		const struct snap_thread *th = &a->s->threads[i];

		for (size_t j = 0; j < th->nframes; j++) {
			if (th->frames[j].addr != a->outer_frame)
				continue;
			for (size_t k = 0; k <= j; k++)
				copy_frame(snap_task_add_frame(t),
					   &th->frames[k]);
			t->has_thread = true;
			t->thread_id = th->thread_id;
			return true;
		}
	}
	return false;
}

static void read_task(struct actx *a, size_t ci)
{
	uint64_t addr = a->cands[ci];
	struct chain_frame chain[PY_MAX_AWAIT_DEPTH];
	struct snap_task *t;
	struct loop_info *li;
	struct addrset visited;
	struct idlist by = { 0 };
	struct fut f;
	struct err e;
	size_t n;
	int k = classify(a, addr);

	err_clear(&e);
	if (!is_task_kind(k) || fut_read(a, addr, k, &f, &e) ||
	    f.state != FUT_PENDING)
		return; /* not a task, or done: not shown */
	t = snap_add_task(a->s);
	t->id = addr;
	t->loop = f.loop;
	t->interp_id = a->cand_interp[ci];
	t->name = task_name(a, f.name);
	a->leaf_kind = SNAP_AWAIT_NONE;
	a->leaf_self = 0;
	n = coro_chain(a, f.coro, chain, &e);
	if (e.code)
		t->error = xstrdup(e.msg[0] ? e.msg : err_describe(e.code));
	if (is_running(a, addr) && running_stack(a, t)) {
		t->state = SNAP_TASK_RUNNING;
	} else {
		t->state = f.waiter ? SNAP_TASK_WAITING : SNAP_TASK_SCHEDULED;
		for (size_t i = n; i-- > 0;) {
			struct snap_frame *sf = snap_task_add_frame(t);

			sf->function = chain[i].function;
			sf->filename = chain[i].filename;
			py_frame_set_location(a->p, &chain[i].loc, sf);
			sf->code = chain[i].code;
			sf->addr = chain[i].addr;
			chain[i].function = chain[i].filename = NULL;
		}
		describe_wait(a, t, &f);
	}
	if (t->awaiting.kind == SNAP_AWAIT_FUTURE) {
		uint64_t af = t->awaiting.future;
		int ak = classify(a, af);
		struct fut aw;

		if (is_future_kind(ak) && !fut_read(a, af, ak, &aw, NULL))
			t->awaiting.cfuture = chained_cfuture(a, &aw);
	}
	t->sets_future = chained_cfuture(a, &f);
	for (size_t i = 0; i < n; i++) {
		free(chain[i].function);
		free(chain[i].filename);
	}
	li = f.loop ? loop_info(a, f.loop) : NULL;
	if (!t->has_thread && li && li->has_thread) {
		t->has_thread = true;
		t->thread_id = li->thread_id;
	}
	if (!t->has_thread && a->cand_thread[ci] >= 0) {
		t->has_thread = true;
		t->thread_id = a->s->threads[a->cand_thread[ci]].thread_id;
	}
	addrset_init(&visited);
	addrset_add(&visited, addr);
	awaiters_of(a, &f, 0, &by, &visited);
	addrset_release(&visited);
	t->awaited_by = by.v;
	t->nawaited_by = by.n;
}

/* ---- order -------------------------------------------------------- */

/* "Task-2" before "Task-10": digit runs compare as numbers. */
static int natural_cmp(const char *x, const char *y)
{
	while (*x && *y) {
		if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
			unsigned long long u = strtoull(x, (char **)&x, 10);
			unsigned long long v = strtoull(y, (char **)&y, 10);

			if (u != v)
				return u < v ? -1 : 1;
			continue;
		}
		if (*x != *y)
			return (unsigned char)*x - (unsigned char)*y;
		x++;
		y++;
	}
	return (unsigned char)*x - (unsigned char)*y;
}

static const struct snapshot *sort_snap;

static size_t thread_pos(const struct snap_task *t)
{
	if (!t->has_thread)
		return (size_t)-1;
	for (size_t i = 0; i < sort_snap->nthreads; i++)
		if (sort_snap->threads[i].thread_id == t->thread_id)
			return i;
	return (size_t)-2;
}

static int task_cmp(const void *x, const void *y)
{
	const struct snap_task *a = x, *b = y;
	size_t ta = thread_pos(a), tb = thread_pos(b);
	int c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (a->loop != b->loop)
		return a->loop < b->loop ? -1 : 1;
	c = natural_cmp(a->name, b->name);
	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* ---- entry points ------------------------------------------------- */

/* Does a field of 'width' bytes at offset 'off' fit in a struct of 'size'? */
static bool field_fits(uint64_t off, uint64_t width, uint64_t size)
{
	return off <= size && width <= size - off;
}

bool py_asyncio_debug_apply(struct py_layout *L,
			    const uint64_t w[ASYNCIO_DEBUG_WORDS])
{
	/* task{size, name, awaited_by, is_task, awaited_by_is_set, coro,
	 * node}, interp{size, tasks_head}, thread{size, running_loop,
	 * running_task, tasks_head}.  The words come from the target:
	 * every field must lie whole inside its struct, and a task inside
	 * the buffer read_future() reads it into. */
	uint64_t tsize = w[0], isize = w[7], ssize = w[9];

	if (tsize < 64 || tsize > TASK_MAX_SIZE || isize > (1u << 24) ||
	    ssize > 65536)
		return false;
	if (!field_fits(w[1], 8, tsize) || !field_fits(w[2], 8, tsize) ||
	    !field_fits(w[3], 1, tsize) || !field_fits(w[4], 1, tsize) ||
	    !field_fits(w[5], 8, tsize) || !field_fits(w[6], 16, tsize) ||
	    !field_fits(w[8], 16, isize) || !field_fits(w[10], 8, ssize) ||
	    !field_fits(w[11], 8, ssize) || !field_fits(w[12], 16, ssize))
		return false;
	L->asyncio.task_size = (int)tsize;
	L->asyncio.task_name = (int)w[1];
	L->asyncio.fut_awaited_by = (int)w[2];
	L->asyncio.fut_is_task = (int)w[3];
	L->asyncio.fut_awaited_by_is_set = (int)w[4];
	L->asyncio.task_coro = (int)w[5];
	L->asyncio.task_node = (int)w[6];
	L->asyncio.interp_tasks_head = (int)w[8];
	L->asyncio.ts_running_loop = (int)w[10];
	L->asyncio.ts_running_task = (int)w[11];
	L->asyncio.ts_tasks_head = (int)w[12];
	return true;
}

void py_read_tasks(struct py_proc *p, struct snapshot *s)
{
	struct actx a;
	struct timespec ts;

	if (p->L.asyncio.task_size == LAYOUT_NONE)
		return; /* before 3.8: not read */
	memset(&a, 0, sizeof(a));
	a.p = p;
	a.s = s;
	err_clear(&a.err);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	a.now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	addrset_init(&a.seen);
	find_tasks(&a);
	for (size_t i = 0; i < a.ncands; i++)
		read_task(&a, i);
	sort_snap = s;
	if (s->ntasks > 1)
		qsort(s->tasks, s->ntasks, sizeof(*s->tasks), task_cmp);
	sort_snap = NULL;
	snap_find_cycles(s);
	add_loops(&a);
	if (a.err.code)
		s->tasks_note = xstrdup(a.err.msg[0] ? a.err.msg :
					err_describe(a.err.code));
	for (size_t i = 0; i < a.nloops; i++) {
		free(a.loops[i].timers);
		free(a.loops[i].refs);
	}
	addrset_release(&a.seen);
	free(a.cands);
	free(a.cand_interp);
	free(a.cand_thread);
	free(a.running);
}

/* ---- record --tasks ----------------------------------------------- */

#define TRACER_REFRESH_NS 1000000000ull /* caches dropped after a second */
#define TRACER_RETRY_NS 100000000ull    /* asyncio looked for again */

struct py_task_tracer {
	struct actx a;            /* its type and loop caches */
	uint64_t refreshed_ns;    /* when they were last dropped */
	bool refreshed;
	uint64_t current[PY_MAX_INTERPS]; /* _current_tasks, 0: none */
	size_t ncurrent;
	/* this sample's (loop, task) pairs of _current_tasks */
	uint64_t pair_loop[PY_MAX_TASK_THREADS];
	uint64_t pair_task[PY_MAX_TASK_THREADS];
	size_t npairs;
	struct task_chain chains[PY_MAX_TASK_THREADS];
	size_t nchains;
	struct task_link links[PY_MAX_TASK_THREADS][PY_MAX_TASK_CHAIN];
};

struct py_task_tracer *py_task_tracer_new(struct py_proc *p)
{
	struct py_task_tracer *tr;

	if (p->L.asyncio.task_size == LAYOUT_NONE)
		return NULL;
	tr = xcalloc(1, sizeof(*tr));
	tr->a.p = p;
	err_clear(&tr->a.err);
	addrset_init(&tr->a.seen);
	return tr;
}

static void link_release(struct task_link *l)
{
	for (size_t i = 0; i < l->nframes; i++) {
		free(l->frames[i].function);
		free(l->frames[i].filename);
	}
	free(l->frames);
	free(l->name);
	memset(l, 0, sizeof(*l));
}

static void chains_release(struct py_task_tracer *tr)
{
	for (size_t i = 0; i < tr->nchains; i++)
		for (size_t k = 0; k < tr->chains[i].nlinks; k++)
			link_release(&tr->chains[i].links[k]);
	tr->nchains = 0;
}

void py_task_tracer_free(struct py_task_tracer *tr)
{
	if (!tr)
		return;
	chains_release(tr);
	addrset_release(&tr->a.seen);
	free(tr);
}

/* Addresses are reused over a long recording: what is cached by address
 * (types, loops' threads, the module's dict) is read again each second. */
static void tracer_refresh(struct py_task_tracer *tr, uint64_t now_ns)
{
	struct py_proc *p = tr->a.p;
	uint64_t interps[PY_MAX_INTERPS];
	size_t n = 0;

	/* A program that imports asyncio late (or is still starting) is
	 * looked at again sooner. */
	if (tr->refreshed && now_ns - tr->refreshed_ns <
	    (tr->ncurrent ? TRACER_REFRESH_NS : TRACER_RETRY_NS))
		return;
	tr->refreshed = true;
	tr->refreshed_ns = now_ns;
	memset(tr->a.types, 0, sizeof(tr->a.types));
	tr->a.nloops = 0;
	tr->ncurrent = 0;
	if (py_interp_list(p, interps, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t mod, v;

		if (!py_module_get(p, interps[i], "asyncio.tasks", &mod, NULL) &&
		    !py_module_attr(p, mod, "_current_tasks", &v, NULL) &&
		    py_ptr_ok(v))
			tr->current[tr->ncurrent++] = v;
	}
}

static int collect_pair(struct py_proc *p, uint64_t key, uint64_t value,
			void *arg)
{
	struct py_task_tracer *tr = arg;

	(void)p;
	if (tr->npairs >= PY_MAX_TASK_THREADS)
		return 1;
	tr->pair_loop[tr->npairs] = key;
	tr->pair_task[tr->npairs++] = value;
	return 0;
}

/* The task thread t runs now, or 0. */
static uint64_t running_task_of(struct py_task_tracer *tr,
				const struct sample_thread *t)
{
	struct actx *a = &tr->a;
	const struct py_layout *L = &a->p->L;
	uint64_t task = 0;

	if (L->asyncio.ts_running_task != LAYOUT_NONE && t->tstate &&
	    !mem_read_u64(a->p->mem, t->tstate +
			  (uint64_t)L->asyncio.ts_running_task, &task, NULL) &&
	    py_ptr_ok(task))
		return task;
	for (size_t i = 0; i < tr->npairs; i++) {
		struct loop_info *li = loop_info(a, tr->pair_loop[i]);

		if (li && li->has_thread && li->thread_id == t->thread_id)
			return tr->pair_task[i];
	}
	return 0;
}

/* Task addr into l: its name and its coroutine's frames (only the
 * outermost with only_first).  False if it is not a task that can be
 * read. */
static bool trace_link(struct py_task_tracer *tr, uint64_t addr,
		       bool only_first, struct fut *f, struct task_link *l)
{
	struct actx *a = &tr->a;
	struct chain_frame chain[PY_MAX_AWAIT_DEPTH];
	int k = classify(a, addr);
	size_t n;

	if (!is_task_kind(k) || fut_read(a, addr, k, f, NULL))
		return false;
	n = coro_chain(a, f->coro, chain, NULL);
	l->name = task_name(a, f->name);
	l->frames = xcalloc(n ? n : 1, sizeof(*l->frames));
	for (size_t i = 0; i < n; i++) {
		const struct py_code *c = py_code_get(a->p, chain[i].code, NULL);
		struct task_frame *tf;

		if (c && (!only_first || i == 0)) {
			tf = &l->frames[l->nframes++];
			tf->function = xstrdup(c->name);
			tf->filename = xstrdup(c->filename);
			tf->line = chain[i].loc.line;
			tf->first_line = c->firstlineno;
		}
		free(chain[i].function);
		free(chain[i].filename);
	}
	return true;
}

/* The chain of tasks awaiting task, outermost first, into c. */
static void trace_chain(struct py_task_tracer *tr, uint64_t task,
			struct task_chain *c)
{
	struct actx *a = &tr->a;
	struct task_link *links = c->links;
	struct addrset chain;
	struct fut f;
	size_t n = 0;

	addrset_init(&chain);
	addrset_add(&chain, task);
	if (trace_link(tr, task, true, &f, &links[n]))
		n++;
	while (n && n < PY_MAX_TASK_CHAIN) {
		struct idlist by = { 0 };
		struct addrset visited;
		uint64_t next;

		addrset_init(&visited);
		addrset_add(&visited, f.addr);
		awaiters_of(a, &f, 0, &by, &visited);
		addrset_release(&visited);
		next = by.n ? by.v[0] : 0;
		free(by.v);
		if (!next)
			break;
		/* An await cycle comes back to a task of the chain. */
		if (!addrset_add(&chain, next) ||
		    !trace_link(tr, next, false, &f, &links[n]))
			break;
		n++;
	}
	addrset_release(&chain);
	/* innermost (the running task) first so far: turn it round */
	for (size_t i = 0; i < n / 2; i++) {
		struct task_link tmp = links[i];

		links[i] = links[n - 1 - i];
		links[n - 1 - i] = tmp;
	}
	c->nlinks = n;
}

void py_task_tracer_take(struct py_task_tracer *tr, const struct sample *s,
			 uint64_t now_ns, const struct task_chain **out,
			 size_t *n)
{
	chains_release(tr);
	tracer_refresh(tr, now_ns);
	tr->npairs = 0;
	for (size_t i = 0; i < tr->ncurrent; i++)
		py_dict_each(tr->a.p, tr->current[i], PY_MAX_TASK_THREADS,
			     collect_pair, tr, NULL);
	for (size_t i = 0; i < s->nthreads &&
	     tr->nchains < PY_MAX_TASK_THREADS; i++) {
		struct task_chain *c = &tr->chains[tr->nchains];
		uint64_t task = running_task_of(tr, &s->threads[i]);

		if (!task)
			continue;
		memset(c, 0, sizeof(*c));
		c->thread_id = s->threads[i].thread_id;
		c->links = tr->links[tr->nchains];
		trace_chain(tr, task, c);
		if (c->nlinks)
			tr->nchains++;
	}
	*out = tr->chains;
	*n = tr->nchains;
}
