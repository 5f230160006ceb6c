/*
 * fdwait_parse.c - the parsers of fdwait.h: system calls, and the text
 * of /proc files, handed in (the tests and the fuzz target feed them).
 */
#include <config.h>

#include "attach/fdwait.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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
		/* epoll_wait() too: an epoll watching one descriptor is most
		 * often an idle asyncio loop's, and that one is its wake-up
		 * socket, not what it waits for (timers). */
		return false;
	}
	if ((int32_t)args[0] < 0) {
		c->kind = FDWAIT_CALL_NONE;
		return false;
	}
	c->fd = (int32_t)args[0];
	return true;
}

bool fdwait_wchan_poll(const char *wchan)
{
	/* poll_schedule_timeout (often with a ".constprop.0" suffix) where
	 * it sleeps; older kernels name do_sys_poll. */
	return !strncmp(wchan, "poll_schedule_timeout", 21) ||
	       !strncmp(wchan, "do_sys_poll", 11) ||
	       !strncmp(wchan, "do_restart_poll", 15);
}

bool fdwait_wchan_futex(const char *wchan)
{
	return !strncmp(wchan, "futex_wait", 10) ||
	       !strncmp(wchan, "futex_do_wait", 13);
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

/* One line of /proc/net/tcp (tcp6): its inode when its local address is
 * `local` and its peer `peer` (texts as inet_addr_text() gives them). */
static bool inet_pair_line(const char *line, const char *local,
			   const char *peer, bool v6, uint64_t *ino)
{
	const char *p = line, *f[10];
	size_t len[10];
	char a[FDWAIT_ADDR_MAX], b[FDWAIT_ADDR_MAX];

	for (int i = 0; i < 10; i++)
		if (!(f[i] = field(&p, &len[i])))
			return false;
	if (!isdigit((unsigned char)f[9][0]) || len[9] > 20 ||
	    !inet_addr_text(f[1], len[1], v6, a, sizeof(a)) ||
	    !inet_addr_text(f[2], len[2], v6, b, sizeof(b)) ||
	    strcmp(a, local) || strcmp(b, peer))
		return false;
	*ino = strtoull(f[9], NULL, 10);
	return *ino != 0;
}

bool fdwait_net_inet_peer(const char *text, const struct fdwait_fd *f,
			  bool v6, uint64_t *ino)
{
	if (!f->local[0] || !f->peer[0])
		return false;
	/* The other end's line has the two addresses the other way. */
	for (const char *p = *text ? text : NULL; p; p = next_line(p))
		if (inet_pair_line(p, f->peer, f->local, v6, ino))
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

bool fdwait_syscall_text(const char *text, long *nr, uint64_t args[6])
{
	char *end;
	long n;

	/* strtol would take a leading '-' of "-1 SP PC": no call. */
	if (!isdigit((unsigned char)text[0]))
		return false;
	n = strtol(text, &end, 10);
	if (end == text || *end != ' ' || n < 0)
		return false;
	for (int i = 0; i < 6; i++) {
		const char *p = end;

		while (*p == ' ')
			p++;
		if (p[0] != '0' || p[1] != 'x')
			return false;
		args[i] = strtoull(p, &end, 16);
		if (end == p + 2)
			return false;
	}
	*nr = n;
	return true;
}
