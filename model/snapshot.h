/*
 * snapshot.h - the seam of the program: what a target looked like at one
 * moment.  Built by pystructs/ (through session/), consumed by cli/
 * writers and tui/, and by the analyses beside it in model/ (lock and
 * await graphs, the native merge), which only read it.
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
	/* Which evaluation-loop activation runs the frame, innermost 0 (not
	 * printed; it places the frame in a native stack). */
	unsigned activation;
};

/* What an entry of a merged native stack is. */
enum snap_stack_kind {
	SNAP_STACK_NATIVE = 0, /* a C frame */
	SNAP_STACK_PYTHON,     /* the Python frame frames[py] */
	SNAP_STACK_MARK,       /* a note in the stack ("unwinding stopped")*/
};

/* One entry of a thread's whole stack (--native). */
struct snap_native {
	int kind;         /* enum snap_stack_kind */
	size_t py;        /* PYTHON: index into the thread's frames */
	char *note;       /* MARK: what happened here */
	uint64_t pc;      /* NATIVE: where it runs (innermost) or returns */
	char *function;   /* the symbol covering pc, NULL when none */
	uint64_t offset;  /* pc - the symbol's start */
	char *library;    /* short name of the mapped file, NULL if none */
	uint64_t lib_offset; /* pc - the file's load bias */
	int source;       /* where the name came from: 0 none, 1 symtab,
			     2 dynsym, 3 debuginfo (JSON "symbol_source") */
	bool internal;    /* in the interpreter's own binary */
	bool eval;        /* an evaluation-loop activation */
};

/* "none", "symtab", "dynsym", "debuginfo". */
const char *snap_symbol_source_name(int source);

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
	bool syscall_unknown; /* blocked, and what in could not be read */
};

/* What a blocked system call waits on (JSON "waits_on" "kind"). */
enum snap_wait_kind {
	SNAP_WAIT_FILE = 1, /* "file": path (NULL: not known as the
			       target sees it) */
	SNAP_WAIT_FIFO,     /* "fifo": path, inode, other_end */
	SNAP_WAIT_PIPE,     /* "pipe": inode, other_end */
	SNAP_WAIT_SOCKET,   /* "socket": proto, local, peer, state; unix:
			       path */
	SNAP_WAIT_OTHER,    /* "other": path is the kernel's name
			       ("anon_inode:[eventfd]") */
	SNAP_WAIT_CHILD,    /* "child": pid (-1: any child), cmdline */
};

/* "file", "fifo", "pipe", "socket", "other", "child"; NULL if none. */
const char *snap_wait_kind_name(int kind);

/* A process holding the other end of a pipe or FIFO. */
struct snap_wait_end {
	int64_t pid;       /* as we see it */
	char *comm;        /* NULL when unknown */
};

/* What a thread's blocking system call waits on, read from /proc when
 * the target was paused.  Strings are /proc's (untrusted: writers escape
 * them); NULL when not known. */
struct snap_wait {
	int kind;          /* enum snap_wait_kind */
	int fd;            /* the descriptor, -1 for a child */
	char *path;
	uint64_t inode;    /* pipe, FIFO, socket; 0 unknown */
	char *proto;       /* "tcp", "tcp6", "udp", "udp6", "unix" */
	char *local, *peer; /* "127.0.0.1:41234", "[::1]:80" */
	char *state;       /* "ESTABLISHED", "LISTEN", ... */
	struct snap_wait_end *ends; /* the other end's holders (a TCP
				       socket's on this host too: not
				       printed) */
	size_t nends;
	bool ends_more;    /* more held it than are listed */
	bool ends_partial; /* the scan for them stopped at a bound: others
			      may hold it (not printed) */
	int64_t pid;       /* child */
	char *cmdline;     /* child: its arguments joined by spaces */
};

void snap_wait_free(struct snap_wait *w);

/* What a thread or task holds or waits for (JSON "type" names). */
enum snap_lock_type {
	SNAP_LOCK_NONE = 0,
	SNAP_LOCK_LOCK,       /* threading.Lock (_thread.lock) */
	SNAP_LOCK_RLOCK,      /* threading.RLock (2.7: Python's _RLock) */
	SNAP_LOCK_CONDITION,
	SNAP_LOCK_SEMAPHORE,
	SNAP_LOCK_BOUNDED_SEMAPHORE,
	SNAP_LOCK_EVENT,
	SNAP_LOCK_BARRIER,
	SNAP_LOCK_QUEUE,      /* queue.Queue and its subclasses */
	SNAP_LOCK_THREAD,     /* a thread being joined */
	SNAP_LOCK_IMPORT,     /* importlib's per-module lock */
	SNAP_LOCK_ASYNC_LOCK,
	SNAP_LOCK_ASYNC_SEMAPHORE,
	SNAP_LOCK_ASYNC_BOUNDED_SEMAPHORE,
	SNAP_LOCK_ASYNC_CONDITION,
	SNAP_LOCK_ASYNC_EVENT,
	SNAP_LOCK_ASYNC_QUEUE,
	SNAP_LOCK_TYPES
};

/* "threading.Lock", ..., "thread", "import", "asyncio.Lock", ... */
const char *snap_lock_type_name(int type);

/* Does waiting on this type end only when someone else acts, with no
 * holder to blame (Event, Condition, Semaphore, Barrier, Queue)? */
bool snap_lock_type_holderless(int type);

/* A thread (by thread_id) or a task (by id). */
struct snap_party {
	bool is_task;
	uint64_t id;
};

static inline bool snap_same_party(const struct snap_party *a,
				   const struct snap_party *b)
{
	return a->is_task == b->is_task && a->id == b->id;
}

/* A place in the code: where a lock was taken, where a wait happens. */
struct snap_place {
	char *function;
	char *filename;
	int line;
};

/* How the holder of a lock is known (JSON "evidence" names). */
enum snap_evidence {
	SNAP_EVIDENCE_NONE = 0,
	SNAP_EVIDENCE_OWNER,  /* the lock records its owner (RLock) */
	SNAP_EVIDENCE_WITH,   /* a frame is inside `with lock:` */
	SNAP_EVIDENCE_IMPORT, /* _ModuleLock.owner */
	SNAP_EVIDENCE_THREAD, /* a join waits for that thread itself */
};
const char *snap_evidence_name(int evidence);

struct snap_lock_waiter {
	struct snap_party who;
	struct snap_place at; /* the waiter's own frame (outside the
				 threading / queue / asyncio / importlib
				 code it is blocked in) */
	bool timeout;         /* it waits with a timeout */
	bool exact;           /* matched by its futex address */
};

/* A synchronisation object that a thread or task holds or waits for. */
struct snap_lock {
	uint64_t address;     /* the object (id()) */
	int type;             /* enum snap_lock_type */
	char *name;           /* import: the module; NULL otherwise */
	bool has_holder;
	struct snap_party holder;
	bool has_held_since;
	struct snap_place held_since; /* the holder's with / import */
	int evidence;         /* enum snap_evidence */
	struct snap_lock_waiter *waiters;
	size_t nwaiters, waiters_cap;
};

/* One step of a deadlock or a hang: who waits for which lock. */
struct snap_link {
	struct snap_party who;
	uint64_t lock;        /* address of a struct snap_lock */
};

/* A lock cycle (each link's lock is held by the next link's party, the
 * last one's by the first) or a hang chain (each lock held by the next
 * party; the last party waits, with no timeout, on something no one
 * holds: an Event, a Condition, ...). */
struct snap_chain {
	struct snap_link *links;
	size_t n;
};

/* The overall answer (JSON "verdict"). */
enum snap_verdict {
	SNAP_VERDICT_NONE = 0,    /* "none" */
	SNAP_VERDICT_LIKELY_HANG, /* "likely_hang" */
	SNAP_VERDICT_DEADLOCK,    /* "deadlock" */
};

struct snap_thread {
	uint64_t thread_id;  /* threading.get_ident() (pthread_t) */
	int64_t native_id;   /* Linux TID, -1 if unknown */
	int64_t ns_native_id; /* the TID in the target's own PID namespace
				 when it has one (a container), else -1 */
	int64_t interp_id;   /* interpreter id (0 = main) */
	char *name;          /* threading name, else OS comm, else NULL */
	bool holds_gil;
	int gil;             /* enum snap_gil */
	struct snap_os_thread os;
	struct snap_wait *waits_on; /* what its system call waits on, or
				       NULL (not paused, or nothing named) */
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
	uint64_t waits_for;  /* the struct snap_lock it waits on, or 0 */
	/* concurrent.futures (3.7+): the Future whose result() it is
	 * blocked in (0: none), whether with a timeout; the future of the
	 * work item it runs and the ThreadPoolExecutor it works for (0: it
	 * is no pool worker). */
	uint64_t waits_future;
	bool future_timeout;
	/* ... or in concurrent.futures.wait() / as_completed(): the futures
	 * not done yet, and whether one of them is enough (FIRST_COMPLETED,
	 * as_completed) or it needs them all; future_timeout as above. */
	uint64_t *waits_futures;
	size_t nwaits_futures;
	bool waits_any;
	uint64_t runs_future;
	uint64_t executor;
	/* --native: the whole stack, innermost first, Python frames merged
	 * in where the evaluation loop runs them. */
	bool has_native;
	bool native_only;    /* an OS thread that has no Python state */
	struct snap_native *native;
	size_t nnative, native_cap;
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
	uint64_t waits_for; /* the struct snap_lock it waits on, or 0 */
};

/* An await cycle: tasks[0] awaits tasks[1] ... awaits tasks[0]. */
struct snap_cycle {
	uint64_t *tasks;
	size_t n;
};

/* An asyncio event loop that tasks of the snapshot run on (3.8+). */
struct snap_loop {
	uint64_t id;          /* the loop object's address */
	bool has_thread;
	uint64_t thread_id;   /* the thread in its run_forever() (_thread_id) */
	size_t nready;        /* callbacks in _ready, waiting for a turn */
	size_t ntimers;       /* handles in _scheduled */
	bool has_next_timer;
	/* Seconds until its earliest timer is due, by the loop's clock
	 * (time.monotonic(), our CLOCK_MONOTONIC) when the snapshot was
	 * read; negative: overdue.  Every turn of the loop moves the timers
	 * that are due to _ready, so an overdue timer means no turn since. */
	double next_timer;
	/* Objects the closures of its ready callbacks hold: the
	 * concurrent.futures.Future of a run_coroutine_threadsafe() whose
	 * coroutine the loop has not started yet is among them. */
	uint64_t *ready_refs;
	size_t nready_refs;
};

/* A loop whose thread has stayed in synchronous code (a task's step or a
 * callback) while its timers fell due: no other task of it can run. */
struct snap_blocked_loop {
	uint64_t loop;        /* the struct snap_loop's id */
	uint64_t thread_id;   /* its thread */
	bool has_task;
	uint64_t task;        /* the task whose step runs now, if any */
	double stuck;         /* seconds its earliest timer is overdue: a
				 lower bound on how long the loop is stuck */
};

/* A loop is said blocked only when its earliest timer is overdue by more
 * than this many seconds: a callback that is merely slow for a moment is
 * no hang. */
#define SNAP_LOOP_STUCK_MIN 1.0

/* A thread that has held the GIL at one Python frame, at one instruction,
 * inside a C call (a regex, an extension), while other threads waited for
 * the GIL: no other Python code of its interpreter runs until it returns. */
struct snap_gil_held {
	uint64_t thread_id;   /* the holder */
	double held;          /* seconds it was seen so: a lower bound */
	size_t waiters;       /* threads seen waiting for the GIL (the most
				 in one look) */
	char *function;       /* its innermost C function (--native), or
				 NULL */
	char *library;        /* ... and that function's library, or NULL */
};

/* A work item of a ThreadPoolExecutor: running on a worker, or queued. */
struct snap_work {
	uint64_t future;      /* its concurrent.futures.Future */
	uint64_t executor;    /* the executor, 0 unknown */
	char *function;       /* the callable's name, or NULL */
	bool running;
	uint64_t thread_id;   /* running: the worker; loop: its thread */
	uint64_t loop;        /* not a pool's: a callback waiting in this
				 event loop (run_coroutine_threadsafe()) will
				 run it, on the loop's thread */
};

/* One thread of an executor deadlock: what it waits for and who would
 * run it. */
struct snap_future_wait {
	uint64_t thread_id;
	uint64_t future;      /* the future whose result() it waits for (in
				 wait() / as_completed(): one that blocks it) */
	uint64_t run_by;      /* the worker running that future, or the
				 thread of the loop that will, or 0 */
	uint64_t loop;        /* that loop, or 0 */
	uint64_t executor;    /* else: the executor it is queued in */
};

/* Threads waiting for futures that only threads of the set could run:
 * each future runs on one of them, or is queued in an executor whose
 * workers are all among them. */
struct snap_executor_deadlock {
	struct snap_future_wait *waits;
	size_t n;
};

/* One process of a wait across processes: its thread blocked in a system
 * call that only another process can end (a child to exit, a pipe's
 * other end to read or write).  Strings are /proc's (untrusted: writers
 * escape them); NULL when not known. */
struct snap_proc_step {
	int64_t pid;          /* as we see it */
	int64_t tid;
	uint64_t thread_id;   /* the dumped process's thread (its
				 threading id), 0 for another process */
	char *comm;
	char *cmdline;        /* arguments joined by spaces */
	char *syscall;        /* "wait4", "write", ... */
	int kind;             /* SNAP_WAIT_CHILD, _PIPE, _FIFO or _SOCKET
				 (TCP on this host) */
	int fd;               /* -1 for a child */
	uint64_t inode;       /* pipe, FIFO, socket (its own end) */
	bool writes;          /* it writes to the pipe (waits for a reader);
				 else it reads (waits for a writer) */
	int64_t waits_for;    /* the process that would end the wait */
	/* Another process that runs Python: its version and the blocked
	 * thread's Python stack, innermost first (from a paused read of its
	 * own); NULL / 0 otherwise, and for the dumped process (its thread
	 * is in threads[]). */
	char *python;
	struct snap_frame *frames;
	size_t nframes;
};

/* A chain of waits across processes, from a thread of the dumped one:
 * steps[i] waits for steps[i + 1]'s process.  A deadlock when the last
 * step waits for the dumped process itself (steps[0]'s); else a likely
 * hang: the last waits for steps[cycle_from]'s process, a cycle the
 * dumped process is stuck behind. */
struct snap_proc_wait {
	struct snap_proc_step *steps;
	size_t n;
	bool deadlock;
	size_t cycle_from;
};

/* At most this many processes in one chain. */
#define SNAP_PROC_WAIT_MAX 8

/* Free w's steps (snap_free frees s->proc_waits). */
void snap_proc_wait_release(struct snap_proc_wait *w);

/* Where a snapshot read from a core file comes from. */
struct snap_core {
	char *file;          /* the core file, as given */
	char *compression;   /* "zstd", "lz4", "xz", "gzip", or NULL */
	char *args;          /* the command line it records (cut at 80
				bytes by the kernel), or NULL */
	int signo;           /* the signal it was written for; 0 when it
				records none (gcore) */
	int code;            /* that signal's si_code */
	bool has_addr;       /* a fault: the address is known */
	uint64_t addr;       /* the faulting address */
	int64_t tid;         /* the thread the signal came to, -1 */
	uint64_t pc;         /* where that thread was */
	char *function;      /* the symbol there, or NULL */
	char *library;       /* the file it is in, or NULL */
};

struct snapshot {
	pid_t pid;
	pid_t ns_pid;      /* its PID in its own PID namespace, 0 when it
			      shares ours */
	char *version;     /* "3.12.1" */
	char *executable;  /* target's executable path */
	char *libpython;   /* libpython path, or NULL when linked in */
	char *warning;     /* why the reading may be wrong (a version newer
			      than snakescope knows), or NULL */
	char *host;        /* the machine's host name (uname's nodename) for
			      a live process; NULL when unknown (a core) */
	struct snap_core *core; /* read from a core file: which; NULL for a
				   live process */
	bool paused;       /* read with the target stopped */
	bool stopped;      /* it was stopped before we came (SIGSTOP, job
			      control, a debugger) and was left so */
	struct snap_thread *threads; /* main thread first */
	size_t nthreads, threads_cap;
	char *threads_note; /* why threads are left out (a thread list
			       longer than its bound), or NULL: every
			       thread is in threads[] */
	struct snap_task *tasks;     /* asyncio tasks not yet done */
	size_t ntasks, tasks_cap;
	struct snap_cycle *cycles;   /* await cycles among them */
	size_t ncycles;
	char *tasks_note;  /* why tasks could not be read (or partly), or
			      NULL */
	struct snap_loop *loops;     /* the loops of s->tasks */
	size_t nloops, loops_cap;
	struct snap_blocked_loop *blocked_loops; /* likely hangs */
	size_t nblocked_loops;
	struct snap_gil_held *gil_held; /* likely hangs (snap_find_gil_held) */
	size_t ngil_held;
	struct snap_work *works;      /* pool work items, running or
					 queued */
	size_t nworks, works_cap;
	struct snap_executor_deadlock *executor_deadlocks;
	size_t nexecutor_deadlocks;
	bool locks_read;   /* locks, lock_cycles and hangs were looked for */
	struct snap_lock *locks;      /* held or waited for, sorted by
					 address */
	size_t nlocks;
	struct snap_chain *lock_cycles; /* deadlocks through locks */
	size_t nlock_cycles;
	struct snap_chain *hangs;     /* likely hangs */
	size_t nhangs;
	struct snap_proc_wait *proc_waits; /* waits across processes:
					     deadlocks and likely hangs */
	size_t nproc_waits;
};

/* The lock at 'address', or NULL. */
const struct snap_lock *snap_find_lock(const struct snapshot *s,
				       uint64_t address);

/* The thread / task a party names, or NULL. */
const struct snap_thread *snap_party_thread(const struct snapshot *s,
					    const struct snap_party *who);
const struct snap_task *snap_party_task(const struct snapshot *s,
					const struct snap_party *who);

/*
 * Find the lock cycles (deadlocks: each party waits for a lock held by the
 * next) and hang chains among s->locks and the threads' and tasks'
 * waits_for; fills s->lock_cycles and s->hangs.  Pure: reads no memory.
 */
void snap_find_deadlocks(struct snapshot *s);

/* Find the await cycles of s->tasks (edges: awaited_by) and store them in
 * s->cycles (model/task_graph.c). */
void snap_find_cycles(struct snapshot *s);

/*
 * Find the loops of s->loops whose thread runs synchronous code (its
 * innermost frame is not the selector's select()) while their earliest
 * timer is overdue by more than SNAP_LOOP_STUCK_MIN seconds, and store
 * them in s->blocked_loops, with the task running on each (model/
 * loop_check.c).  Only meaningful when the timers were read against the
 * target's clock now: a live process, not a core file.  Pure.
 */
void snap_find_blocked_loops(struct snapshot *s);

/*
 * Add to s->works, for each future a thread waits for in result() that a
 * ready callback of a loop holds (s->loops' ready_refs) and no pool runs,
 * an item run by that loop's thread.  Pure.
 */
void snap_add_loop_works(struct snapshot *s);

/*
 * Find the threads blocked for good in Future.result() (no timeout): a
 * thread is free when it waits for no future, when its future is run by
 * a free thread, when it is queued in an executor with a free worker, or
 * when no worker runs or holds it (someone else may set it); the rest,
 * if any, are one deadlock in s->executor_deadlocks (model/
 * future_graph.c).  Pure.
 */
void snap_find_executor_deadlocks(struct snapshot *s);

/*
 * Is it worth watching s's GIL (snap_find_gil_held)?  True when a thread
 * holds the GIL with a Python frame while another of its interpreter
 * waits for it, or may (it runs, or sleeps on a futex that one read of
 * its system call does not tell from the GIL's).  Pure.
 */
bool snap_gil_contended(const struct snapshot *s);

/*
 * Find in s the threads that held the GIL inside a C call while others
 * waited for it (model/gil_check.c): 'looks' are nlooks snapshots of the
 * same process taken after s over 'window' seconds (not owned).  A
 * holder of s is one when it held the GIL in every look at the same
 * innermost Python frame and instruction (code, frame, line and
 * columns), its stack otherwise the same, and at least one thread of its
 * interpreter waited for the GIL in s or a look: Python code that runs
 * drops the GIL every switch interval (5 ms) to a waiter, and moves on.
 * Adds to s->gil_held.  Pure.
 */
void snap_find_gil_held(struct snapshot *s,
			const struct snapshot *const *looks, size_t nlooks,
			double window);

/* The work item of 'future' in s->works, or NULL. */
const struct snap_work *snap_find_work(const struct snapshot *s,
				       uint64_t future);

/* Append a zeroed work item to s->works and return it. */
struct snap_work *snap_add_work(struct snapshot *s);

/* The innermost frame of t outside threading and concurrent.futures (the
 * code that waits), or NULL. */
const struct snap_frame *snap_thread_user_frame(const struct snap_thread *t);

/* True if the thread waits in an event loop's selector (select, poll,
 * epoll), i.e. its loop is idle between turns. */
bool snap_thread_in_selector(const struct snap_thread *t);

/* Free s's locks, lock cycles and hangs (snap_free does it too). */
void snap_locks_release(struct snapshot *s);

/* Deadlock if any lock, await, executor or process cycle, else likely hang
 * if any hang chain, blocked loop, process chain or GIL held in C, else
 * none. */
int snap_verdict(const struct snapshot *s);

/* "none", "likely_hang", "deadlock". */
const char *snap_verdict_name(int verdict);

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

/* Append a zeroed loop to s->loops and return it. */
struct snap_loop *snap_add_loop(struct snapshot *s);
/* The loop of s->loops whose id (address) is 'id', or NULL. */
const struct snap_loop *snap_find_loop(const struct snapshot *s, uint64_t id);
/* Append a zeroed thread / frame and return it (arrays grow; pointers to
 * earlier elements are invalidated). */
struct snap_thread *snap_add_thread(struct snapshot *s);
struct snap_frame *snap_add_frame(struct snap_thread *t);
struct snap_task *snap_add_task(struct snapshot *s);
struct snap_frame *snap_task_add_frame(struct snap_task *t);
/* Free t's frames (leaving it with none). */
void snap_thread_release_frames(struct snap_thread *t);
struct snap_local *snap_frame_add_local(struct snap_frame *f, size_t *cap);
/* Append a zeroed entry to t's native stack and return it. */
struct snap_native *snap_add_native(struct snap_thread *t);
void snap_thread_release_native(struct snap_thread *t);

#endif
