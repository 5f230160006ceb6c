#include <config.h>

#include "attach/fdwait.h"
#include "attach/proc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Lines read from one /proc/PID/net file: a host with more sockets than
 * this is searched only so far. */
#define NET_LINES_MAX 1000000

bool fdwait_classify(long nr, const uint64_t args[6], struct fdwait_call *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	switch (nr) {
	case SYS_read: case SYS_readv: case SYS_pread64:
	case SYS_write: case SYS_writev: case SYS_pwrite64:
	case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg:
	case SYS_sendto: case SYS_sendmsg: case SYS_sendmmsg:
	case SYS_accept: case SYS_accept4: case SYS_connect:
	case SYS_flock:
		c->kind = FDWAIT_CALL_FD;
		break;
	case SYS_fcntl:
		/* Only a lock wait blocks in fcntl(). */
		if (args[1] != F_SETLKW
#ifdef F_OFD_SETLKW
		    && args[1] != F_OFD_SETLKW
#endif
		    )
			return false;
		c->kind = FDWAIT_CALL_FD;
		break;
#ifdef SYS_poll
	case SYS_poll:
#endif
	case SYS_ppoll:
		/* One descriptor only: with more, which one it waits for
		 * is anyone's guess. */
		if (args[1] != 1)
			return false;
		c->kind = FDWAIT_CALL_POLL;
		c->addr = args[0];
		return true;
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
	case SYS_epoll_pwait:
		c->kind = FDWAIT_CALL_EPOLL;
		break;
	case SYS_wait4:
		/* pid_t is an int: the register's upper half is noise. */
		c->child = (int32_t)args[0];
		if (c->child != -1 && c->child <= 0)
			return false; /* a process group */
		c->kind = FDWAIT_CALL_CHILD;
		return true;
	case SYS_waitid:
		if (args[0] == P_ALL)
			c->child = -1;
		else if (args[0] == P_PID && (int32_t)args[1] > 0)
			c->child = (int32_t)args[1];
		else
			return false;
		c->kind = FDWAIT_CALL_CHILD;
		return true;
	default:
		return false;
	}
	if ((int32_t)args[0] < 0) {
		c->kind = FDWAIT_CALL_NONE;
		return false;
	}
	c->fd = (int32_t)args[0];
	return true;
}

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

bool fdwait_link_inode(const char *link, const char *type, uint64_t *ino)
{
	size_t n = strlen(type);
	char *end;

	if (strncmp(link, type, n) || link[n] != ':' || link[n + 1] != '[' ||
	    !isdigit((unsigned char)link[n + 2]))
		return false;
	*ino = strtoull(link + n + 2, &end, 10);
	return *end == ']' && !end[1];
}

int fdwait_fdinfo_accmode(const char *fdinfo)
{
	const char *p = strstr(fdinfo, "flags:");
	char *end;
	unsigned long v;

	if (!p)
		return -1;
	v = strtoul(p + 6, &end, 8);
	if (end == p + 6)
		return -1;
	return (int)(v & O_ACCMODE);
}

bool fdwait_epoll_single(const char *fdinfo, int *fd)
{
	const char *p = fdinfo;
	size_t n = 0;
	long v = -1;

	while ((p = strstr(p, "tfd:")) && n < 2) {
		char *end;

		if (p == fdinfo || p[-1] == '\n') {
			v = strtol(p + 4, &end, 10);
			if (end == p + 4 || v < 0 || v > INT32_MAX)
				return false;
			n++;
		}
		p += 4;
	}
	if (n != 1)
		return false;
	*fd = (int)v;
	return true;
}

static const char *const tcp_states[] = {
	NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
	"LISTEN", "CLOSING", "NEW_SYN_RECV",
};

/* "0100007F:1F90" (the kernel prints each 32-bit word of the address as
 * the host-order number it is in memory, and the port as a number) into
 * "127.0.0.1:8080"; false when malformed. */
static bool inet_addr_text(const char *s, size_t len, bool v6, char *out,
			   size_t size)
{
	size_t hex = v6 ? 32 : 8;
	unsigned char bytes[16];
	char host[INET6_ADDRSTRLEN];
	unsigned long port;
	char *end;

	if (len != hex + 5 || s[hex] != ':')
		return false;
	for (size_t w = 0; w < hex / 8; w++) {
		char word[9];
		uint32_t v;

		memcpy(word, s + 8 * w, 8);
		word[8] = 0;
		for (int k = 0; k < 8; k++)
			if (!isxdigit((unsigned char)word[k]))
				return false;
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(bytes + 4 * w, &v, 4);
	}
	port = strtoul(s + hex + 1, &end, 16);
	if (end != s + len)
		return false;
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, host, sizeof(host)))
		return false;
	snprintf(out, size, v6 ? "[%s]:%lu" : "%s:%lu", host, port);
	return true;
}

/* The next space-separated field of *p (moved past it): its start, and
 * its length in *len; NULL at the end of the line. */
static const char *field(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	*len = strcspn(s, " \t\n");
	*p = s + *len;
	return s;
}

/* One line of /proc/net/tcp (udp, tcp6, udp6): the socket's inode is the
 * 10th field ("sl local rem st tx:rx tr:tm retrnsmt uid timeout inode"). */
static bool inet_line(const char *line, uint64_t ino, bool v6, bool tcp,
		      struct fdwait_fd *out)
{
	const char *p = line, *f[10];
	size_t len[10];
	char local[FDWAIT_ADDR_MAX], peer[FDWAIT_ADDR_MAX];
	unsigned long st;

	for (int i = 0; i < 10; i++)
		if (!(f[i] = field(&p, &len[i])))
			return false;
	if (strtoull(f[9], NULL, 10) != ino || len[9] > 20 ||
	    !isdigit((unsigned char)f[9][0]))
		return false;
	if (!inet_addr_text(f[1], len[1], v6, local, sizeof(local)) ||
	    !inet_addr_text(f[2], len[2], v6, peer, sizeof(peer)))
		return false;
	snprintf(out->local, sizeof(out->local), "%s", local);
	/* An unconnected socket's peer is the any address, port 0. */
	if (!strcmp(peer + strlen(peer) - 2, ":0"))
		out->peer[0] = 0;
	else
		snprintf(out->peer, sizeof(out->peer), "%s", peer);
	st = strtoul(f[3], NULL, 16);
	out->state[0] = 0;
	if (tcp && st < sizeof(tcp_states) / sizeof(tcp_states[0]) &&
	    tcp_states[st])
		snprintf(out->state, sizeof(out->state), "%s", tcp_states[st]);
	snprintf(out->proto, sizeof(out->proto), "%s%s", tcp ? "tcp" : "udp",
		 v6 ? "6" : "");
	return true;
}

/* One line of /proc/net/unix: "Num RefCount Protocol Flags Type St Inode
 * Path"; Flags 00010000 is __SO_ACCEPTCON, a listening socket. */
static bool unix_line(const char *line, uint64_t ino, struct fdwait_fd *out)
{
	const char *p = line, *f[7], *path;
	size_t len[7], plen;

	for (int i = 0; i < 7; i++)
		if (!(f[i] = field(&p, &len[i])))
			return false;
	if (!isdigit((unsigned char)f[6][0]) || len[6] > 20 ||
	    strtoull(f[6], NULL, 10) != ino)
		return false;
	while (*p == ' ')
		p++;
	path = p;
	plen = strcspn(path, "\n");
	if (plen >= sizeof(out->path))
		plen = sizeof(out->path) - 1;
	memcpy(out->path, path, plen);
	out->path[plen] = 0;
	out->peer[0] = out->local[0] = 0;
	snprintf(out->state, sizeof(out->state), "%s",
		 strtoul(f[3], NULL, 16) & 0x10000 ? "LISTEN" : "");
	snprintf(out->proto, sizeof(out->proto), "unix");
	return true;
}

/* The line after p's, or NULL at the end of text. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p && p[1] ? p + 1 : NULL;
}

bool fdwait_net_inet(const char *text, uint64_t ino, bool v6, bool tcp,
		     struct fdwait_fd *out)
{
	for (const char *p = *text ? text : NULL; p; p = next_line(p))
		if (inet_line(p, ino, v6, tcp, out))
			return true;
	return false;
}

bool fdwait_net_unix(const char *text, uint64_t ino, struct fdwait_fd *out)
{
	for (const char *p = *text ? text : NULL; p; p = next_line(p))
		if (unix_line(p, ino, out))
			return true;
	return false;
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
		found = unx ? unix_line(line, ino, out) :
			inet_line(line, ino, v6, tcp, out);
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

pid_t fdwait_nspid_at(const char *status, int level)
{
	const char *p = strstr(status, "\nNSpid:");

	if (!p || level < 0)
		return 0;
	p += strlen("\nNSpid:");
	for (int i = 0; *p && *p != '\n'; i++) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v <= 0 || v > INT32_MAX)
			return 0;
		if (i == level)
			return (pid_t)v;
		p = end;
	}
	return 0;
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
