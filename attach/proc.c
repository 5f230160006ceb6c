#include <config.h>

#include "attach/proc.h"
#include "attach/privs.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a small /proc file into buf; returns length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

static long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int proc_check(pid_t pid, struct proc_info *out, struct err *e)
{
	char path[64], buf[4096];
	long tgid;
	const char *rp;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (pid <= 0 || read_small(path, buf, sizeof(buf)) < 0)
		return err_set(e, SS_ENOPROC, "no process with PID %d", (int)pid);
	tgid = status_field(buf, "\nTgid:");
	if (tgid > 0 && tgid != pid)
		return err_set(e, SS_ENOPROC, "%d is a thread of process %ld, "
			       "not a process; use PID %ld", (int)pid, tgid,
			       tgid);
	out->ppid = (pid_t)status_field(buf, "\nPPid:");
	out->uid = (uid_t)status_field(buf, "\nUid:");

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return err_set(e, SS_ENOPROC, "no process with PID %d", (int)pid);
	/* The comm field may contain spaces and ')': the state follows the
	 * last ')'.  An empty or cut read means the process just died. */
	rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' || !rp[2])
		return err_set(e, SS_ENOPROC, "process %d exited", (int)pid);
	out->state = rp[2];
	if (out->state == 'Z' || out->state == 'X')
		return err_set(e, SS_EZOMBIE, "process %d is a zombie: it has "
			       "exited and its parent (PID %d) has not reaped "
			       "it", (int)pid, (int)out->ppid);
	return 0;
}

char proc_task_state(pid_t pid, pid_t tid)
{
	char path[80], buf[1024];
	const char *rp;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

bool proc_gone(pid_t pid)
{
	char path[64];
	char st;

	/* Only ESRCH says the process is gone: EPERM says we may not signal
	 * it, which is the rule for a service of another user once
	 * privs_drop() has let CAP_KILL go, and for a user who holds
	 * CAP_SYS_PTRACE alone. */
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	st = proc_task_state(pid, pid);
	if (st == 'Z' || st == 'X')
		return true;
	if (st)
		return false;
	/* An unreadable stat file is not an exited process unless its
	 * /proc directory has gone too. */
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) < 0 && errno == ENOENT;
}

pid_t proc_task_tracer(pid_t pid, pid_t tid)
{
	char path[80], buf[4096];
	long tracer;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	tracer = status_field(buf, "\nTracerPid:");
	return tracer > 0 ? (pid_t)tracer : 0;
}

void proc_stat_files_init(struct proc_stat_files *f, pid_t pid)
{
	memset(f, 0, sizeof(*f));
	f->pid = pid;
}

/* Close entry slot's files and drop it. */
static void entry_drop(struct proc_stat_files *f, size_t slot)
{
	close(f->v[slot].fd);
	for (int k = 0; k < 2; k++)
		if (f->v[slot].quiet[k] >= 0)
			close(f->v[slot].quiet[k]);
	f->v[slot] = f->v[--f->n];
}

void proc_stat_files_release(struct proc_stat_files *f)
{
	while (f->n)
		entry_drop(f, f->n - 1);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static char stat_state(const char *buf)
{
	const char *rp = strrchr(buf, ')');

	return rp && rp[1] == ' ' ? rp[2] : 0;
}

/* The open stat file of tid (opened on first use), or -1. */
static int stat_fd(struct proc_stat_files *f, pid_t tid, size_t *slot)
{
	char path[80];
	size_t i;
	int fd;

	for (i = 0; i < f->n && f->v[i].tid != tid; i++)
		;
	*slot = i;
	if (i < f->n)
		return f->v[i].fd;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)f->pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || f->n >= PROC_STAT_FDS)
		return fd; /* the caller closes it: not kept */
	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n].tid = tid;
	f->v[f->n].fd = fd;
	f->v[f->n].quiet[0] = f->v[f->n].quiet[1] = -2;
	f->n++;
	return fd;
}

/* tid's stat line into buf, or false when it is gone. */
static bool stat_read(struct proc_stat_files *f, pid_t tid, char *buf,
		      size_t size)
{
	size_t slot;
	int fd = stat_fd(f, tid, &slot);
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, buf, size - 1, 0);
	if (slot >= f->n) {
		close(fd);
	} else if (n <= 0) {
		entry_drop(f, slot); /* gone (ESRCH): forget its files */
	}
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

char proc_stat_files_state(struct proc_stat_files *f, pid_t tid)
{
	char buf[1024];

	return stat_read(f, tid, buf, sizeof(buf)) ? stat_state(buf) : 0;
}

bool proc_stat_files_read(struct proc_stat_files *f, pid_t tid,
			  struct proc_task_stat *out)
{
	unsigned long long utime, stime;
	char buf[1024];
	const char *rp;

	memset(out, 0, sizeof(*out));
	if (!stat_read(f, tid, buf, sizeof(buf)))
		return false;
	out->state = stat_state(buf);
	/* After "(comm) ": state is field 3, utime and stime 14 and 15. */
	rp = strrchr(buf, ')');
	if (rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %llu %llu", &utime, &stime) == 2)
		out->cpu_ticks = utime + stime;
	return true;
}

static const char *const quiet_names[2] = { "schedstat", "syscall" };

/* tid's quiet file k (quiet_names) for entry slot (SIZE_MAX: none),
 * kept open in the entry when it has a place there (*temp false), else
 * to be closed by the caller; -1 when it cannot be opened. */
static int quiet_fd(struct proc_stat_files *f, size_t slot, pid_t tid,
		    int k, bool *temp)
{
	bool keep = slot < f->n && slot < PROC_QUIET_FDS;
	char path[80];
	int fd;

	*temp = !keep;
	if (keep && f->v[slot].quiet[k] != -2)
		return f->v[slot].quiet[k];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)f->pid,
		 (int)tid, quiet_names[k]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (keep)
		f->v[slot].quiet[k] = fd < 0 ? -1 : fd;
	return fd;
}

/* The third field of a schedstat file: times switched onto a CPU (0:
 * unreadable, or the kernel keeps no scheduler statistics). */
static uint64_t switches_read(int fd)
{
	unsigned long long run, wait, count;
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu %llu", &run, &wait, &count) != 3)
		return 0;
	return count;
}

/* A syscall file's "NR ARG1 .. ARG6 SP PC" (or "-1 SP PC") into q. */
static bool syscall_line(char *buf, size_t n, struct proc_quiet *q)
{
	unsigned long long v[8] = { 0 };
	long nr;

	buf[n] = 0;
	if (sscanf(buf, "%ld", &nr) != 1)
		return false;
	if (nr < 0) {
		if (sscanf(buf, "%*d %llx %llx", &v[6], &v[7]) != 2)
			return false;
	} else if (sscanf(buf, "%*d %llx %llx %llx %llx %llx %llx %llx %llx",
			  &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			  &v[7]) != 8) {
		return false;
	}
	q->nr = nr;
	for (int i = 0; i < 6; i++)
		q->args[i] = v[i];
	q->sp = v[6];
	q->pc = v[7];
	return true;
}

bool proc_quiet_begin(struct proc_stat_files *f, pid_t tid,
		      struct proc_quiet *q)
{
	size_t slot;
	char buf[256];
	bool temp;
	int fd, sfd = stat_fd(f, tid, &slot);
	ssize_t n;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (sfd < 0)
		return false;
	if (slot >= f->n)
		close(sfd); /* a stat file not kept: the rest is not either */
	q->tid = tid;
	q->fd = quiet_fd(f, slot, tid, 0, &q->temp);
	if (q->fd < 0)
		return false;
	q->switches = switches_read(q->fd);
	fd = quiet_fd(f, slot, tid, 1, &temp);
	if (fd < 0 || !q->switches) {
		proc_quiet_end(q);
		return false;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (temp)
		close(fd);
	if (n <= 0 || !strncmp(buf, "running", 7) ||
	    !syscall_line(buf, (size_t)n, q)) {
		proc_quiet_end(q);
		return false;
	}
	return true;
}

bool proc_quiet_end(struct proc_quiet *q)
{
	bool same = q->fd >= 0 && q->switches &&
		    switches_read(q->fd) == q->switches;

	if (q->temp && q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	return same;
}

size_t proc_children(pid_t pid, pid_t **out)
{
	pid_t *tids = NULL, *v = NULL;
	size_t ntids = 0, n = 0, cap = 0;

	*out = NULL;
	if (proc_tasks(pid, &tids, &ntids, NULL))
		return 0;
	for (size_t i = 0; i < ntids; i++) {
		char path[80], buf[4096];
		char *p, *end;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)pid, (int)tids[i]);
		if (read_small(path, buf, sizeof(buf)) < 0)
			continue;
		for (p = buf;; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p)
				break;
			if (c > 0 && c <= INT32_MAX) {
				v = xgrow(v, &cap, n + 1, sizeof(*v));
				v[n++] = (pid_t)c;
			}
		}
	}
	free(tids);
	*out = v;
	return n;
}

bool proc_task_syscall(pid_t pid, pid_t tid, char *name, size_t size,
		       uint64_t *arg0)
{
	char path[80], buf[512];
	unsigned long long a0;
	long nr;

	name[0] = 0;
	*arg0 = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return false;
	/* "NR ARG0 ... SP PC", "-1 SP PC" (blocked outside a system call)
	 * or "running". */
	if (sscanf(buf, "%ld %llx", &nr, &a0) == 2 && nr >= 0) {
		proc_syscall_name(nr, name, size);
		*arg0 = a0;
	}
	return true;
}

int proc_tasks(pid_t pid, pid_t **tids, size_t *n, struct err *e)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return err_set(e, SS_ENOPROC, "process %d exited", (int)pid);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		*tids = xgrow(*tids, &cap, *n + 1, sizeof(**tids));
		(*tids)[(*n)++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return 0;
}

bool proc_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[80];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	n = read_small(path, buf, size);
	if (n <= 0)
		return false;
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return true;
}

bool proc_exe(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* The name of uid from /etc/passwd, or "".  Read by hand rather than
 * through getpwuid(): a static binary has no NSS modules to load, and a
 * message needs no directory service. */
static void user_name(uid_t uid, char *buf, size_t size)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* name:password:uid:... */
		char *pw = strchr(line, ':'), *id = pw ? strchr(pw + 1, ':') : NULL;
		char *end;

		if (id && strtoul(id + 1, &end, 10) == uid && end > id + 1 &&
		    *end == ':') {
			*pw = '\0';
			snprintf(buf, size, "%.*s", (int)(size - 1), line);
			break;
		}
	}
	fclose(f);
}

void proc_access_read(pid_t pid, struct proc_access *a)
{
	char path[64], buf[4096];
	long uid = -1;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	a->uid = geteuid();
	user_name(a->uid, a->user, sizeof(a->user));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (pid > 0 && read_small(path, buf, sizeof(buf)) > 0)
		uid = status_field(buf, "\nUid:");
	a->target_uid = uid >= 0 ? (uid_t)uid : (uid_t)-1;
	if (uid >= 0)
		user_name(a->target_uid, a->target_user,
			  sizeof(a->target_user));
	a->cap_ptrace = privs_effective(PRIVS_CAP_SYS_PTRACE);
	a->cap_ptrace_bounding = privs_bounding(PRIVS_CAP_SYS_PTRACE);
	a->yama = -1;
	if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf,
		       sizeof(buf)) > 0 && isdigit((unsigned char)buf[0]))
		a->yama = buf[0] - '0';
	n = readlink("/proc/self/exe", a->self, sizeof(a->self) - 1);
	a->self[n > 0 ? n : 0] = '\0';
}

/* "root (uid 0)", "alice (uid 1000)" or "uid 1000" */
static const char *who(char *buf, size_t size, const char *name, uid_t uid)
{
	if (name[0])
		snprintf(buf, size, "%s (uid %u)", name, (unsigned)uid);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
	return buf;
}

const char *proc_access_hint(const struct proc_access *a, char *buf,
			     size_t size)
{
	const char *self = a->self[0] ? a->self : "snakescope";
	char us[96], them[96], setcap[320];

	snprintf(setcap, sizeof(setcap), "give it CAP_SYS_PTRACE (as root: "
		 "setcap cap_sys_ptrace+ep %s)", self);
	if (a->yama == 3)
		snprintf(buf, size, "kernel.yama.ptrace_scope is 3: no process "
			 "may attach to another until the next boot");
	else if (a->uid == 0 && !(a->cap_ptrace && a->cap_ptrace_bounding))
		/* What a container gets without --cap-add SYS_PTRACE: root,
		 * with CAP_SYS_PTRACE out of the bounding set. */
		snprintf(buf, size, "snakescope runs as root without "
			 "CAP_SYS_PTRACE, which looks like a container started "
			 "without it: add it with docker run --cap-add "
			 "SYS_PTRACE, in Kubernetes with securityContext."
			 "capabilities.add: [\"SYS_PTRACE\"], or inspect from a "
			 "debug container: kubectl debug -it --profile=general "
			 "--target=CONTAINER POD");
	else if (a->cap_ptrace)
		snprintf(buf, size, "snakescope holds CAP_SYS_PTRACE and is "
			 "still refused: a security module (AppArmor, SELinux) "
			 "forbids it, or the process is in a user namespace "
			 "snakescope has no privilege over");
	else if (a->target_uid == (uid_t)-1)
		snprintf(buf, size, "run snakescope as root, as the process's "
			 "user, or %s", setcap);
	else if (a->target_uid != a->uid)
		snprintf(buf, size, "the process belongs to %s and snakescope "
			 "runs as %s without CAP_SYS_PTRACE: run it as %s%s, or "
			 "%s", who(them, sizeof(them), a->target_user,
				   a->target_uid),
			 who(us, sizeof(us), a->user, a->uid),
			 a->target_uid == 0 ? "root" : "root or as ",
			 a->target_uid == 0 ? "" : (a->target_user[0] ?
						    a->target_user : "that "
						    "user"), setcap);
	else if (a->yama == 1)
		snprintf(buf, size, "kernel.yama.ptrace_scope is 1: only a "
			 "process's ancestors may attach to it; start it with "
			 "snakescope run, run snakescope as root, %s, or set "
			 "kernel.yama.ptrace_scope to 0", setcap);
	else if (a->yama == 2)
		snprintf(buf, size, "kernel.yama.ptrace_scope is 2: only "
			 "CAP_SYS_PTRACE may attach; run snakescope as root or "
			 "%s", setcap);
	else
		snprintf(buf, size, "the process runs as %s but holds "
			 "privileges snakescope lacks (set-user-ID, file "
			 "capabilities) or is not dumpable: run snakescope as "
			 "root or %s", who(us, sizeof(us), a->user, a->uid),
			 setcap);
	return buf;
}

const char *proc_permission_hint(pid_t pid)
{
	static char hint[768];
	struct proc_access a;

	proc_access_read(pid, &a);
	return proc_access_hint(&a, hint, sizeof(hint));
}

/* ---- PID namespaces ------------------------------------------------ */

/* Re-read the TID pairs at most this often when an unknown one comes. */
#define NSMAP_REFRESH_NS 100000000ULL

pid_t proc_status_nspid(const char *status, int *levels)
{
	const char *p = strstr(status, "\nNSpid:");
	long last = 0;
	int n = 0;

	*levels = 0;
	if (!p)
		return 0;
	p += strlen("\nNSpid:");
	while (*p && *p != '\n') {
		char *end;
		long v;

		while (*p == ' ' || *p == '\t')
			p++;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && v <= INT32_MAX) {
			last = v;
			n++;
		}
		p = end;
	}
	*levels = n;
	return (pid_t)last;
}

static void nsmap_read(struct proc_nsmap *m)
{
	pid_t *tids;
	size_t n;

	m->n = 0;
	m->read_ns = clock_mono_ns();
	if (proc_tasks(m->pid, &tids, &n, NULL))
		return;
	for (size_t i = 0; i < n; i++) {
		char path[80], buf[2048];
		int levels;
		pid_t own;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/status",
			 (int)m->pid, (int)tids[i]);
		if (read_small(path, buf, sizeof(buf)) <= 0)
			continue;
		own = proc_status_nspid(buf, &levels);
		if (levels < 2)
			continue;
		if (m->n == m->cap) {
			m->host = xgrow(m->host, &m->cap, m->n + 1,
					sizeof(*m->host));
			m->ns = xrealloc(m->ns, m->cap * sizeof(*m->ns));
		}
		m->host[m->n] = tids[i];
		m->ns[m->n++] = own;
	}
	free(tids);
}

void proc_nsmap_init(struct proc_nsmap *m, pid_t pid)
{
	char path[64], buf[2048];
	int levels;
	pid_t own;

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return;
	own = proc_status_nspid(buf, &levels);
	if (levels < 2)
		return;
	m->ns_pid = own;
	nsmap_read(m);
}

void proc_nsmap_release(struct proc_nsmap *m)
{
	free(m->host);
	free(m->ns);
	memset(m, 0, sizeof(*m));
}

static int64_t nsmap_find(const struct proc_nsmap *m, int64_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->ns[i] == id)
			return m->host[i];
	return -1;
}

int64_t proc_nsmap_host(struct proc_nsmap *m, int64_t id)
{
	int64_t host;

	if (!m || !m->ns_pid || id <= 0)
		return id;
	host = nsmap_find(m, id);
	if (host < 0 && clock_mono_ns() - m->read_ns >= NSMAP_REFRESH_NS) {
		nsmap_read(m);
		host = nsmap_find(m, id);
	}
	return host;
}

int64_t proc_nsmap_ns(const struct proc_nsmap *m, pid_t tid)
{
	if (!m || !m->ns_pid)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (m->host[i] == tid)
			return m->ns[i];
	return -1;
}
