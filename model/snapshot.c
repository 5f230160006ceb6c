#include <config.h>

#include "model/snapshot.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct snapshot *snap_new(void)
{
	return xcalloc(1, sizeof(struct snapshot));
}

static void frames_release(struct snap_frame *f, size_t n);

void snap_thread_release_frames(struct snap_thread *t)
{
	frames_release(t->frames, t->nframes);
	t->frames = NULL;
	t->nframes = t->frames_cap = 0;
}

void snap_thread_release_native(struct snap_thread *t)
{
	for (size_t i = 0; i < t->nnative; i++) {
		free(t->native[i].note);
		free(t->native[i].function);
		free(t->native[i].library);
	}
	free(t->native);
	t->native = NULL;
	t->nnative = t->native_cap = 0;
}

struct snap_native *snap_add_native(struct snap_thread *t)
{
	t->native = xgrow(t->native, &t->native_cap, t->nnative + 1,
			  sizeof(*t->native));
	memset(&t->native[t->nnative], 0, sizeof(*t->native));
	return &t->native[t->nnative++];
}

const char *snap_symbol_source_name(int source)
{
	static const char *const names[] = { "none", "symtab", "dynsym",
					     "debuginfo" };

	return source > 0 && source < 4 ? names[source] : names[0];
}

static void thread_release(struct snap_thread *t)
{
	snap_thread_release_native(t);
	frames_release(t->frames, t->nframes);
	free(t->name);
	free(t->error);
	free(t->trace);
	free(t->profile);
	for (size_t i = 0; i < t->nmonitoring; i++)
		free(t->monitoring[i]);
	free(t->monitoring);
	free(t->waits_futures);
	snap_wait_free(t->waits_on);
}

const char *snap_wait_kind_name(int kind)
{
	static const char *const names[] = { NULL, "file", "fifo", "pipe",
					     "socket", "other", "child" };

	return kind > 0 && kind <= SNAP_WAIT_CHILD ? names[kind] : NULL;
}

void snap_wait_free(struct snap_wait *w)
{
	if (!w)
		return;
	free(w->path);
	free(w->proto);
	free(w->local);
	free(w->peer);
	free(w->state);
	for (size_t i = 0; i < w->nends; i++)
		free(w->ends[i].comm);
	free(w->ends);
	free(w->cmdline);
	free(w);
}

static void frames_release(struct snap_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].function);
		free(f[i].filename);
		free(f[i].importing);
		for (size_t j = 0; j < f[i].nlocals; j++) {
			free(f[i].locals[j].name);
			free(f[i].locals[j].type);
			free(f[i].locals[j].repr);
		}
		free(f[i].locals);
	}
	free(f);
}

static void task_release(struct snap_task *t)
{
	frames_release(t->frames, t->nframes);
	free(t->name);
	free(t->error);
	free(t->awaiting.tasks);
	free(t->awaited_by);
}

void snap_free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nthreads; i++)
		thread_release(&s->threads[i]);
	free(s->threads);
	for (size_t i = 0; i < s->ntasks; i++)
		task_release(&s->tasks[i]);
	free(s->tasks);
	for (size_t i = 0; i < s->ncycles; i++)
		free(s->cycles[i].tasks);
	free(s->cycles);
	for (size_t i = 0; i < s->nloops; i++)
		free(s->loops[i].ready_refs);
	free(s->loops);
	free(s->blocked_loops);
	for (size_t i = 0; i < s->ngil_held; i++) {
		free(s->gil_held[i].function);
		free(s->gil_held[i].library);
	}
	free(s->gil_held);
	for (size_t i = 0; i < s->nworks; i++)
		free(s->works[i].function);
	free(s->works);
	for (size_t i = 0; i < s->nexecutor_deadlocks; i++)
		free(s->executor_deadlocks[i].waits);
	free(s->executor_deadlocks);
	for (size_t i = 0; i < s->nproc_waits; i++)
		snap_proc_wait_release(&s->proc_waits[i]);
	free(s->proc_waits);
	snap_locks_release(s);
	free(s->tasks_note);
	free(s->threads_note);
	free(s->version);
	free(s->executable);
	free(s->libpython);
	free(s->warning);
	free(s->host);
	if (s->core) {
		free(s->core->file);
		free(s->core->compression);
		free(s->core->args);
		free(s->core->function);
		free(s->core->library);
		free(s->core);
	}
	free(s);
}

struct snap_thread *snap_add_thread(struct snapshot *s)
{
	struct snap_thread *t;

	s->threads = xgrow(s->threads, &s->threads_cap, s->nthreads + 1,
			   sizeof(*s->threads));
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->native_id = -1;
	t->ns_native_id = -1;
	return t;
}

/* Append a zeroed frame to a growing array. */
static struct snap_frame *frames_add(struct snap_frame **v, size_t *n,
				     size_t *cap)
{
	struct snap_frame *f;

	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->line = f->end_line = f->column = f->end_column = -1;
	return f;
}

struct snap_frame *snap_add_frame(struct snap_thread *t)
{
	return frames_add(&t->frames, &t->nframes, &t->frames_cap);
}

struct snap_loop *snap_add_loop(struct snapshot *s)
{
	s->loops = xgrow(s->loops, &s->loops_cap, s->nloops + 1,
			 sizeof(*s->loops));
	memset(&s->loops[s->nloops], 0, sizeof(*s->loops));
	return &s->loops[s->nloops++];
}

const struct snap_loop *snap_find_loop(const struct snapshot *s, uint64_t id)
{
	for (size_t i = 0; i < s->nloops; i++)
		if (s->loops[i].id == id)
			return &s->loops[i];
	return NULL;
}

struct snap_task *snap_add_task(struct snapshot *s)
{
	struct snap_task *t;

	s->tasks = xgrow(s->tasks, &s->tasks_cap, s->ntasks + 1,
			 sizeof(*s->tasks));
	t = &s->tasks[s->ntasks++];
	memset(t, 0, sizeof(*t));
	return t;
}

struct snap_frame *snap_task_add_frame(struct snap_task *t)
{
	return frames_add(&t->frames, &t->nframes, &t->frames_cap);
}

const char *snap_task_state_name(int state)
{
	switch (state) {
	case SNAP_TASK_WAITING: return "waiting";
	case SNAP_TASK_RUNNING: return "running";
	default: return "scheduled";
	}
}

const char *snap_await_kind_name(int kind)
{
	static const char *const names[SNAP_AWAIT_KINDS] = {
		[SNAP_AWAIT_NONE] = "",
		[SNAP_AWAIT_TASK] = "task",
		[SNAP_AWAIT_GATHER] = "gather",
		[SNAP_AWAIT_FUTURE] = "future",
		[SNAP_AWAIT_SLEEP] = "sleep",
		[SNAP_AWAIT_LOCK] = "lock",
		[SNAP_AWAIT_EVENT] = "event",
		[SNAP_AWAIT_CONDITION] = "condition",
		[SNAP_AWAIT_SEMAPHORE] = "semaphore",
		[SNAP_AWAIT_QUEUE] = "queue",
		[SNAP_AWAIT_TASKGROUP] = "taskgroup",
	};

	return kind > 0 && kind < SNAP_AWAIT_KINDS ? names[kind] : "";
}

struct snap_local *snap_frame_add_local(struct snap_frame *f, size_t *cap)
{
	struct snap_local *l;

	f->locals = xgrow(f->locals, cap, f->nlocals + 1, sizeof(*f->locals));
	l = &f->locals[f->nlocals++];
	memset(l, 0, sizeof(*l));
	return l;
}

const char *snap_local_kind_name(int kind)
{
	switch (kind) {
	case SNAP_LOCAL_ARG: return "arg";
	case SNAP_LOCAL_CELL: return "cell";
	case SNAP_LOCAL_FREE: return "free";
	default: return "local";
	}
}

const char *snap_gil_name(int gil)
{
	switch (gil) {
	case SNAP_GIL_NONE: return "none";
	case SNAP_GIL_HOLDS: return "holds";
	case SNAP_GIL_WAITS: return "waits";
	default: return "unknown";
	}
}

const char *snap_os_state_name(char state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk";
	case 'T': return "stopped";
	case 't': return "traced";
	case 'Z': case 'X': return "zombie";
	case 'I': return "idle";
	default: return NULL;
	}
}

bool snap_thread_active(const struct snap_thread *t)
{
	if (t->os.state == 'R' || t->gil == SNAP_GIL_WAITS)
		return true;
	/* Unknown OS state: holding the GIL is the only evidence. */
	return t->gil == SNAP_GIL_HOLDS && !t->os.syscall[0];
}

const char *snap_thread_importing(const struct snap_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++)
		if (t->frames[i].importing)
			return t->frames[i].importing;
	return NULL;
}

void snap_proc_wait_release(struct snap_proc_wait *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->steps[i].comm);
		free(w->steps[i].cmdline);
		free(w->steps[i].syscall);
		free(w->steps[i].python);
		frames_release(w->steps[i].frames, w->steps[i].nframes);
	}
	free(w->steps);
	w->steps = NULL;
	w->n = 0;
}
