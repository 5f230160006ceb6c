/*
 * snapshot.h - the seam of the program: what a target looked like at one
 * moment.  Built by pystructs/, consumed by cli/ writers (and later tui/).
 * Immutable once built; every string is owned by the snapshot and is
 * UTF-8 straight from the target (writers escape it for display).
 */
#ifndef SNAKESCOPE_SNAPSHOT_H
#define SNAKESCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct snap_frame {
	char *function; /* co_qualname (3.11+) or co_name; "<unknown>" */
	char *filename;
	int line;       /* -1 when the instruction has no line */
	uint64_t code;  /* code object address (for identity) */
	uint64_t addr;  /* the frame's own address (not printed) */
};

struct snap_thread {
	uint64_t thread_id;  /* threading.get_ident() (pthread_t) */
	int64_t native_id;   /* Linux TID, -1 if unknown */
	int64_t interp_id;   /* interpreter id (0 = main) */
	char *name;          /* threading name, else OS comm, else NULL */
	bool holds_gil;
	struct snap_frame *frames; /* innermost first */
	size_t nframes, frames_cap;
	bool truncated;      /* stack longer than the frame limit */
	char *error;         /* why the stack may be incomplete, or NULL */
	uint64_t tstate;     /* thread state address (not printed) */
};

/* What a task waits for at its innermost await. */
enum snap_await_kind {
	SNAP_AWAIT_NONE = 0,
	SNAP_AWAIT_TASK,      /* another task */
	SNAP_AWAIT_GATHER,    /* asyncio.gather()'s future: its children */
	SNAP_AWAIT_FUTURE,    /* a plain future */
	SNAP_AWAIT_SLEEP,     /* asyncio.sleep() */
	SNAP_AWAIT_LOCK,      /* asyncio.Lock.acquire() */
	SNAP_AWAIT_EVENT,
	SNAP_AWAIT_CONDITION,
	SNAP_AWAIT_SEMAPHORE,
	SNAP_AWAIT_QUEUE,     /* Queue.get() / put() */
	SNAP_AWAIT_TASKGROUP, /* TaskGroup's exit: its children */
	SNAP_AWAIT_KINDS
};

/* "scheduled", "waiting", "running" (JSON values). */
const char *snap_task_state_name(int state);

/* "task", "gather", ... (JSON values); "" for NONE. */
const char *snap_await_kind_name(int kind);

struct snap_await {
	int kind;           /* enum snap_await_kind */
	uint64_t object;    /* the lock / event / queue / group / future */
	uint64_t future;    /* the future the task's step waits on, or 0 */
	uint64_t *tasks;    /* tasks awaited (task, gather, taskgroup) */
	size_t ntasks;
	bool has_delay;
	double delay;       /* sleep: seconds left (negative: overdue) */
};

enum snap_task_state {
	SNAP_TASK_SCHEDULED = 0, /* ready to run (or not started) */
	SNAP_TASK_WAITING,       /* suspended on a future */
	SNAP_TASK_RUNNING,       /* executing on its thread right now */
};

struct snap_task {
	uint64_t id;        /* the task object's address (== id(task)) */
	uint64_t loop;      /* its event loop's address, or 0 */
	char *name;
	int state;          /* enum snap_task_state */
	bool has_thread;
	uint64_t thread_id; /* thread running the loop */
	int64_t interp_id;
	struct snap_frame *frames; /* coroutine stack, innermost first */
	size_t nframes, frames_cap;
	struct snap_await awaiting;
	uint64_t *awaited_by; /* ids of tasks that await this one */
	size_t nawaited_by;
	char *error;        /* why the task may be incomplete, or NULL */
};

/* An await cycle: tasks[0] awaits tasks[1] ... awaits tasks[0]. */
struct snap_cycle {
	uint64_t *tasks;
	size_t n;
};

struct snapshot {
	pid_t pid;
	char *version;     /* "3.12.1" */
	char *executable;  /* target's executable path */
	char *libpython;   /* libpython path, or NULL when linked in */
	char *warning;     /* why the reading may be wrong (a version newer
			      than snakescope knows), or NULL */
	bool paused;       /* read with the target stopped */
	struct snap_thread *threads; /* main thread first */
	size_t nthreads, threads_cap;
	struct snap_task *tasks;     /* asyncio tasks not yet done */
	size_t ntasks, tasks_cap;
	struct snap_cycle *cycles;   /* await cycles among them */
	size_t ncycles;
	char *tasks_note;  /* why tasks could not be read (or partly), or
			      NULL */
};

struct snapshot *snap_new(void);
void snap_free(struct snapshot *s);

/* Append a zeroed thread / frame and return it (arrays grow; pointers to
 * earlier elements are invalidated). */
struct snap_thread *snap_add_thread(struct snapshot *s);
struct snap_frame *snap_add_frame(struct snap_thread *t);
struct snap_task *snap_add_task(struct snapshot *s);
struct snap_frame *snap_task_add_frame(struct snap_task *t);

#endif
