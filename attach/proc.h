/*
 * proc.h - the target as an OS object: /proc/PID facts.
 */
#ifndef SNAKESCOPE_PROC_H
#define SNAKESCOPE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"

struct proc_info {
	pid_t pid;
	char state;  /* /proc/PID/stat state letter: R S D T t Z X ... */
	pid_t ppid;
	uid_t uid;   /* real uid */
};

/*
 * Check that pid names a live process we may inspect.  Errors:
 * SS_ENOPROC (no such PID, or it is a thread of another process: the
 * message names that process), SS_EZOMBIE, SS_EINVAL (kernel thread).
 */
int proc_check(pid_t pid, struct proc_info *out, struct err *e);

/* State letter of a task (R, S, D, T, t, Z, ...), or 0 if it is gone. */
char proc_task_state(pid_t pid, pid_t tid);

/* Has the process exited (gone, or a zombie not yet reaped)?  A process
 * we may not signal (kill() says EPERM) or whose stat file we may not read
 * has not: only the kernel's "no such process" counts. */
bool proc_gone(pid_t pid);

/* The process tracing task tid of pid (a debugger, strace), or 0: none,
 * or the task is gone. */
pid_t proc_task_tracer(pid_t pid, pid_t tid);

/*
 * State letters of many tasks, again and again (a sampler): the stat
 * files stay open and are re-read with one pread each.  At most
 * PROC_STAT_FDS stay open; others are opened per call.
 */
#define PROC_STAT_FDS 256
/* ... and of the first PROC_QUIET_FDS, the files proc_quiet_begin()
 * reads (-2: not opened yet, -1: cannot be). */
#define PROC_QUIET_FDS 128
struct proc_stat_files {
	pid_t pid;
	struct { pid_t tid; int fd; int quiet[2]; } *v;
	size_t n, cap;
};
void proc_stat_files_init(struct proc_stat_files *f, pid_t pid);
void proc_stat_files_release(struct proc_stat_files *f);
/* As proc_task_state(); a task that is gone has its file closed. */
char proc_stat_files_state(struct proc_stat_files *f, pid_t tid);

/*
 * A read of a thread's memory without stopping it, that is one instant
 * all the same: the thread is off CPU when the read begins and is not
 * switched onto one before it ends, so nothing it does changes what is
 * read (only a thread changes its own Python stack).
 *
 * proc_quiet_begin() takes the thread's count of switches onto a CPU
 * (/proc/PID/task/TID/schedstat, third field), then asks whether it is
 * off CPU now (/proc/.../syscall: the kernel writes "running" for a
 * task that is not inactive); true when it is: read it, then
 * proc_quiet_end() is true when the count has not moved.  False from
 * either: stop it to read it.  Needs the kernel's scheduler statistics
 * (a count of 0 says they are off) and ptrace access to the files.
 */
struct proc_quiet {
	pid_t tid;
	uint64_t switches;
	int fd;    /* schedstat, open from begin to end */
	bool temp; /* fd is not kept: end closes it */
	/* Where it waits, as the syscall file says: the call's number (-1:
	 * in none, a page fault) and arguments, its stack pointer and
	 * program counter. */
	long nr;
	uint64_t args[6], sp, pc;
};
bool proc_quiet_begin(struct proc_stat_files *f, pid_t tid,
		      struct proc_quiet *q);
bool proc_quiet_end(struct proc_quiet *q);

/* A task's state letter and the CPU time it has used (user + system, in
 * clock ticks: sysconf(_SC_CLK_TCK) a second). */
struct proc_task_stat {
	char state;
	uint64_t cpu_ticks;
};
/* Read both; false when the task is gone (its file is closed). */
bool proc_stat_files_read(struct proc_stat_files *f, pid_t tid,
			  struct proc_task_stat *out);

/* Children of pid (from /proc/PID/task/TID/children, all threads), into a
 * malloc'ed array.  Returns how many (0 when none or unreadable). */
size_t proc_children(pid_t pid, pid_t **out);

/*
 * The system call a stopped thread is in, from its registers: its number
 * in *nr and first argument in *arg0; false when it is in user space or
 * the architecture is not one we know (x86-64).  For readers who may not
 * read /proc/PID/task/TID/syscall (root's, mode 0400), and for cores.
 */
bool proc_regs_syscall(const struct user_regs_struct *regs, long *nr,
		       uint64_t *arg0);

/* As proc_regs_syscall(), with all six arguments into args[]. */
bool proc_regs_args(const struct user_regs_struct *regs, long *nr,
		    uint64_t args[6]);

/* The system call name of number nr on this architecture ("futex"), or
 * "syscall NR" for one snakescope does not name. */
void proc_syscall_name(long nr, char *buf, size_t size);

/*
 * The system call the task is blocked in, from /proc/PID/task/TID/syscall
 * (needs ptrace access): its name into name ("" when the task is running
 * or not in a system call) and its first argument into *arg0.  Returns
 * false when the file cannot be read.
 */
bool proc_task_syscall(pid_t pid, pid_t tid, char *name, size_t size,
		       uint64_t *arg0);

/* List the TIDs of pid into a malloc'ed array (*tids, caller frees).
 * Returns 0, or SS_ENOPROC when the process is gone. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n, struct err *e);

/* The task's comm (OS thread name), at most size-1 bytes.  Returns false
 * if it cannot be read. */
bool proc_comm(pid_t pid, pid_t tid, char *buf, size_t size);

/* readlink(/proc/PID/exe) into buf.  Returns false if unreadable. */
bool proc_exe(pid_t pid, char *buf, size_t size);

/*
 * PID namespaces.  A target in a container (a PID namespace below ours)
 * knows itself and its threads by other numbers than we do, and the
 * thread states we read hold its numbers.  The map pairs each TID as we
 * see it with the target's own, from the NSpid lines of
 * /proc/PID/task/TID/status.  In our own namespace the map is empty and
 * every number is its own.
 */
struct proc_nsmap {
	pid_t pid;         /* the target, as we see it */
	pid_t ns_pid;      /* the target as it sees itself; 0: same namespace */
	pid_t *host, *ns;  /* TIDs: ours, its own */
	size_t n, cap;
	uint64_t read_ns;  /* when the TIDs were read (CLOCK_MONOTONIC) */
};

/* Read the target's namespace and, when it has its own, its TIDs. */
void proc_nsmap_init(struct proc_nsmap *m, pid_t pid);
void proc_nsmap_release(struct proc_nsmap *m);

/* The innermost NSpid of a status file's text (its own PID or TID), and
 * in *levels how many namespaces it is seen in: 0 when there is no NSpid
 * line (kernels before 4.1). */
pid_t proc_status_nspid(const char *status, int *levels);

/*
 * Our TID for the target's own TID id: id itself in our namespace; else
 * looked up, with the TIDs re-read (at most every 100 ms) when id is new.
 * -1 when unknown.
 */
int64_t proc_nsmap_host(struct proc_nsmap *m, int64_t id);

/* The target's own TID for our tid, or -1 (same namespace: -1). */
int64_t proc_nsmap_ns(const struct proc_nsmap *m, pid_t tid);

/*
 * What decides whether we may trace a process, gathered to explain a
 * refusal.  Names are "" when unknown.
 */
struct proc_access {
	uid_t uid;                /* ours (effective) */
	char user[64];
	uid_t target_uid;         /* the target's real uid; (uid_t)-1: unknown */
	char target_user[64];
	bool cap_ptrace;          /* CAP_SYS_PTRACE in our effective set */
	bool cap_ptrace_bounding; /* ... and in our bounding set */
	int yama;                 /* kernel.yama.ptrace_scope; -1: no Yama */
	char self[256];           /* our executable, for a setcap command */
};

/* Fill *a for target pid (our side is read even when pid is gone). */
void proc_access_read(pid_t pid, struct proc_access *a);

/*
 * One clause saying what is missing and how to get it, for a message that
 * already says "permission denied": root without CAP_SYS_PTRACE (a
 * container started without it: docker, Kubernetes, kubectl debug);
 * another user's process without CAP_SYS_PTRACE (run as root or that
 * user, or setcap); Yama's ptrace_scope; a process holding privileges we
 * lack; CAP_SYS_PTRACE held and still refused (a security module).
 * Written into buf (size bytes), which is returned.
 */
const char *proc_access_hint(const struct proc_access *a, char *buf,
			     size_t size);

/*
 * proc_access_hint() for process pid as seen now.  Returns a static
 * buffer, overwritten by the next call.
 */
const char *proc_permission_hint(pid_t pid);

#endif
