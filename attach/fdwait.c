/*
 * fdwait.c - what a blocked system call waits on, read from /proc (the
 * parsers are in fdwait_parse.c).
 */
#include <config.h>

#include "attach/fdwait.h"
#include "attach/proc.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Read a small /proc file into buf (NUL-terminated, cut at size-1).
 * Returns its length, or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -1;
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	return (ssize_t)n;
}

static const char *const net_names[FDWAIT_NET_FILES] = {
	"tcp", "tcp6", "udp", "udp6", "unix"
};

void fdwait_net_init(struct fdwait_net *n, pid_t pid)
{
	memset(n, 0, sizeof(*n));
	n->pid = pid;
}

void fdwait_net_release(struct fdwait_net *n)
{
	for (size_t i = 0; i < FDWAIT_NET_FILES; i++)
		free(n->text[i]);
	memset(n, 0, sizeof(*n));
}

/* The text of /proc/PID/net/NAME (file i), read once, cut at the last
 * whole line within FDWAIT_NET_MAX bytes; NULL when unreadable. */
static const char *net_text(struct fdwait_net *n, size_t i)
{
	size_t len = 0, cap = 0;
	char path[64], *buf = NULL;
	int fd;

	if (n->tried[i])
		return n->text[i];
	n->tried[i] = true;
	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)n->pid,
		 net_names[i]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (len + 1 >= cap) {
			if (cap >= FDWAIT_NET_MAX)
				break;
			cap = cap ? 2 * cap : 64 * 1024;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf)
		return NULL;
	buf[len] = 0;
	if (len + 1 >= cap && cap >= FDWAIT_NET_MAX) {
		char *nl = strrchr(buf, '\n');

		if (nl)
			nl[1] = 0; /* a line cut short would mislead */
	}
	n->text[i] = buf;
	return buf;
}

/* Does pid see files as we do: our mount namespace, our root? */
static bool same_root(pid_t pid)
{
	char path[64], root[8];
	struct stat a, b;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (stat(path, &a) || stat("/proc/self/ns/mnt", &b) ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	n = readlink(path, root, sizeof(root));
	return n == 1 && root[0] == '/';
}

bool fdwait_read(pid_t pid, int fd, struct fdwait_net *net,
		 struct fdwait_fd *out)
{
	char path[64], link[FDWAIT_PATH_MAX], info[1024];
	struct stat st;
	ssize_t n;
	bool have_st;

	memset(out, 0, sizeof(*out));
	out->fd = fd;
	out->accmode = -1;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	have_st = !stat(path, &st);
	if (have_st) {
		out->inode = st.st_ino;
		out->dev = st.st_dev;
	}
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (read_text(path, info, sizeof(info)) > 0)
		out->accmode = fdwait_fdinfo_accmode(info);
	if (fdwait_link_inode(link, "pipe", &out->inode)) {
		out->kind = FDWAIT_PIPE;
	} else if (fdwait_link_inode(link, "socket", &out->inode)) {
		out->kind = FDWAIT_SOCKET;
		for (size_t i = 0; i < FDWAIT_NET_FILES; i++) {
			const char *text = net_text(net, i);
			bool found = !text ? false : i == 4 ?
				fdwait_net_unix(text, out->inode, out) :
				fdwait_net_inet(text, out->inode, i & 1, i < 2,
						out);

			if (found) {
				/* Connected on this host: the socket at the
				 * other end, for the holders' scan. */
				if (i < 2 && out->peer[0] &&
				    !strcmp(out->state, "ESTABLISHED") &&
				    !fdwait_net_inet_peer(text, out, i & 1,
							  &out->peer_inode))
					out->peer_inode = 0;
				break;
			}
		}
	} else if (link[0] == '/') {
		out->kind = have_st && S_ISFIFO(st.st_mode) ? FDWAIT_FIFO :
			FDWAIT_FILE;
		if (same_root(pid))
			memcpy(out->path, link, (size_t)n + 1);
	} else {
		out->kind = FDWAIT_OTHER;
		memcpy(out->path, link, (size_t)n + 1);
	}
	return true;
}

/* Is descriptor name (of process p, opened with access mode *mode, read
 * on first need: -2 unread) the other end of pipe or FIFO f? */
static bool other_end(pid_t p, const char *name, int *mode,
		      const struct fdwait_fd *f)
{
	char path[320], info[1024]; /* name: a d_name, at most 255 */

	if (*mode == -2) {
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)p,
			 name);
		*mode = read_text(path, info, sizeof(info)) > 0 ?
			fdwait_fdinfo_accmode(info) : -1;
	}
	if (f->accmode == O_RDONLY)
		return *mode != O_RDONLY;
	if (f->accmode == O_WRONLY)
		return *mode != O_WRONLY;
	return true;
}

/* Is f looked for in the scan: a pipe, a FIFO, a TCP socket whose other
 * end is on this host? */
static bool scanned(const struct fdwait_fd *f)
{
	return f->kind == FDWAIT_PIPE || f->kind == FDWAIT_FIFO ||
		(f->kind == FDWAIT_SOCKET && f->peer_inode);
}

/* Scan process p's descriptors (its open /proc/P/fd directory fdd) for
 * the other ends of f[], adding p to ends[i] once for each it holds;
 * *total counts the descriptors of the whole scan, *cut is set when p's
 * were more than FDWAIT_SCAN_FDS.  Returns false when the whole scan is
 * at its bound. */
static bool scan_process(pid_t pid, pid_t p, DIR *fdd,
			 const struct fdwait_fd *f, size_t nf,
			 struct fdwait_ends *ends, size_t *total, bool *cut)
{
	struct dirent *fe;
	size_t fds = 0;

	while ((fe = readdir(fdd))) {
		struct stat st;
		int mode = -2;

		if ((*total)++ >= FDWAIT_SCAN_TOTAL)
			return false;
		if (fds++ >= FDWAIT_SCAN_FDS) {
			*cut = true;
			return true;
		}
		if (fe->d_name[0] == '.' ||
		    fstatat(dirfd(fdd), fe->d_name, &st, 0))
			continue;
		for (size_t i = 0; i < nf; i++) {
			struct fdwait_ends *e = &ends[i];
			bool sock = f[i].kind == FDWAIT_SOCKET;

			if (!scanned(&f[i]) ||
			    st.st_ino != (sock ? f[i].peer_inode : f[i].inode) ||
			    st.st_dev != f[i].dev ||
			    (p == pid && atoi(fe->d_name) == f[i].fd))
				continue;
			/* Once per process: it is scanned in one go. */
			if (e->n && e->last == p)
				continue;
			if (!sock && !other_end(p, fe->d_name, &mode, &f[i]))
				continue;
			if (e->n < FDWAIT_ENDS_MAX) {
				e->h[e->n].pid = p;
				if (!proc_comm(p, p, e->h[e->n].comm,
					       sizeof(e->h[e->n].comm)))
					e->h[e->n].comm[0] = 0;
			}
			e->n++;
			e->last = p;
		}
	}
	return true;
}

void fdwait_other_ends(pid_t pid, const struct fdwait_fd *f, size_t nf,
		       struct fdwait_ends *ends)
{
	size_t procs = 0, want = 0, total = 0;
	bool whole = true, cut = false;
	struct dirent *de;
	DIR *d;

	memset(ends, 0, nf * sizeof(*ends));
	for (size_t i = 0; i < nf; i++)
		want += scanned(&f[i]);
	if (!want || !(d = opendir("/proc")))
		return;
	while (whole && (de = readdir(d))) {
		char path[64], *end;
		long p = strtol(de->d_name, &end, 10);
		DIR *fdd;
		int dfd;

		if (*end || p <= 0 || p > INT32_MAX)
			continue;
		if (procs++ >= FDWAIT_SCAN_PROCS) {
			whole = false;
			break;
		}
		snprintf(path, sizeof(path), "/proc/%ld/fd", p);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue; /* not ours to read, or gone */
		fdd = fdopendir(dfd);
		if (!fdd) {
			close(dfd);
			continue;
		}
		whole = scan_process(pid, (pid_t)p, fdd, f, nf, ends, &total,
				     &cut);
		closedir(fdd);
	}
	closedir(d);
	for (size_t i = 0; i < nf && (!whole || cut); i++)
		ends[i].partial = true;
}

bool fdwait_task_call(pid_t pid, pid_t tid, long *nr, uint64_t args[6])
{
	char path[80], text[512];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	return read_text(path, text, sizeof(text)) > 0 &&
		fdwait_syscall_text(text, nr, args);
}

const char *fdwait_resumed_call(pid_t pid, pid_t tid)
{
	char path[80], wchan[128];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid,
		 (int)tid);
	if (read_text(path, wchan, sizeof(wchan)) <= 0)
		return NULL;
	if (fdwait_wchan_poll(wchan))
		return "poll";
	if (fdwait_wchan_futex(wchan))
		return "futex";
	return NULL;
}

long fdwait_same_call(long nr, const char *name)
{
	char now[32];

#if defined(SYS_restart_syscall) && defined(SYS_poll)
	if (nr == SYS_restart_syscall && !strcmp(name, "poll"))
		return SYS_poll;
#endif
	proc_syscall_name(nr, now, sizeof(now));
	return strcmp(now, name) ? -1 : nr;
}

bool fdwait_call_named(const char *name)
{
	/* fdwait_classify()'s calls, by number: this architecture's. */
	static const long calls[] = {
		SYS_read, SYS_readv, SYS_pread64, SYS_write, SYS_writev,
		SYS_pwrite64, SYS_recvfrom, SYS_recvmsg, SYS_recvmmsg,
		SYS_sendto, SYS_sendmsg, SYS_sendmmsg, SYS_accept,
		SYS_accept4, SYS_connect, SYS_flock, SYS_fcntl,
#ifdef SYS_poll
		SYS_poll,
#endif
		SYS_ppoll, SYS_wait4, SYS_waitid,
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		proc_syscall_name(calls[i], buf, sizeof(buf));
		if (!strcmp(buf, name))
			return true;
	}
	return false;
}

pid_t fdwait_child(pid_t pid, long id)
{
	char path[64], status[4096];
	pid_t *kids, found = 0;
	size_t n = proc_children(pid, &kids);
	int levels = 0;

	if (id == -1) {
		found = n == 1 ? kids[0] : 0;
		free(kids);
		return found;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_text(path, status, sizeof(status)) > 0)
		proc_status_nspid(status, &levels);
	for (size_t i = 0; i < n && !found; i++) {
		/* Without NSpid (Linux < 4.1) every number is ours. */
		if (levels <= 1) {
			found = kids[i] == id ? kids[i] : 0;
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/status", (int)kids[i]);
		if (read_text(path, status, sizeof(status)) > 0 &&
		    fdwait_nspid_at(status, levels - 1) == id)
			found = kids[i];
	}
	free(kids);
	return found;
}

bool fdwait_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_text(path, buf, size);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = 0;
	return n > 0;
}
