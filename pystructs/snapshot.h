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

/* What a local variable is to its frame. */
enum snap_local_kind {
	SNAP_LOCAL_ARG = 0, /* an argument (also when it is a cell) */
	SNAP_LOCAL_PLAIN,   /* any other local */
	SNAP_LOCAL_CELL,    /* read by a nested function */
	SNAP_LOCAL_FREE,    /* from an enclosing function */
};

/* "arg", "local", "cell", "free" (JSON values). */
const char *snap_local_kind_name(int kind);

struct snap_local {
	char *name;
	int kind;   /* enum snap_local_kind */
	char *type; /* tp_name */
	char *repr; /* bounded repr computed from memory */
};

struct snap_frame {
	char *function; /* co_qualname (3.11+) or co_name; "<unknown>" */
	char *filename;
	int line;       /* -1 when the instruction has no line */
	/* 3.11+: the executing instruction's span, as co_positions() gives
	 * it (columns are 0-based UTF-8 byte offsets, end exclusive); -1
	 * when unknown (always before 3.11). */
	int end_line, column, end_column;
	uint64_t code;  /* code object address (for identity) */
	uint64_t addr;  /* the frame's own address (not printed) */
	struct snap_local *locals; /* arguments first; NULL unless asked */
	size_t nlocals;
	bool torn;      /* changed while being read (unpaused reads) */
	char *importing; /* importlib's _find_and_load frame: the module */
};

/* The GIL as one thread sees it. */
enum snap_gil {
	SNAP_GIL_UNKNOWN = 0,
	SNAP_GIL_NONE,  /* neither holds nor waits for it */
	SNAP_GIL_HOLDS,
	SNAP_GIL_WAITS, /* blocked on the GIL's condition variable */
};

/* "unknown", "none", "holds", "waits" (JSON values). */
const char *snap_gil_name(int gil);

/* The OS view of a thread, read from /proc before the target is paused. */
struct snap_os_thread {
	char state;       /* /proc stat letter (R S D T t Z I ...), 0 unknown */
	char syscall[24]; /* blocking system call's name, "" when none */
	uint64_t arg0;    /* its first argument (a futex's address) */
};

struct snap_thread {
	uint64_t thread_id;  /* threading.get_ident() (pthread_t) */
	int64_t native_id;   /* Linux TID, -1 if unknown */
	int64_t interp_id;   /* interpreter id (0 = main) */
	char *name;          /* threading name, else OS comm, else NULL */
	bool holds_gil;
	int gil;             /* enum snap_gil */
	struct snap_os_thread os;
	bool gc;             /* running the garbage collector */
	char *trace;         /* sys.settrace function's name, or NULL */
	char *profile;       /* sys.setprofile function's name, or NULL */
	char **monitoring;   /* sys.monitoring tools of its interpreter */
	size_t nmonitoring;
	bool eval_hook;      /* a PEP 523 eval function is installed */
	bool hooks_unknown;  /* eval_hook and monitoring could not be read */
	bool torn;           /* some frames changed while being read */
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

/* The documented idle/active rule: a thread is active when the OS runs
 * it (or has it runnable), when it holds the GIL outside a blocking system
 * call, or when it waits for the GIL (it has Python work to do); it is
 * idle when blocked in the kernel for anything else. */
bool snap_thread_active(const struct snap_thread *t);

/* "running", "sleeping", "disk", "stopped", "traced", "zombie", "idle",
 * or NULL when unknown. */
const char *snap_os_state_name(char state);

/* The module a thread is importing (its innermost import), or NULL. */
const char *snap_thread_importing(const struct snap_thread *t);

struct snapshot *snap_new(void);
void snap_free(struct snapshot *s);

/* Append a zeroed thread / frame and return it (arrays grow; pointers to
 * earlier elements are invalidated). */
struct snap_thread *snap_add_thread(struct snapshot *s);
struct snap_frame *snap_add_frame(struct snap_thread *t);
struct snap_task *snap_add_task(struct snapshot *s);
struct snap_frame *snap_task_add_frame(struct snap_task *t);
/* Free t's frames (leaving it with none). */
void snap_thread_release_frames(struct snap_thread *t);
struct snap_local *snap_frame_add_local(struct snap_frame *f, size_t *cap);

#endif
