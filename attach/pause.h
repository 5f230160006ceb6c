/*
 * pause.h - stop every thread of a target with ptrace, and always resume.
 *
 * pause_target() seizes every thread (PTRACE_SEIZE + PTRACE_INTERRUPT) and
 * waits until each is in a ptrace-stop, re-listing /proc/PID/task until no
 * new thread appears.  pause_resume() detaches them all, handing back any
 * signal that arrived meanwhile.
 *
 * Resumption is guaranteed on every exit path: call pause_guard_install()
 * once at start-up and fatal signals (SIGINT, SIGTERM, SIGHUP, SIGPIPE,
 * SIGQUIT and the crash signals) detach the paused threads before the
 * process dies.  If the inspector is killed with SIGKILL, the kernel
 * detaches its tracees itself (exit_ptrace()), which resumes them.
 *
 * A target that is already stopped (job control, SIGSTOP) is not touched:
 * its memory cannot change, and it is left stopped.
 */
#ifndef SNAKESCOPE_PAUSE_H
#define SNAKESCOPE_PAUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"

#define PAUSE_MAX_THREADS 65536 /* as many as a core holds (CORE_MAX_THREADS);
				   more is refused, SS_ELIMIT */

struct pause_task {
	pid_t tid;
	int pending_sig; /* signal to re-deliver at detach, or 0 */
	bool stopped;
};

struct pause {
	pid_t pid;
	bool already_stopped; /* target was stopped before we came */
	bool one;             /* pause_thread()'s: held at real-time
				 priority, where it may be had */
	size_t n;
	struct pause_task *task; /* PAUSE_MAX_THREADS entries, never moved */
};

/*
 * Pause every thread of pid.  On success the target is stopped (or was
 * already) and *p must be passed to pause_resume().  On failure nothing is
 * left paused; errors: SS_EPERM (with a hint), SS_ENOPROC/SS_EEXITED,
 * SS_EPTRACE, SS_ELIMIT.
 */
int pause_target(pid_t pid, struct pause *p, struct err *e);

/* The registers of thread tid, stopped by p: false when it is not. */
bool pause_task_regs(const struct pause *p, pid_t tid,
		     struct user_regs_struct *regs);

/*
 * Stop thread tid of process pid alone (PTRACE_SEIZE + PTRACE_INTERRUPT),
 * the rest of the process running on: for reading one thread's registers
 * and stacks while the others work.  p must hold no thread (as left by
 * memset or pause_resume()): one thread at a time.  Returns 0 with the
 * thread stopped (pause_task_regs() works; pause_resume() lets it go, and
 * the fatal-signal guard does too), 1 when it is gone or did not stop in
 * time (nothing to read; pause_resume() all the same), or an error:
 * SS_EPERM (another tracer, or permission), SS_EPTRACE.  Not for a
 * process stopped by job control: the caller checks that first.  From
 * the seize to pause_resume(), snakescope runs at real-time priority
 * (SCHED_FIFO 1, with CAP_SYS_NICE), so that the hold is not stretched
 * by other tasks taking its CPU.
 */
int pause_thread(pid_t pid, pid_t tid, struct pause *p, struct err *e);

/* Resume everything pause_target() or pause_thread() stopped.  Safe to
 * call twice. */
void pause_resume(struct pause *p);

/* Install the fatal-signal handlers that resume a paused target. */
void pause_guard_install(void);

/* Resume the currently paused target, if any (async-signal-safe). */
void pause_emergency_resume(void);

#endif
