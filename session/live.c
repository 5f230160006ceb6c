/*
 * live.c - a live process as a kind of target: /proc, ptrace, and its
 * files opened inside its own root (attach/).
 */
#include <config.h>

#include "session/session.h"
#include "session/kind.h"
#include "attach/fdwait.h"
#include "attach/maps.h"
#include "attach/privs.h"
#include "attach/rootfs.h"
#include "common/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int live_tids(struct session *s, pid_t **tids, size_t *n,
		     struct err *e)
{
	return proc_tasks(s->pid, tids, n, e);
}

static void live_os_states(struct session *s, const pid_t *tids, size_t n,
			   struct snap_os_thread *os)
{
	for (size_t i = 0; i < n; i++) {
		os[i].state = proc_task_state(s->pid, tids[i]);
		/* /proc/PID/task/TID/syscall is root's, mode 0400: a user
		 * holding CAP_SYS_PTRACE alone cannot read it.  The held
		 * thread's registers will tell (session.c). */
		os[i].syscall_unknown =
			!proc_task_syscall(s->pid, tids[i], os[i].syscall,
					   sizeof(os[i].syscall), &os[i].arg0) &&
			(os[i].state == 'S' || os[i].state == 'D');
		/* A poll() or a timed futex wait that an earlier pause
		 * interrupted is resumed as restart_syscall: call it what it
		 * is (attach/fdwait.h). */
		if (!strcmp(os[i].syscall, "restart_syscall")) {
			const char *call = fdwait_resumed_call(s->pid, tids[i]);

			if (call)
				snprintf(os[i].syscall, sizeof(os[i].syscall),
					 "%s", call);
		}
	}
}

static int live_hold(struct session *s, bool *stopped, struct err *e)
{
	int rc = pause_target(s->pid, &s->pz, e);

	*stopped = !rc && s->pz.already_stopped;
	return rc;
}

static void live_release(struct session *s)
{
	pause_resume(&s->pz);
}

static size_t live_held(struct session *s, const pid_t **tids)
{
	static pid_t none;
	pid_t *v;

	/* The pause's own list: threads born between the listing and the
	 * pause are held too. */
	if (!s->pz.n) {
		*tids = &none;
		return 0;
	}
	v = xcalloc(s->pz.n, sizeof(*v));
	for (size_t i = 0; i < s->pz.n; i++)
		v[i] = s->pz.task[i].tid;
	free(s->held_tids);
	s->held_tids = v;
	*tids = v;
	return s->pz.n;
}

static bool live_regs(struct session *s, pid_t tid,
		      struct user_regs_struct *r)
{
	return pause_task_regs(&s->pz, tid, r);
}

static bool live_stopped(const struct session *s)
{
	char st = proc_task_state(s->pid, s->pid);

	return st == 'T' || st == 't';
}

static bool live_comm(struct session *s, pid_t tid, char *buf, size_t size)
{
	return proc_comm(s->pid, tid, buf, size);
}

static bool live_gone(const struct session *s)
{
	return proc_gone(s->pid);
}

static int live_maps(struct session *s, struct maps *m, struct err *e)
{
	return maps_load(s->pid, m, e);
}

static int live_open_file(struct session *s, const struct maps_entry *first,
			  int *fd, struct err *e)
{
	return rootfs_open_mapped(s->pid, first, ROOTFS_MAX_ELF, fd, e);
}

static int live_open_source(struct session *s, const char *name,
			    uint64_t max, int *fd)
{
	return rootfs_open(s->pid, name, max, fd, NULL);
}

static void live_close(struct session *s)
{
	proc_stat_files_release(&s->stat);
	proc_nsmap_release(&s->nsmap);
	free(s->held_tids);
}

const struct session_kind session_live = {
	.tids = live_tids,
	.os_states = live_os_states,
	.hold = live_hold,
	.release = live_release,
	.held = live_held,
	.regs = live_regs,
	.stopped = live_stopped,
	.comm = live_comm,
	.gone = live_gone,
	.maps = live_maps,
	.open_file = live_open_file,
	.open_source = live_open_source,
	.close = live_close,
};

/* The PID namespace, for pystructs (target.h). */
static size_t ns_own_tids(void *ctx, const pid_t **tids)
{
	struct proc_nsmap *m = ctx;

	*tids = m->ns;
	return m->n;
}

static int64_t ns_host_tid(void *ctx, int64_t own)
{
	return proc_nsmap_host(ctx, own);
}

/*
 * SS_EPERM when the memory may not be read, 0 otherwise (other failures
 * are left to the reads that need it).  Linux 6.x lets root without
 * CAP_SYS_PTRACE read another user's /proc/PID/maps, not its memory nor
 * its /proc/PID/exe: without this, the refusal would read as "not a Python
 * process".
 */
static int probe_memory(struct session *s, struct err *e)
{
	unsigned char byte;
	struct err pe;

	for (size_t i = 0; i < s->maps.n; i++) {
		if (!s->maps.e[i].r)
			continue;
		err_clear(&pe);
		if (mem_read(s->mem, s->maps.e[i].lo, &byte, 1, &pe) ==
		    SS_EPERM)
			return err_set(e, SS_EPERM, "%s", pe.msg);
		return 0;
	}
	return 0;
}

static void read_exe(struct session *s)
{
	size_t n;

	if (!proc_exe(s->pid, s->exe, sizeof(s->exe)))
		s->exe[0] = '\0';
	/* " (deleted)" is not part of the path in the map. */
	n = strlen(s->exe);
	if (n > 10 && !strcmp(s->exe + n - 10, " (deleted)"))
		s->exe[n - 10] = '\0';
}

int session_open(pid_t pid, struct session **out, struct err *e)
{
	struct session *s = xcalloc(1, sizeof(*s));
	struct proc_info info;
	char root[64];
	int rc;

	*out = NULL;
	s->kind = &session_live;
	s->pid = pid;
	s->root = -1;
	proc_stat_files_init(&s->stat, pid);
	snprintf(s->name, sizeof(s->name), "process %d", (int)pid);
	rc = proc_check(pid, &info, e);
	if (!rc)
		rc = maps_load(pid, &s->maps, e);
	if (!rc) {
		s->mem = mem_process_new(pid);
		rc = probe_memory(s, e);
	}
	if (rc == SS_EPERM)
		err_set(e, SS_EPERM, "cannot inspect process %d: permission "
			"denied; %s", (int)pid, proc_permission_hint(pid));
	if (rc)
		goto fail;
	proc_nsmap_init(&s->nsmap, pid);
	if (s->nsmap.ns_pid) {
		s->ns.own_tids = ns_own_tids;
		s->ns.host_tid = ns_host_tid;
		s->ns.ctx = &s->nsmap;
		s->has_ns = true;
	}
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	s->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	read_exe(s);
	rc = session_find_runtime(s, e);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	session_close(s);
	return rc;
}

/* ---- what only a live process has ------------------------------------ */

bool session_quiet_begin(struct session *s, pid_t tid, struct proc_quiet *q)
{
	return proc_quiet_begin(&s->stat, tid, q);
}

bool session_quiet_end(struct session *s, struct proc_quiet *q)
{
	(void)s;
	return proc_quiet_end(q);
}

char session_thread_state(struct session *s, pid_t tid)
{
	return proc_stat_files_state(&s->stat, tid);
}

bool session_thread_cpu(struct session *s, pid_t tid, char *state,
			uint64_t *cpu_ticks)
{
	struct proc_task_stat st;

	if (!proc_stat_files_read(&s->stat, tid, &st))
		return false;
	*state = st.state;
	*cpu_ticks = st.cpu_ticks;
	return true;
}

size_t session_children(pid_t pid, pid_t **out)
{
	return proc_children(pid, out);
}

bool session_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t got;
	int fd;

	if (!size)
		return false;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	got = read(fd, buf, size - 1);
	close(fd);
	if (got <= 0)
		return false;
	/* Arguments end with NULs; the last one's is dropped. */
	while (got > 0 && !buf[got - 1])
		got--;
	for (ssize_t i = 0; i < got; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[got] = '\0';
	return got > 0;
}

int session_init(struct err *e)
{
	int rc = privs_check(e);

	if (!rc)
		session_guard_install();
	return rc;
}

void session_drop_privileges(void)
{
	privs_drop();
}

void session_guard_install(void)
{
	pause_guard_install();
	xalloc_set_fatal_hook(pause_emergency_resume);
}

void session_emergency_resume(void)
{
	pause_emergency_resume();
}
