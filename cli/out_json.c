#include <config.h>

#include "common/json.h"
#include "cli/out.h"
#include "model/native.h"
#include "model/thread_groups.h"

/*
 * The dump's layout in pretty mode (what `dump --json` prints): the
 * document's members one per line, every thread, task, lock and verdict
 * entry on its own line, a thread's or a task's state and stack on lines
 * of their own, one line per frame and per local.  Watch's compact form
 * ignores these breaks.
 */
enum {
	IND_TOP = 1,    /* the document's members */
	IND_ENTRY = 4,  /* a thread, task, lock, deadlock or hang */
	IND_PART = 5,   /* an entry's state, stack, awaiting, waiters */
	IND_FRAME = 7,  /* a frame of a stack */
	IND_LOCAL = 9,  /* a local of a frame */
};

static void json_int_or_null(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v >= 0)
		json_int(j, v);
	else
		json_null(j);
}

/* An address (a lock, a loop, an awaited object): 0 is null. */
static void json_addr_or_null(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	if (v)
		json_uint(j, v);
	else
		json_null(j);
}

static void json_locals(struct json *j, const struct snap_frame *f)
{
	json_key(j, "locals");
	json_begin_array(j);
	for (size_t i = 0; i < f->nlocals; i++) {
		const struct snap_local *l = &f->locals[i];

		json_break(j, IND_LOCAL);
		json_begin_object(j);
		json_key_string(j, "name", l->name);
		json_key_string(j, "kind", snap_local_kind_name(l->kind));
		json_key_string(j, "type", l->type);
		json_key_string(j, "repr", l->repr);
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_frame(struct json *j, const struct snap_frame *f,
		       bool locals)
{
	json_begin_object(j);
	json_key_string(j, "kind", "python");
	json_key_string(j, "function", f->function);
	json_key_string(j, "filename", f->filename);
	json_int_or_null(j, "line", f->line);
	json_int_or_null(j, "end_line", f->end_line);
	json_int_or_null(j, "column", f->column);
	json_int_or_null(j, "end_column", f->end_column);
	if (f->torn)
		json_key_bool(j, "torn", true);
	if (locals)
		json_locals(j, f);
	json_end_object(j);
}

/* An entry of a --native stack that is not a Python frame. */
static void json_native(struct json *j, const struct snap_native *n)
{
	json_begin_object(j);
	if (n->kind == SNAP_STACK_MARK) {
		json_key_string(j, "kind", "mark");
		json_key_string(j, "note", n->note);
		json_end_object(j);
		return;
	}
	json_key_string(j, "kind", "native");
	json_key_string(j, "function", n->function);
	json_key_uint(j, "offset", n->offset);
	json_key_string(j, "library", n->library);
	json_key_uint(j, "library_offset", n->lib_offset);
	json_key_uint(j, "address", n->pc);
	json_key_string(j, "symbol_source", snap_symbol_source_name(n->source));
	json_key_bool(j, "internal", n->internal);
	json_key_bool(j, "eval", n->eval);
	json_key_string(j, "caller_by", snap_caller_by_name(n->caller_by));
	json_end_object(j);
}

/* The thread's "waits_on": what its blocking system call waits on, or
 * null (not paused, nothing named).  Every string from /proc. */
static void json_waits_on(struct json *j, const struct snap_wait *w)
{
	const char *kind = w ? snap_wait_kind_name(w->kind) : NULL;

	json_key(j, "waits_on");
	if (!kind) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_key_string(j, "kind", kind);
	if (w->kind == SNAP_WAIT_CHILD) {
		json_key(j, "pid");
		if (w->pid < 0)
			json_null(j);
		else
			json_int(j, w->pid);
		json_key_string(j, "cmdline", w->cmdline);
		json_end_object(j);
		return;
	}
	json_key_int(j, "fd", w->fd);
	if (w->kind == SNAP_WAIT_SOCKET) {
		json_key_string(j, "proto", w->proto);
		json_key_string(j, "local", w->local);
		json_key_string(j, "peer", w->peer);
		json_key_string(j, "state", w->state);
	}
	if (w->kind != SNAP_WAIT_PIPE)
		json_key_string(j, "path", w->path);
	if (w->kind == SNAP_WAIT_PIPE || w->kind == SNAP_WAIT_FIFO ||
	    w->kind == SNAP_WAIT_SOCKET)
		json_key_uint(j, "inode", w->inode);
	if (w->kind == SNAP_WAIT_PIPE || w->kind == SNAP_WAIT_FIFO) {
		json_key(j, "other_end");
		json_begin_array(j);
		for (size_t i = 0; i < w->nends; i++) {
			json_begin_object(j);
			json_key_int(j, "pid", w->ends[i].pid);
			json_key_string(j, "comm", w->ends[i].comm);
			json_end_object(j);
		}
		json_end_array(j);
		json_key_bool(j, "other_end_truncated", w->ends_more);
	}
	json_end_object(j);
}

static void json_state(struct json *j, const struct snap_thread *t)
{
	const char *os = snap_os_state_name(t->os.state);

	json_break(j, IND_PART);
	json_key(j, "state");
	json_begin_object(j);
	json_key_string(j, "os_state", os);
	json_key(j, "on_cpu");
	if (os)
		json_bool(j, t->os.state == 'R');
	else
		json_null(j);
	json_key_string(j, "syscall", t->os.syscall[0] ? t->os.syscall : NULL);
	json_waits_on(j, t->waits_on);
	json_key_string(j, "gil", snap_gil_name(t->gil));
	json_key_bool(j, "active", snap_thread_active(t));
	json_key_bool(j, "gc", t->gc);
	json_key_string(j, "trace", t->trace);
	json_key_string(j, "profile", t->profile);
	if (t->hooks_unknown) {
		json_key_null(j, "monitoring");
		json_key_null(j, "eval_hook");
	} else {
		json_key(j, "monitoring");
		json_begin_array(j);
		for (size_t i = 0; i < t->nmonitoring; i++)
			json_string(j, t->monitoring[i]);
		json_end_array(j);
		json_key_bool(j, "eval_hook", t->eval_hook);
	}
	json_end_object(j);
}

static void json_thread(struct json *j, const struct snap_thread *t,
			bool locals, bool native_all)
{
	json_begin_object(j);
	json_key(j, "thread_id");
	if (t->native_only)
		json_null(j);
	else
		json_uint(j, t->thread_id);
	json_key(j, "native_id");
	if (t->native_id >= 0)
		json_int(j, t->native_id);
	else
		json_null(j);
	json_key(j, "ns_native_id");
	if (t->ns_native_id >= 0)
		json_int(j, t->ns_native_id);
	else
		json_null(j);
	json_key_string(j, "name", t->name);
	json_key_bool(j, "holds_gil", t->holds_gil);
	json_key_int(j, "interpreter_id", t->interp_id);
	json_key_bool(j, "truncated", t->truncated);
	json_key_bool(j, "torn", t->torn);
	json_key_string(j, "error", t->error);
	json_key_string(j, "importing", snap_thread_importing(t));
	json_addr_or_null(j, "waits_for", t->waits_for);
	json_state(j, t);
	if (t->has_native)
		json_key_bool(j, "native_only", t->native_only);
	json_break(j, IND_PART);
	json_key(j, "frames");
	json_begin_array(j);
	for (size_t i = 0; !t->has_native && i < t->nframes; i++) {
		json_break(j, IND_FRAME);
		json_frame(j, &t->frames[i], locals);
	}
	for (size_t i = 0; t->has_native && i < t->nnative; i++) {
		const struct snap_native *n = &t->native[i];

		if (!py_native_shown(t, i, native_all))
			continue;
		json_break(j, IND_FRAME);
		if (n->kind == SNAP_STACK_PYTHON)
			json_frame(j, &t->frames[n->py], locals);
		else
			json_native(j, n);
	}
	json_end_array(j);
	json_end_object(j);
}

static void json_ids(struct json *j, const char *key, const uint64_t *ids,
		     size_t n)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		json_uint(j, ids[i]);
	json_end_array(j);
}

static void json_task(struct json *j, const struct snap_task *t)
{
	const struct snap_await *w = &t->awaiting;

	json_begin_object(j);
	json_key_uint(j, "id", t->id);
	json_key_string(j, "name", t->name);
	json_key_string(j, "state", snap_task_state_name(t->state));
	json_key_bool(j, "running", t->state == SNAP_TASK_RUNNING);
	json_key(j, "thread_id");
	if (t->has_thread)
		json_uint(j, t->thread_id);
	else
		json_null(j);
	json_addr_or_null(j, "loop", t->loop);
	json_key_int(j, "interpreter_id", t->interp_id);
	json_break(j, IND_PART);
	json_key(j, "awaiting");
	if (w->kind == SNAP_AWAIT_NONE) {
		json_null(j);
	} else {
		json_begin_object(j);
		json_key_string(j, "kind", snap_await_kind_name(w->kind));
		json_addr_or_null(j, "object", w->object);
		json_addr_or_null(j, "future", w->future);
		json_ids(j, "tasks", w->tasks, w->ntasks);
		json_key(j, "delay");
		if (w->has_delay)
			json_fixed(j, w->delay, 6);
		else
			json_null(j);
		json_end_object(j);
	}
	json_ids(j, "awaited_by", t->awaited_by, t->nawaited_by);
	json_addr_or_null(j, "waits_for", t->waits_for);
	json_key_string(j, "error", t->error);
	json_break(j, IND_PART);
	json_key(j, "coroutine_stack");
	json_begin_array(j);
	for (size_t i = 0; i < t->nframes; i++) {
		json_break(j, IND_FRAME);
		json_frame(j, &t->frames[i], false);
	}
	json_end_array(j);
	json_end_object(j);
}

/* "thread": ID or "task": ID, in the object open. */
static void json_party(struct json *j, const struct snap_party *who)
{
	json_key_uint(j, who->is_task ? "task" : "thread", who->id);
}

static void json_place(struct json *j, const struct snap_place *pl)
{
	json_begin_object(j);
	json_key_string(j, "function", pl->function);
	json_key_string(j, "filename", pl->filename);
	json_int_or_null(j, "line", pl->line);
	json_end_object(j);
}

static void json_lock(struct json *j, const struct snap_lock *l)
{
	json_begin_object(j);
	json_key_uint(j, "address", l->address);
	json_key_string(j, "type", snap_lock_type_name(l->type));
	json_key_string(j, "name", l->name);
	json_key(j, "holder");
	if (l->has_holder) {
		json_begin_object(j);
		json_party(j, &l->holder);
		json_end_object(j);
	} else {
		json_null(j);
	}
	json_key(j, "held_since");
	if (l->has_held_since)
		json_place(j, &l->held_since);
	else
		json_null(j);
	json_key_string(j, "evidence", snap_evidence_name(l->evidence));
	json_break(j, IND_PART);
	json_key(j, "waiters");
	json_begin_array(j);
	for (size_t i = 0; i < l->nwaiters; i++) {
		const struct snap_lock_waiter *w = &l->waiters[i];

		json_begin_object(j);
		json_party(j, &w->who);
		json_key(j, "at");
		json_place(j, &w->at);
		json_key_bool(j, "timeout", w->timeout);
		json_key_bool(j, "exact", w->exact);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static void json_links(struct json *j, const char *key,
		       const struct snap_chain *c)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < c->n; i++) {
		json_begin_object(j);
		json_party(j, &c->links[i].who);
		json_addr_or_null(j, "waits_for", c->links[i].lock);
		json_end_object(j);
	}
	json_end_array(j);
}

/* "at": thread t's innermost frame, or null (no thread, no frame). */
static void json_thread_at(struct json *j, const struct snap_thread *t)
{
	json_key(j, "at");
	if (t && t->nframes) {
		struct snap_place at = { t->frames[0].function,
					 t->frames[0].filename,
					 t->frames[0].line };

		json_place(j, &at);
	} else {
		json_null(j);
	}
}

/* "os_state" and "syscall" of thread t, null where unknown. */
static void json_thread_os(struct json *j, const struct snap_thread *t)
{
	json_key_string(j, "os_state", t ? snap_os_state_name(t->os.state) :
			NULL);
	json_key_string(j, "syscall", t && t->os.syscall[0] ? t->os.syscall :
			NULL);
}

/* A hang of kind "gil_held": the thread holding the GIL in a C call,
 * where (its innermost Python frame; its C function with --native), for
 * how long at least, and how many threads wait for the GIL. */
static void json_gil_held(struct json *j, const struct snapshot *s,
			  const struct snap_gil_held *g)
{
	struct snap_party th = { false, g->thread_id };
	const struct snap_thread *t = snap_party_thread(s, &th);

	json_begin_object(j);
	json_key_string(j, "kind", "gil_held");
	json_key_uint(j, "thread", g->thread_id);
	json_thread_at(j, t);
	json_key_string(j, "function", g->function);
	json_key_string(j, "library", g->library);
	json_thread_os(j, t);
	json_key(j, "held_for");
	json_fixed(j, g->held, 3);
	json_key(j, "waiters");
	json_uint(j, g->waiters);
	json_end_object(j);
}

/* A hang of kind "blocked_loop": the loop, its thread, the task running
 * on it and where, what the thread is blocked in, for how long at least. */
static void json_blocked_loop(struct json *j, const struct snapshot *s,
			      const struct snap_blocked_loop *b)
{
	struct snap_party th = { false, b->thread_id }, tk = { true, b->task };
	const struct snap_thread *t = snap_party_thread(s, &th);
	const struct snap_task *k = b->has_task ? snap_party_task(s, &tk) : NULL;
	const struct snap_loop *l = snap_find_loop(s, b->loop);

	json_begin_object(j);
	json_key_string(j, "kind", "blocked_loop");
	json_key_uint(j, "loop", b->loop);
	json_key_uint(j, "thread", b->thread_id);
	json_addr_or_null(j, "task", b->has_task ? b->task : 0);
	json_key_string(j, "coroutine", k && k->nframes ?
			k->frames[k->nframes - 1].function : NULL);
	json_thread_at(j, t);
	json_thread_os(j, t);
	json_key(j, "stuck_for");
	json_fixed(j, b->stuck, 3);
	json_key(j, "ready");
	json_uint(j, l ? l->nready : 0);
	json_key(j, "timers");
	json_uint(j, l ? l->ntimers : 0);
	json_end_object(j);
}

/* A deadlock of kind "executor": each thread (or task: "task" not null),
 * the future it waits for, who runs it, where it is queued or which task
 * sets it (or the task it awaits, or the lock it waits for and its
 * holder). */
static void json_executor_deadlock(struct json *j, const struct snapshot *s,
				   const struct snap_executor_deadlock *d)
{
	json_begin_object(j);
	json_key_string(j, "kind", "executor");
	json_key(j, "threads");
	json_begin_array(j);
	for (size_t i = 0; i < d->n; i++) {
		const struct snap_future_wait *fw = &d->waits[i];
		struct snap_party who = { fw->task != 0,
					  fw->task ? fw->task : fw->thread_id };
		const struct snap_thread *t = snap_party_thread(s, &who);
		const struct snap_task *k = snap_party_task(s, &who);
		const struct snap_frame *f = k ? snap_task_user_frame(k) :
					     t ? snap_thread_user_frame(t) : NULL;
		const struct snap_work *w = snap_find_work(s, fw->future);

		json_begin_object(j);
		json_addr_or_null(j, "thread", fw->thread_id);
		json_addr_or_null(j, "task", fw->task);
		json_addr_or_null(j, "future", fw->future);
		json_key_string(j, "function", w ? w->function : NULL);
		json_addr_or_null(j, "run_by", fw->run_by);
		json_addr_or_null(j, "loop", fw->loop);
		json_addr_or_null(j, "executor", fw->executor);
		json_addr_or_null(j, "set_by_task", fw->set_by_task);
		json_addr_or_null(j, "awaits_task", fw->awaits_task);
		json_addr_or_null(j, "lock", fw->lock);
		json_addr_or_null(j, "held_by", fw->held_by);
		json_key(j, "at");
		if (f) {
			struct snap_place at = { f->function, f->filename,
						 f->line };

			json_place(j, &at);
		} else {
			json_null(j);
		}
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* A deadlock or a hang of kind "process": each process of the chain,
 * its thread, the call it blocks in, what on, and whom it waits for; a
 * peer that runs Python, its version and that thread's frames (null
 * otherwise, and for the dumped process: its thread is in "threads"). */
static void json_proc_wait(struct json *j, const struct snap_proc_wait *w)
{
	json_begin_object(j);
	json_key_string(j, "kind", "process");
	json_key(j, w->deadlock ? "cycle" : "chain");
	json_begin_array(j);
	for (size_t i = 0; i < w->n; i++) {
		const struct snap_proc_step *st = &w->steps[i];

		json_begin_object(j);
		json_key_int(j, "pid", st->pid);
		json_key_int(j, "tid", st->tid);
		json_addr_or_null(j, "thread", st->thread_id);
		json_key_string(j, "comm", st->comm);
		json_key_string(j, "cmdline", st->cmdline);
		json_key_string(j, "syscall", st->syscall);
		json_key_string(j, "waits_on", snap_wait_kind_name(st->kind));
		json_key(j, "fd");
		if (st->fd >= 0)
			json_int(j, st->fd);
		else
			json_null(j);
		json_addr_or_null(j, "inode", st->inode);
		json_key(j, "writes");
		if (st->kind == SNAP_WAIT_CHILD)
			json_null(j);
		else
			json_bool(j, st->writes);
		json_key_int(j, "waits_for", st->waits_for);
		json_key_string(j, "python", st->python);
		json_key(j, "frames");
		if (st->python) {
			json_begin_array(j);
			for (size_t k = 0; k < st->nframes; k++)
				json_frame(j, &st->frames[k], false);
			json_end_array(j);
		} else {
			json_null(j);
		}
		json_end_object(j);
	}
	json_end_array(j);
	if (!w->deadlock)
		json_key_int(j, "cycle_from", (int64_t)w->cycle_from);
	json_end_object(j);
}

/* "groups": the threads whose stacks are the same (thread_groups.h), two
 * or more each: their thread ids and the index in "threads" of the first
 * (whose "frames" are the group's). */
static void json_groups(struct json *j, const struct snapshot *s, bool locals)
{
	struct thread_groups g;

	thread_groups_build(s, locals, &g);
	json_key(j, "groups");
	json_begin_array(j);
	for (size_t k = 0; k < g.n; k++) {
		if (g.v[k].n < 2)
			continue;
		json_break(j, IND_ENTRY);
		json_begin_object(j);
		json_key(j, "threads");
		json_begin_array(j);
		for (size_t i = 0; i < g.v[k].n; i++)
			json_uint(j, s->threads[g.v[k].members[i]].thread_id);
		json_end_array(j);
		json_key_int(j, "stack", (int64_t)g.v[k].members[0]);
		json_end_object(j);
	}
	json_end_array(j);
	thread_groups_release(&g);
}

void out_json_members(struct json *j, const struct snapshot *s, bool locals,
		      bool native_all)
{
	json_key_int(j, "schema_version", OUT_JSON_SCHEMA_VERSION);
	json_key_string(j, "host", s->host);
	json_key_int(j, "pid", s->pid);
	json_key(j, "ns_pid");
	if (s->ns_pid)
		json_int(j, s->ns_pid);
	else
		json_null(j);
	json_break(j, IND_TOP);
	json_key(j, "python");
	json_begin_object(j);
	json_key_string(j, "version", s->version);
	json_key_string(j, "executable", s->executable);
	json_key_string(j, "libpython", s->libpython);
	json_key_string(j, "warning", s->warning);
	json_end_object(j);
	json_break(j, IND_TOP);
	if (s->core) {
		const struct snap_core *c = s->core;

		json_key(j, "core");
		json_begin_object(j);
		json_key_string(j, "file", c->file);
		json_key_string(j, "compression", c->compression);
		json_key_string(j, "args", c->args);
		json_key(j, "signal");
		if (c->signo) {
			json_begin_object(j);
			json_key_int(j, "number", c->signo);
			json_key_string(j, "name", out_signal_name(c->signo));
			json_key_int(j, "code", c->code);
			json_key(j, "address");
			if (c->has_addr)
				json_uint(j, c->addr);
			else
				json_null(j);
			json_key(j, "thread");
			if (c->tid > 0)
				json_int(j, c->tid);
			else
				json_null(j);
			json_key_uint(j, "pc", c->pc);
			json_key_string(j, "function", c->function);
			json_key_string(j, "library", c->library);
			json_end_object(j);
		} else {
			json_null(j);
		}
		json_end_object(j);
		json_break(j, IND_TOP);
	}
	json_key_bool(j, "paused", s->paused);
	json_break(j, IND_TOP);
	/* "instant": one instant of the whole process (paused, or a core);
	 * "per-thread": each thread stopped alone for its read (--nonstop);
	 * "unpaused": read as it ran, frames that changed marked torn. */
	json_key_string(j, "consistency", s->paused || s->core ? "instant" :
			s->per_thread ? "per-thread" : "unpaused");
	json_break(j, IND_TOP);
	json_key_bool(j, "stopped", s->stopped);
	json_break(j, IND_TOP);
	json_key(j, "threads");
	json_begin_array(j);
	for (size_t i = 0; i < s->nthreads; i++) {
		json_break(j, IND_ENTRY);
		json_thread(j, &s->threads[i], locals, native_all);
	}
	json_end_array(j);
	json_break(j, IND_TOP);
	json_key_string(j, "threads_note", s->threads_note);
	json_break(j, IND_TOP);
	json_groups(j, s, locals);
	json_break(j, IND_TOP);
	json_key(j, "tasks");
	json_begin_array(j);
	for (size_t i = 0; i < s->ntasks; i++) {
		json_break(j, IND_ENTRY);
		json_task(j, &s->tasks[i]);
	}
	json_end_array(j);
	json_break(j, IND_TOP);
	json_key_string(j, "tasks_note", s->tasks_note);
	json_break(j, IND_TOP);
	json_key(j, "locks");
	if (s->locks_read) {
		json_begin_array(j);
		for (size_t i = 0; i < s->nlocks; i++) {
			json_break(j, IND_ENTRY);
			json_lock(j, &s->locks[i]);
		}
		json_end_array(j);
	} else {
		json_null(j);
	}
	json_break(j, IND_TOP);
	json_key(j, "deadlocks");
	json_begin_array(j);
	for (size_t i = 0; i < s->ncycles; i++) {
		json_break(j, IND_ENTRY);
		json_begin_object(j);
		json_key_string(j, "kind", "await_cycle");
		json_ids(j, "cycle", s->cycles[i].tasks, s->cycles[i].n);
		json_end_object(j);
	}
	for (size_t i = 0; i < s->nlock_cycles; i++) {
		json_break(j, IND_ENTRY);
		json_begin_object(j);
		json_key_string(j, "kind", "lock_cycle");
		json_links(j, "cycle", &s->lock_cycles[i]);
		json_end_object(j);
	}
	for (size_t i = 0; i < s->nexecutor_deadlocks; i++) {
		json_break(j, IND_ENTRY);
		json_executor_deadlock(j, s, &s->executor_deadlocks[i]);
	}
	for (size_t i = 0; i < s->nproc_waits; i++) {
		if (!s->proc_waits[i].deadlock)
			continue;
		json_break(j, IND_ENTRY);
		json_proc_wait(j, &s->proc_waits[i]);
	}
	json_end_array(j);
	json_break(j, IND_TOP);
	json_key(j, "hangs");
	json_begin_array(j);
	for (size_t i = 0; i < s->nhangs; i++) {
		json_break(j, IND_ENTRY);
		json_begin_object(j);
		json_key_string(j, "kind", "hang_chain");
		json_links(j, "chain", &s->hangs[i]);
		json_end_object(j);
	}
	for (size_t i = 0; i < s->nblocked_loops; i++) {
		json_break(j, IND_ENTRY);
		json_blocked_loop(j, s, &s->blocked_loops[i]);
	}
	for (size_t i = 0; i < s->ngil_held; i++) {
		json_break(j, IND_ENTRY);
		json_gil_held(j, s, &s->gil_held[i]);
	}
	for (size_t i = 0; i < s->nproc_waits; i++) {
		if (s->proc_waits[i].deadlock)
			continue;
		json_break(j, IND_ENTRY);
		json_proc_wait(j, &s->proc_waits[i]);
	}
	json_end_array(j);
	json_break(j, IND_TOP);
	json_key_string(j, "verdict", snap_verdict_name(snap_verdict(s)));
}

void out_json_dump(struct strbuf *sb, const struct snapshot *s, bool locals,
		   bool native_all)
{
	struct json j;

	json_init(&j, sb, JSON_PRETTY);
	json_begin_object(&j);
	out_json_members(&j, s, locals, native_all);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(sb, '\n');
}
