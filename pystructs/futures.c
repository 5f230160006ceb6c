/*
 * futures.c - concurrent.futures from the target's frames: the Future a
 * thread waits for in result(), the work item a ThreadPoolExecutor
 * worker runs, and the items still queued in each executor.
 *
 * Frames (concurrent/futures/_base.py and thread.py, 3.7+):
 *   - Future.result(self, timeout): 'self' is the future waited for, when
 *     every frame inside it is threading's (Condition.wait);
 *   - wait(fs, timeout, return_when): its 'not_done' set, all of them
 *     needed unless return_when is FIRST_COMPLETED; as_completed(fs,
 *     timeout): its 'pending' set, one is enough;
 *   - _WorkItem.run(self, ...): 'self' is the item the worker runs, its
 *     'future' attribute the future, its 'fn' (3.14+: 'task'[0]) the
 *     callable;
 *   - _worker(executor_reference, ...): the weak reference to the pool.
 * The queue: ThreadPoolExecutor._work_queue is a queue.SimpleQueue, a C
 * object whose layout (Modules/_queuemodule.c) is read as follows: 3.7 to
 * 3.12 keep a list and the position of its first item (after the object
 * head: lock, locked, lst, lst_pos); 3.13+ a ring buffer (after the head
 * and has_threads_waiting: put_idx, get_idx, items, items_cap,
 * num_items).  Python 3.6's pool used a queue.Queue: not read.
 */
#include <config.h>

#include "pystructs/futures.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/locals.h"
#include "pystructs/object.h"

#include <stdlib.h>
#include <string.h>

#define FRAMES_LOOKED 64          /* innermost frames looked at */
#define QUEUE_MAX 4096            /* queued items read per executor */
#define EXECUTORS_MAX 64
#define RING_CAP_MAX (1u << 24)

enum { V_SELF = 0, V_TIMEOUT, V_EXECUTOR_REF, V_NOT_DONE, V_PENDING,
       V_RETURN_WHEN, V_COUNT };

static const char *const var_names[] = { "self", "timeout",
					 "executor_reference", "not_done",
					 "pending", "return_when", NULL };

/* The value of a variable of a frame (0: unbound or no such name). */
static uint64_t frame_var(struct py_proc *p, const struct snap_frame *f,
			  int var)
{
	struct py_var_slot slots[V_COUNT];

	py_code_var_slots(p, f->code, var_names, slots);
	return py_frame_slot_value(p, f->addr, &slots[var]);
}

static bool frame_is(const struct snap_frame *f, const char *file,
		     const char *qualname, const char *name)
{
	return f->filename && f->function &&
	       str_ends_with(f->filename, file) &&
	       (!strcmp(f->function, qualname) || !strcmp(f->function, name));
}

static bool is_none(struct py_proc *p, uint64_t obj)
{
	char tn[32];

	return !py_type_name(p, obj, tn, sizeof(tn), NULL) &&
	       !strcmp(tn, "NoneType");
}

static bool is_type(struct py_proc *p, uint64_t obj, const char *name)
{
	char tn[64];

	return py_ptr_ok(obj) &&
	       !py_type_name(p, obj, tn, sizeof(tn), NULL) && !strcmp(tn, name);
}

static uint64_t attr(struct py_proc *p, uint64_t obj, const char *name)
{
	uint64_t v = 0;

	if (!obj || py_getattr_any(p, obj, name, &v, NULL) || is_none(p, v))
		return 0;
	return v;
}

/* The name of a work item's callable (a function's code name), or NULL. */
static char *work_function(struct py_proc *p, uint64_t item)
{
	uint64_t fn = attr(p, item, "fn"), task, *parts = NULL, code;
	const struct py_code *c;
	size_t n = 0;

	if (!fn && (task = attr(p, item, "task")) &&
	    !py_tuple_items(p, task, 3, &parts, &n, NULL) && n)
		fn = parts[0];
	free(parts);
	parts = NULL;
	/* asyncio.to_thread(f, ...) submits partial(context.run, f, ...):
	 * the first function among its arguments is f. */
	if (fn && is_type(p, fn, "functools.partial") &&
	    !py_field(p, fn, p->L.container.partial_args, &task, NULL) &&
	    !py_tuple_items(p, task, 8, &parts, &n, NULL)) {
		fn = 0;
		for (size_t i = 0; i < n && !fn; i++)
			if (is_type(p, parts[i], "function"))
				fn = parts[i];
		free(parts);
	}
	if (!fn || !is_type(p, fn, "function") ||
	    py_field(p, fn, p->L.container.function_code, &code, NULL) ||
	    !(c = py_code_get(p, code, NULL)))
		return NULL;
	return xstrdup(c->name);
}

/* wait(fs, timeout, return_when) or as_completed(fs, timeout): the
 * futures not done yet (a set local), how many suffice, the timeout. */
static void thread_waits_many(struct py_proc *p, struct snap_thread *t,
			      const struct snap_frame *f, bool as_completed)
{
	uint64_t set = frame_var(p, f, as_completed ? V_PENDING : V_NOT_DONE);
	uint64_t timeout = frame_var(p, f, V_TIMEOUT), *items = NULL;
	size_t n = 0;

	if (!set || py_set_items(p, set, QUEUE_MAX, &items, &n, NULL) || !n) {
		free(items);
		return;
	}
	t->waits_futures = items;
	t->nwaits_futures = n;
	t->future_timeout = timeout && !is_none(p, timeout);
	if (as_completed) {
		t->waits_any = true;
	} else {
		char *rw = NULL;

		if (!py_str_read(p, frame_var(p, f, V_RETURN_WHEN), 32, &rw,
				 NULL, NULL))
			t->waits_any = !strcmp(rw, "FIRST_COMPLETED");
		free(rw);
	}
}

/* One thread's waits and work, from its frames. */
static void thread_futures(struct py_proc *p, struct snapshot *s, size_t ti)
{
	struct snap_thread *t = &s->threads[ti];
	size_t n = t->nframes < FRAMES_LOOKED ? t->nframes : FRAMES_LOOKED;
	bool in_wait = true;

	for (size_t i = 0; i < n; i++) {
		const struct snap_frame *f = &t->frames[i];

		if (in_wait && !t->waits_future &&
		    frame_is(f, "/concurrent/futures/_base.py",
			     "Future.result", "result")) {
			uint64_t timeout = frame_var(p, f, V_TIMEOUT);

			t->waits_future = frame_var(p, f, V_SELF);
			t->future_timeout = timeout && !is_none(p, timeout);
		}
		if (in_wait && !t->waits_future && !t->nwaits_futures &&
		    (frame_is(f, "/concurrent/futures/_base.py", "wait",
			      "wait") ||
		     frame_is(f, "/concurrent/futures/_base.py",
			      "as_completed", "as_completed")))
			thread_waits_many(p, t, f,
					  !strcmp(f->function, "as_completed"));
		/* Only threading's wait may lie inside result(). */
		if (!f->filename || !str_ends_with(f->filename, "/threading.py"))
			in_wait = false;
		if (!t->runs_future &&
		    frame_is(f, "/concurrent/futures/thread.py",
			     "_WorkItem.run", "run")) {
			uint64_t item = frame_var(p, f, V_SELF);
			struct snap_work *w;

			t->runs_future = attr(p, item, "future");
			if (t->runs_future) {
				w = snap_add_work(s);
				t = &s->threads[ti];
				w->future = t->runs_future;
				w->function = work_function(p, item);
				w->running = true;
				w->thread_id = t->thread_id;
			}
		}
		if (!t->executor &&
		    frame_is(f, "/concurrent/futures/thread.py", "_worker",
			     "_worker")) {
			uint64_t ref = frame_var(p, f, V_EXECUTOR_REF), ex = 0;

			if (ref && !py_weakref_target(p, ref, &ex, NULL))
				t->executor = ex;
		}
	}
}

/* The items of a queue.SimpleQueue, in order, at most QUEUE_MAX. */
static size_t simplequeue_items(struct py_proc *p, uint64_t q,
				uint64_t **out)
{
	uint64_t w[6], *items = NULL;
	size_t n = 0;

	*out = NULL;
	if (!is_type(p, q, "_queue.SimpleQueue") ||
	    mem_read(p->mem, q + 16, w, sizeof(w), NULL))
		return 0;
	if (p->L.major == 3 && p->L.minor <= 12) {
		uint64_t pos = w[3];

		if (py_list_items(p, w[2], QUEUE_MAX, &items, &n, NULL))
			return 0;
		if (pos > n)
			pos = n;
		memmove(items, items + pos, (n - pos) * sizeof(*items));
		*out = items;
		return n - pos;
	} else {
		uint64_t get = w[2], ring = w[3], cap = w[4], num = w[5];

		if (!py_ptr_ok(ring) || !cap || cap > RING_CAP_MAX ||
		    get >= cap || num > cap)
			return 0;
		if (num > QUEUE_MAX)
			num = QUEUE_MAX;
		items = xcalloc(num + 1, sizeof(*items));
		for (uint64_t i = 0; i < num; i++)
			if (mem_read_u64(p->mem, ring + 8 * ((get + i) % cap),
					 &items[n], NULL) == 0)
				n++;
		*out = items;
		return n;
	}
}

static void executor_queue(struct py_proc *p, struct snapshot *s,
			   uint64_t ex)
{
	uint64_t *items = NULL;
	size_t n = simplequeue_items(p, attr(p, ex, "_work_queue"), &items);

	for (size_t i = 0; i < n; i++) {
		uint64_t fut = attr(p, items[i], "future");
		struct snap_work *w;

		if (!fut)
			continue; /* None: the shutdown wake-up */
		w = snap_add_work(s);
		w->future = fut;
		w->executor = ex;
		w->function = work_function(p, items[i]);
	}
	free(items);
}

void py_read_futures(struct py_proc *p, struct snapshot *s)
{
	uint64_t seen[EXECUTORS_MAX];
	size_t nseen = 0;

	if (p->L.major < 3 || (p->L.major == 3 && p->L.minor < 7))
		return;
	for (size_t i = 0; i < s->nthreads; i++)
		thread_futures(p, s, i);
	for (size_t i = 0; i < s->nthreads; i++) {
		uint64_t ex = s->threads[i].executor;
		bool dup = false;

		for (size_t k = 0; k < nseen && !dup; k++)
			dup = seen[k] == ex;
		if (!ex || dup || nseen == EXECUTORS_MAX)
			continue;
		seen[nseen++] = ex;
		executor_queue(p, s, ex);
	}
	/* The running items' executors: their workers'. */
	for (size_t i = 0; i < s->nworks; i++)
		for (size_t k = 0; s->works[i].running && k < s->nthreads; k++)
			if (s->threads[k].thread_id == s->works[i].thread_id)
				s->works[i].executor = s->threads[k].executor;
	snap_add_loop_works(s);
	snap_find_executor_deadlocks(s);
}
