#include <config.h>

#include "attach/pause.h"
#include "attach/proc.h"
#include "common/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long to wait for one thread to reach its ptrace-stop.  A thread in
 * uninterruptible sleep (D state) may take long; we do not hang on it. */
#define STOP_TIMEOUT_NS (2LL * 1000 * 1000 * 1000)
#define RESCAN_ROUNDS 16
/* How long wait_stop_one() waits on the CPU before it sleeps; at
 * real-time priority (see hold_priority_raise()). */
#define SPIN_NS (200LL * 1000)
#define SPIN_RT_NS (20LL * 1000)

/* The pause the signal handlers must undo.  Written only with the fatal
 * signals unable to see a half-built entry: a task is added before n is
 * incremented. */
static struct pause *volatile guard_pause;

static void detach_all(struct pause *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct pause_task *t = &p->task[i];

		/* Detach needs a stopped tracee; a seized thread that never
		 * stopped is released by PTRACE_DETACH after its stop, or by
		 * the kernel when we exit. */
		ptrace(PTRACE_DETACH, t->tid, NULL,
		       (void *)(long)t->pending_sig);
	}
}

void pause_emergency_resume(void)
{
	struct pause *p = guard_pause;

	if (p) {
		guard_pause = NULL;
		detach_all(p);
	}
}

static void guard_handler(int sig)
{
	int saved = errno;

	pause_emergency_resume();
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

void pause_guard_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT,
				    SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool known(const struct pause *p, pid_t tid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->task[i].tid == tid)
			return true;
	return false;
}

/* PTRACE_SEIZE said EPERM: a thread has one tracer at a time, so say
 * so when another one (a debugger, strace) holds it; else it is the
 * permission. */
static int seize_refused(const struct pause *p, pid_t tid, struct err *e)
{
	pid_t tracer = proc_task_tracer(p->pid, tid);
	char comm[64];

	if (!tracer || tracer == getpid())
		return err_set(e, SS_EPERM, "cannot attach to process %d: "
			       "permission denied; %s", (int)p->pid,
			       proc_permission_hint(p->pid));
	if (!proc_comm(tracer, tracer, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	for (char *c = comm; *c; c++) /* another process's name */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return err_set(e, SS_EPERM, "cannot pause process %d: it is traced "
		       "by process %d (%s), and a process has one tracer at a "
		       "time; detach that one, or read without pausing "
		       "(--no-pause)", (int)p->pid, (int)tracer, comm);
}

/* Seize and interrupt one thread.  0, 1 if the thread vanished, or an
 * error. */
static int seize_one(struct pause *p, pid_t tid, struct err *e)
{
	struct pause_task *t;

	if (p->n >= PAUSE_MAX_THREADS)
		return err_set(e, SS_ELIMIT, "process %d has more than %d "
			       "threads", (int)p->pid, PAUSE_MAX_THREADS);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		if (errno == ESRCH)
			return 1;
		/* The kernel refuses to attach to a thread that has begun to
		 * exit (PF_EXITING) with EPERM, not ESRCH: once its process's
		 * main thread is ours, that is what a refusal of another of
		 * its threads, with no other tracer, means. */
		if (errno == EPERM && tid != p->pid && known(p, p->pid) &&
		    !proc_task_tracer(p->pid, tid))
			return 1;
		if (errno == EPERM)
			return seize_refused(p, tid, e);
		return err_set(e, SS_EPTRACE, "cannot attach to thread %d of "
			       "process %d: %s", (int)tid, (int)p->pid,
			       strerror(errno));
	}
	t = &p->task[p->n];
	t->tid = tid;
	t->pending_sig = 0;
	t->stopped = false;
	p->n++;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH)
		return err_set(e, SS_EPTRACE, "cannot interrupt thread %d: %s",
			       (int)tid, strerror(errno));
	return 0;
}

/* t has reached a ptrace-stop, as status says. */
static void stopped(struct pause_task *t, int status)
{
	int sig = WSTOPSIG(status);

	t->stopped = true;
	/* A signal-delivery-stop (not our interrupt, not a group-stop
	 * event) holds a signal for the target: give it back at detach. */
	if ((status >> 16) == 0 && sig != SIGTRAP)
		t->pending_sig = sig;
}

/* Wait for t's ptrace-stop.  Returns false if the thread exited. */
static bool wait_stop(struct pause_task *t)
{
	long long deadline = now_ns() + STOP_TIMEOUT_NS;
	long delay_ns = 2000;

	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;
		if (r == 0) {
			struct timespec ts = { 0, delay_ns };

			if (now_ns() > deadline)
				return true; /* not stopped; keep going */
			nanosleep(&ts, NULL);
			if (delay_ns < 1000000)
				delay_ns *= 2;
			continue;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return false;
		if (WIFSTOPPED(status)) {
			stopped(t, status);
			return true;
		}
	}
}

/*
 * While a thread is held alone, snakescope runs at real-time priority
 * (SCHED_FIFO 1): on a loaded machine, a waker that lost its CPU to
 * another task, or woke late at the thread's stop, would keep the
 * thread stopped a time slice (milliseconds), not the tens of
 * microseconds its read takes.  Raised before the seize, back to
 * snakescope's own policy after the detach.  It needs CAP_SYS_NICE
 * (privs_drop() keeps it); refused once, it is not tried again and
 * holds run at the ordinary priority.  SCHED_RESET_ON_FORK: a program
 * record starts never inherits it.
 */
static struct {
	bool refused;
	bool raised;
	int policy; /* snakescope's own, as sched_getscheduler() says */
	struct sched_param param;
} hold_prio;

static void hold_priority_raise(void)
{
	struct sched_param rt = { .sched_priority = 1 };
	int policy;

	if (hold_prio.refused || hold_prio.raised)
		return;
	policy = sched_getscheduler(0);
	if (policy < 0 || sched_getparam(0, &hold_prio.param) < 0 ||
	    (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO ||
	    (policy & ~SCHED_RESET_ON_FORK) == SCHED_RR) {
		hold_prio.refused = true; /* already real-time: leave it */
		return;
	}
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK,
			       &rt) < 0) {
		hold_prio.refused = true;
		return;
	}
	hold_prio.policy = policy;
	hold_prio.raised = true;
}

static void hold_priority_restore(void)
{
	if (!hold_prio.raised)
		return;
	hold_prio.raised = false;
	if (sched_setscheduler(0, hold_prio.policy, &hold_prio.param) < 0)
		hold_prio.refused = true;
}

/*
 * wait_stop() for one thread.  A running thread stops within
 * microseconds of the interrupt: wait for that on the CPU (briefly at
 * real-time priority, where spinning could keep the thread itself from
 * our CPU), then sleep until the SIGCHLD its stop sends us (blocked
 * meanwhile, so that it waits for sigtimedwait(), whatever its
 * disposition) rather than poll: a thread stopped alone is held only as
 * long as it must, not until the next poll.  The signal is blocked only
 * once we must sleep (two system calls fewer for a thread that stops
 * while we spin); a SIGCHLD discarded before that is made up for by the
 * waitpid() that follows the blocking.  Nothing else in snakescope
 * handles SIGCHLD; one for another child only wakes the loop.
 */
static bool wait_stop_one(struct pause_task *t)
{
	long long start = now_ns(), deadline = start + STOP_TIMEOUT_NS;
	long long spin = hold_prio.raised ? SPIN_RT_NS : SPIN_NS;
	sigset_t chld, old;
	bool ok = true, blocked = false;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);
		long long left;
		struct timespec ts;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && (WIFEXITED(status) ||
					WIFSIGNALED(status)))) {
			ok = false;
			break;
		}
		if (r > 0 && WIFSTOPPED(status)) {
			stopped(t, status);
			break;
		}
		if (now_ns() - start < spin)
			continue;
		if (!blocked) {
			pthread_sigmask(SIG_BLOCK, &chld, &old);
			blocked = true;
			continue; /* a stop before the block: seen now */
		}
		left = deadline - now_ns();
		if (left <= 0)
			break; /* not stopped; keep going */
		ts.tv_sec = left / 1000000000LL;
		ts.tv_nsec = left % 1000000000LL;
		sigtimedwait(&chld, NULL, &ts);
	}
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

int pause_target(pid_t pid, struct pause *p, struct err *e)
{
	struct proc_info info;
	int rc;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	rc = proc_check(pid, &info, e);
	if (rc)
		return rc;
	if (info.state == 'T' || info.state == 't') {
		p->already_stopped = true;
		return 0;
	}
	p->task = xcalloc(PAUSE_MAX_THREADS, sizeof(*p->task));
	guard_pause = p;
	for (int round = 0; round < RESCAN_ROUNDS; round++) {
		pid_t *tids;
		size_t n, added = 0;

		rc = proc_tasks(pid, &tids, &n, e);
		if (rc)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			if (known(p, tids[i]))
				continue;
			rc = seize_one(p, tids[i], e);
			if (rc < 0) {
				free(tids);
				goto fail;
			}
			added += rc == 0;
		}
		free(tids);
		if (added == 0)
			break;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (!wait_stop(&p->task[i]))
			p->task[i].tid = -1; /* exited; nothing to detach */
	}
	if (p->n == 0 || proc_gone(pid)) {
		rc = err_set(e, SS_EEXITED, "process %d exited", (int)pid);
		goto fail;
	}
	return 0;
fail:
	pause_resume(p);
	return rc;
}

int pause_thread(pid_t pid, pid_t tid, struct pause *p, struct err *e)
{
	int rc;

	assert(!p->n && !p->task);
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	/* seize_one() bounds p->n by PAUSE_MAX_THREADS; one entry is all
	 * this pause ever holds, so it never reaches a second */
	p->task = xcalloc(1, sizeof(*p->task));
	p->one = true;
	guard_pause = p;
	hold_priority_raise();
	rc = seize_one(p, tid, e);
	if (rc == 0 && !wait_stop_one(&p->task[0]))
		p->task[0].tid = -1; /* exited; nothing to detach */
	if (rc < 0) {
		pause_resume(p);
		return rc;
	}
	return rc == 0 && p->task[0].tid > 0 && p->task[0].stopped ? 0 : 1;
}

bool pause_task_regs(const struct pause *p, pid_t tid,
		     struct user_regs_struct *regs)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->task[i].tid == tid && p->task[i].stopped)
			return ptrace(PTRACE_GETREGS, tid, NULL, regs) == 0;
	return false;
}

void pause_resume(struct pause *p)
{
	if (guard_pause == p)
		guard_pause = NULL;
	if (p->task) {
		for (size_t i = 0; i < p->n; i++)
			if (p->task[i].tid > 0 && !p->task[i].stopped)
				wait_stop(&p->task[i]);
		detach_all(p);
	}
	if (p->one)
		hold_priority_restore();
	free(p->task);
	p->task = NULL;
	p->n = 0;
	p->one = false;
}
