/*
 * fdwait.c - what a blocked system call waits on, read from /proc (the
 * parsers are in fdwait_parse.c).
 */
#include <config.h>

#include "attach/fdwait.h"
#include "attach/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lines read from one /proc/PID/net file: a host with more sockets than
 * this is searched only so far. */
#define NET_LINES_MAX 1000000

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

/* Search /proc/PID/net/NAME for socket ino, line by line. */
static bool net_file(pid_t pid, const char *name, uint64_t ino,
		     struct fdwait_fd *out)
{
	bool v6 = strchr(name, '6') != NULL, tcp = name[0] == 't';
	bool unx = !strcmp(name, "unix"), found = false;
	char path[64], *line = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && n++ < NET_LINES_MAX && getline(&line, &cap, f) > 0)
		found = unx ? fdwait_net_unix(line, ino, out) :
			fdwait_net_inet(line, ino, v6, tcp, out);
	free(line);
	fclose(f);
	return found;
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

bool fdwait_read(pid_t pid, int fd, struct fdwait_fd *out)
{
	static const char *const nets[] = { "tcp", "tcp6", "udp", "udp6",
					    "unix" };
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
		for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
			if (net_file(pid, nets[i], out->inode, out))
				break;
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

/* Does descriptor name of the open /proc/P/fd directory dfd hold f's
 * other end? */
static bool holds_other_end(pid_t p, int dfd, const char *name,
			    const struct fdwait_fd *f)
{
	char path[80], info[1024];
	struct stat st;
	int mode;

	if (fstatat(dfd, name, &st, 0) || st.st_ino != f->inode ||
	    st.st_dev != f->dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)p, name);
	mode = read_text(path, info, sizeof(info)) > 0 ?
		fdwait_fdinfo_accmode(info) : -1;
	if (f->accmode == O_RDONLY)
		return mode != O_RDONLY;
	if (f->accmode == O_WRONLY)
		return mode != O_WRONLY;
	return true;
}

size_t fdwait_other_end(pid_t pid, const struct fdwait_fd *f,
			struct fdwait_holder *out, size_t max)
{
	size_t found = 0, procs = 0;
	struct dirent *de;
	DIR *d;

	if (f->kind != FDWAIT_PIPE && f->kind != FDWAIT_FIFO)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) && procs < FDWAIT_SCAN_PROCS) {
		char path[64], *end;
		long p = strtol(de->d_name, &end, 10);
		struct dirent *fe;
		size_t fds = 0;
		bool holds = false;
		DIR *fdd;
		int dfd;

		if (*end || p <= 0 || p > INT32_MAX)
			continue;
		procs++;
		snprintf(path, sizeof(path), "/proc/%ld/fd", p);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue; /* not ours to read, or gone */
		fdd = fdopendir(dfd);
		if (!fdd) {
			close(dfd);
			continue;
		}
		while (!holds && (fe = readdir(fdd)) && fds++ < FDWAIT_SCAN_FDS) {
			if (fe->d_name[0] == '.')
				continue;
			if (p == pid && atoi(fe->d_name) == f->fd)
				continue;
			holds = holds_other_end((pid_t)p, dfd, fe->d_name, f);
		}
		closedir(fdd);
		if (!holds)
			continue;
		if (found < max) {
			out[found].pid = (pid_t)p;
			if (!proc_comm((pid_t)p, (pid_t)p, out[found].comm,
				       sizeof(out[found].comm)))
				out[found].comm[0] = 0;
		}
		found++;
	}
	closedir(d);
	return found;
}

bool fdwait_resumed_poll(pid_t pid, pid_t tid)
{
	char path[80], wchan[128];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid,
		 (int)tid);
	return read_text(path, wchan, sizeof(wchan)) > 0 &&
	       fdwait_wchan_poll(wchan);
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
