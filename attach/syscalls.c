#include <config.h>

#include "attach/proc.h"

#include <stdio.h>
#include <sys/syscall.h>

/* System calls a thread commonly blocks in, by number on this machine's
 * architecture (some do not exist on every architecture). */
static const struct {
	long nr;
	const char *name;
} syscall_names[] = {
	{ SYS_futex, "futex" },
	{ SYS_read, "read" },
	{ SYS_write, "write" },
	{ SYS_readv, "readv" },
	{ SYS_writev, "writev" },
	{ SYS_pread64, "pread64" },
	{ SYS_pwrite64, "pwrite64" },
	{ SYS_openat, "openat" },
	{ SYS_close, "close" },
	{ SYS_ioctl, "ioctl" },
	{ SYS_fsync, "fsync" },
	{ SYS_fdatasync, "fdatasync" },
	{ SYS_flock, "flock" },
	{ SYS_fcntl, "fcntl" },
	{ SYS_pselect6, "pselect6" },
	{ SYS_ppoll, "ppoll" },
	{ SYS_epoll_pwait, "epoll_pwait" },
	{ SYS_nanosleep, "nanosleep" },
	{ SYS_clock_nanosleep, "clock_nanosleep" },
	{ SYS_wait4, "wait4" },
	{ SYS_waitid, "waitid" },
	{ SYS_rt_sigsuspend, "rt_sigsuspend" },
	{ SYS_rt_sigtimedwait, "rt_sigtimedwait" },
	{ SYS_accept4, "accept4" },
	{ SYS_accept, "accept" },
	{ SYS_connect, "connect" },
	{ SYS_recvfrom, "recvfrom" },
	{ SYS_recvmsg, "recvmsg" },
	{ SYS_recvmmsg, "recvmmsg" },
	{ SYS_sendto, "sendto" },
	{ SYS_sendmsg, "sendmsg" },
	{ SYS_msgrcv, "msgrcv" },
	{ SYS_semtimedop, "semtimedop" },
	{ SYS_sched_yield, "sched_yield" },
	{ SYS_io_getevents, "io_getevents" },
	{ SYS_getrandom, "getrandom" },
	{ SYS_mmap, "mmap" },
	{ SYS_munmap, "munmap" },
	{ SYS_madvise, "madvise" },
	{ SYS_splice, "splice" },
	/* An interrupted sleep or poll() with a timeout, resumed. */
	{ SYS_restart_syscall, "restart_syscall" },
#ifdef SYS_select
	{ SYS_select, "select" },
#endif
#ifdef SYS_poll
	{ SYS_poll, "poll" },
#endif
#ifdef SYS_epoll_wait
	{ SYS_epoll_wait, "epoll_wait" },
#endif
#ifdef SYS_epoll_pwait2
	{ SYS_epoll_pwait2, "epoll_pwait2" },
#endif
#ifdef SYS_pause
	{ SYS_pause, "pause" },
#endif
#ifdef SYS_open
	{ SYS_open, "open" },
#endif
#ifdef SYS_io_uring_enter
	{ SYS_io_uring_enter, "io_uring_enter" },
#endif
#ifdef SYS_futex_waitv
	{ SYS_futex_waitv, "futex_waitv" },
#endif
#ifdef SYS_sendfile
	{ SYS_sendfile, "sendfile" },
#endif
#ifdef SYS_semop
	{ SYS_semop, "semop" },
#endif
};

void proc_syscall_name(long nr, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(syscall_names) / sizeof(syscall_names[0]); i++) {
		if (syscall_names[i].nr == nr) {
			snprintf(buf, size, "%s", syscall_names[i].name);
			return;
		}
	}
	snprintf(buf, size, "syscall %ld", nr);
}

bool proc_regs_syscall(const struct user_regs_struct *regs, long *nr,
		       uint64_t *arg0)
{
#if defined(__x86_64__)
	/* orig_rax is the call's number while the thread is in one (an
	 * interrupted call restarts when it runs again), -1 in user
	 * space. */
	if ((long long)regs->orig_rax < 0)
		return false;
	*nr = (long)regs->orig_rax;
	*arg0 = regs->rdi;
	return true;
#else
	(void)regs;
	(void)nr;
	(void)arg0;
	return false;
#endif
}

bool proc_regs_args(const struct user_regs_struct *regs, long *nr,
		    uint64_t args[6])
{
#if defined(__x86_64__)
	if ((long long)regs->orig_rax < 0)
		return false;
	*nr = (long)regs->orig_rax;
	/* The system call convention: the fourth is in r10, not rcx. */
	args[0] = regs->rdi;
	args[1] = regs->rsi;
	args[2] = regs->rdx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	return true;
#else
	(void)regs;
	(void)nr;
	(void)args;
	return false;
#endif
}
