/*
 * waits.c - what each blocked thread's system call waits on: its
 * arguments taken from the held threads' registers (and a poll()'s
 * struct pollfd from memory), named from /proc once the target runs
 * again (attach/fdwait.h), so that scanning /proc does not lengthen the
 * pause.
 */
#include <config.h>

#include "session/kind.h"
#include "attach/fdwait.h"
#include "common/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Holders of a pipe's other end listed at most. */
#define WAIT_ENDS_MAX 8
/* A child's command line, at most (bytes). */
#define WAIT_CMDLINE_MAX 1024

struct session_waits {
	pid_t *tids;
	struct fdwait_call *calls;
	size_t n;
};

struct session_waits *session_waits_take(struct session *s,
					 const pid_t *tids,
					 const struct snap_os_thread *os,
					 size_t n)
{
	struct session_waits *w = xcalloc(1, sizeof(*w));

	w->tids = xcalloc(n + 1, sizeof(*w->tids));
	w->calls = xcalloc(n + 1, sizeof(*w->calls));
	for (size_t i = 0; i < n; i++) {
		struct user_regs_struct r;
		struct fdwait_call c;
		uint64_t args[6];
		long nr;

		/* Blocked before the pause, and still in the same call. */
		if ((os[i].state != 'S' && os[i].state != 'D') ||
		    !os[i].syscall[0] || !s->kind->regs(s, tids[i], &r) ||
		    !proc_regs_args(&r, &nr, args))
			continue;
		nr = fdwait_same_call(nr, os[i].syscall);
		if (nr < 0 || !fdwait_classify(nr, args, &c))
			continue;
		if (c.kind == FDWAIT_CALL_POLL) {
			/* struct pollfd { int fd; short events, revents; } */
			int32_t fd;

			if (mem_read(s->mem, c.addr, &fd, sizeof(fd), NULL) ||
			    fd < 0)
				continue;
			c.kind = FDWAIT_CALL_FD;
			c.fd = fd;
		}
		w->tids[w->n] = tids[i];
		w->calls[w->n++] = c;
	}
	return w;
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? xstrdup(s) : NULL;
}

static struct snap_wait *name_fd(pid_t pid, int fd)
{
	struct fdwait_holder ends[WAIT_ENDS_MAX];
	struct snap_wait *w;
	struct fdwait_fd f;
	size_t n;

	if (!fdwait_read(pid, fd, &f))
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->pid = -1;
	w->inode = f.inode;
	switch (f.kind) {
	case FDWAIT_FILE:
		w->kind = SNAP_WAIT_FILE;
		w->inode = 0;
		break;
	case FDWAIT_FIFO:
		w->kind = SNAP_WAIT_FIFO;
		break;
	case FDWAIT_PIPE:
		w->kind = SNAP_WAIT_PIPE;
		break;
	case FDWAIT_SOCKET:
		w->kind = SNAP_WAIT_SOCKET;
		break;
	default:
		w->kind = SNAP_WAIT_OTHER;
		w->inode = 0;
		break;
	}
	w->path = dup_or_null(f.path);
	w->proto = dup_or_null(f.proto);
	w->local = dup_or_null(f.local);
	w->peer = dup_or_null(f.peer);
	w->state = dup_or_null(f.state);
	n = fdwait_other_end(pid, &f, ends, WAIT_ENDS_MAX);
	w->ends_more = n > WAIT_ENDS_MAX;
	w->nends = n > WAIT_ENDS_MAX ? WAIT_ENDS_MAX : n;
	if (w->nends)
		w->ends = xcalloc(w->nends, sizeof(*w->ends));
	for (size_t i = 0; i < w->nends; i++) {
		w->ends[i].pid = ends[i].pid;
		w->ends[i].comm = dup_or_null(ends[i].comm);
	}
	return w;
}

static struct snap_wait *name_call(pid_t pid, const struct fdwait_call *c)
{
	struct snap_wait *w;
	char buf[WAIT_CMDLINE_MAX];
	pid_t child;
	int fd;

	switch (c->kind) {
	case FDWAIT_CALL_FD:
		return name_fd(pid, c->fd);
	case FDWAIT_CALL_EPOLL:
		snprintf(buf, sizeof(buf), "/proc/%d/fdinfo/%d", (int)pid,
			 c->fd);
		{
			FILE *f = fopen(buf, "re");
			size_t n = 0;

			if (!f)
				return NULL;
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = 0;
		}
		return fdwait_epoll_single(buf, &fd) ? name_fd(pid, fd) : NULL;
	case FDWAIT_CALL_CHILD:
		child = fdwait_child(pid, c->child);
		w = xcalloc(1, sizeof(*w));
		w->kind = SNAP_WAIT_CHILD;
		w->fd = -1;
		w->pid = child ? child : -1;
		if (child && fdwait_cmdline(child, buf, sizeof(buf)))
			w->cmdline = xstrdup(buf);
		/* A child it names but does not have is no one's to wait
		 * for: say nothing rather than something wrong. */
		if (!child && c->child != -1) {
			snap_wait_free(w);
			return NULL;
		}
		return w;
	default:
		return NULL;
	}
}

void session_waits_name(struct session *s, struct session_waits *w,
			struct snapshot *snap)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t j = 0; j < snap->nthreads; j++) {
			struct snap_thread *t = &snap->threads[j];

			if (t->native_id != w->tids[i] || t->waits_on)
				continue;
			t->waits_on = name_call(s->pid, &w->calls[i]);
			break;
		}
	free(w->tids);
	free(w->calls);
	free(w);
}
