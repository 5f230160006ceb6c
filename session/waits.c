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

		/* Blocked before the pause in a call that may wait on a
		 * descriptor or a child (the registers of the rest - futex
		 * waits, sleeps - are not read while the target is held),
		 * and still in the same call. */
		if ((os[i].state != 'S' && os[i].state != 'D') ||
		    !fdwait_call_named(os[i].syscall) ||
		    !s->kind->regs(s, tids[i], &r) ||
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

/* The snapshot's description of descriptor f, with the holders of its
 * other end. */
static struct snap_wait *wait_of_fd(const struct fdwait_fd *f,
				    const struct fdwait_ends *e)
{
	struct snap_wait *w = xcalloc(1, sizeof(*w));

	w->fd = f->fd;
	w->pid = -1;
	w->inode = f->inode;
	switch (f->kind) {
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
	w->path = dup_or_null(f->path);
	w->proto = dup_or_null(f->proto);
	w->local = dup_or_null(f->local);
	w->peer = dup_or_null(f->peer);
	w->state = dup_or_null(f->state);
	w->ends_more = e->n > FDWAIT_ENDS_MAX;
	w->ends_partial = e->partial;
	w->nends = e->n > FDWAIT_ENDS_MAX ? FDWAIT_ENDS_MAX : e->n;
	if (w->nends)
		w->ends = xcalloc(w->nends, sizeof(*w->ends));
	for (size_t i = 0; i < w->nends; i++) {
		w->ends[i].pid = e->h[i].pid;
		w->ends[i].comm = dup_or_null(e->h[i].comm);
	}
	return w;
}

/* The descriptor call c waits on, into *f: false when none is named
 * (a descriptor closed since). */
static bool fd_of_call(pid_t pid, const struct fdwait_call *c,
		       struct fdwait_net *net, struct fdwait_fd *f)
{
	return c->kind == FDWAIT_CALL_FD && fdwait_read(pid, c->fd, net, f);
}

/* A child call c waits for, or NULL when it names one pid does not
 * have (no one's to wait for: nothing rather than something wrong). */
static struct snap_wait *wait_of_child(pid_t pid, const struct fdwait_call *c)
{
	char buf[WAIT_CMDLINE_MAX];
	pid_t child = fdwait_child(pid, c->child);
	struct snap_wait *w;

	if (!child && c->child != -1)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->kind = SNAP_WAIT_CHILD;
	w->fd = -1;
	w->pid = child ? child : -1;
	if (child && fdwait_cmdline(child, buf, sizeof(buf)))
		w->cmdline = xstrdup(buf);
	return w;
}

void session_waits_name(struct session *s, struct session_waits *w,
			struct snapshot *snap)
{
	struct snap_thread **on_fd = xcalloc(w->n + 1, sizeof(*on_fd));
	struct fdwait_fd *fds = xcalloc(w->n + 1, sizeof(*fds));
	struct fdwait_ends *ends;
	struct fdwait_net net;
	size_t nfds = 0;

	/* Each descriptor first, then one scan of /proc for the other
	 * ends of all the pipes among them. */
	fdwait_net_init(&net, s->pid);
	for (size_t i = 0; i < w->n; i++) {
		struct snap_thread *t = NULL;

		for (size_t j = 0; j < snap->nthreads && !t; j++)
			if (snap->threads[j].native_id == w->tids[i] &&
			    !snap->threads[j].waits_on)
				t = &snap->threads[j];
		if (!t)
			continue;
		if (w->calls[i].kind == FDWAIT_CALL_CHILD)
			t->waits_on = wait_of_child(s->pid, &w->calls[i]);
		else if (fd_of_call(s->pid, &w->calls[i], &net, &fds[nfds]))
			on_fd[nfds++] = t;
	}
	fdwait_net_release(&net);
	ends = xcalloc(nfds + 1, sizeof(*ends));
	fdwait_other_ends(s->pid, fds, nfds, ends);
	for (size_t k = 0; k < nfds; k++)
		on_fd[k]->waits_on = wait_of_fd(&fds[k], &ends[k]);
	free(ends);
	free(fds);
	free(on_fd);
	free(w->tids);
	free(w->calls);
	free(w);
}
