/*
 * procwait.c - waits across processes: a thread of the dumped process
 * blocked in wait4() for a child, or on a pipe, a FIFO or a TCP
 * connection on this host only one other process holds the other end
 * of, waits for that process; if that one is
 * blocked too (no thread running) in such a call, it waits for the next,
 * and so on.  A chain back to the dumped process is a deadlock (the
 * subprocess pipe deadlock: the parent in Popen.wait() not reading, the
 * child blocked writing its full stdout pipe); a chain into a cycle of
 * other processes is a likely hang.
 *
 * Everything is read from /proc once the target runs again, and only
 * when a thread waits on another process: a peer's blocked threads'
 * calls from their syscall files, one scan of /proc per peer for the
 * other ends of its pipes; each peer read once a dump, at most
 * PROCWAIT_PEERS_MAX of them, at most SNAP_PROC_WAIT_MAX a chain.
 * An edge is drawn only when exactly one other process can end the wait
 * (a pipe's other end held by several: any of them could), so a verdict
 * is never a guess.  A peer of a verdict that runs Python is read too (a
 * session of its own, paused as any), for its blocked thread's stack.
 */
#include <config.h>

#include "session/kind.h"
#include "session/session.h"
#include "attach/fdwait.h"
#include "attach/proc.h"
#include "common/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A peer's threads looked at, at most. */
#define PROCWAIT_THREADS_MAX 256
/* Peers looked at in one dump, at most: each costs a scan of /proc when
 * it waits on a pipe, and a peer met by several chains is read once. */
#define PROCWAIT_PEERS_MAX 16
/* A command line, at most (bytes). */
#define PROCWAIT_CMDLINE_MAX 1024

/* What one blocked thread waits for: the process, and how. */
struct edge {
	pid_t tid;
	long nr;              /* its call, -1 unknown */
	int kind;             /* SNAP_WAIT_CHILD, _PIPE, _FIFO */
	int fd;
	uint64_t inode;
	bool writes;
	pid_t to;             /* 0: no single process */
};

/* The one process other than self among a pipe's other-end holders, or
 * 0 (none, several, or self among them: it could end the wait itself). */
static pid_t single_holder(pid_t self, const pid_t *pids, size_t n,
			   bool more)
{
	pid_t found = 0;

	if (more)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (pids[i] == self || (found && found != pids[i]))
			return 0;
		found = pids[i];
	}
	return found;
}

static int kind_of_fd(int fdkind)
{
	return fdkind == FDWAIT_FIFO ? SNAP_WAIT_FIFO :
		fdkind == FDWAIT_SOCKET ? SNAP_WAIT_SOCKET : SNAP_WAIT_PIPE;
}

/* Does a call of that name send (wait for the other end to read)? */
static bool sends(const char *name)
{
	return !strncmp(name, "write", 5) || !strncmp(name, "pwrite", 6) ||
		!strncmp(name, "send", 4);
}

/* Is f followed: a pipe, a FIFO, a TCP socket connected on this host? */
static bool followed(const struct fdwait_fd *f)
{
	return f->kind == FDWAIT_PIPE || f->kind == FDWAIT_FIFO ||
		(f->kind == FDWAIT_SOCKET && f->peer_inode);
}

/* The edges of peer pid's threads into e[] (at most max): false when a
 * thread of it runs (or it is stopped, or gone), so it could still end
 * a wait on it by itself. */
static bool peer_edges(pid_t pid, struct edge *e, size_t max, size_t *ne)
{
	struct fdwait_fd *fds = xcalloc(max + 1, sizeof(*fds));
	struct fdwait_ends *ends;
	struct fdwait_net net;
	size_t n = 0, nfds = 0, *of = xcalloc(max + 1, sizeof(*of));
	pid_t *tids;
	size_t ntids;
	bool stuck = true;

	*ne = 0;
	if (proc_tasks(pid, &tids, &ntids, NULL)) {
		free(fds);
		free(of);
		return false;
	}
	fdwait_net_init(&net, pid);
	for (size_t i = 0; i < ntids && stuck; i++) {
		char st = proc_task_state(pid, tids[i]);
		struct fdwait_call c;
		uint64_t args[6];
		long nr;

		if (st != 'S' && st != 'D') {
			stuck = false;
			break;
		}
		if (n >= max || !fdwait_task_call(pid, tids[i], &nr, args) ||
		    !fdwait_classify(nr, args, &c))
			continue;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].tid = tids[i];
		e[n].nr = nr;
		e[n].fd = -1;
		if (c.kind == FDWAIT_CALL_CHILD) {
			e[n].kind = SNAP_WAIT_CHILD;
			e[n].to = fdwait_child(pid, c.child);
			n++;
		} else if (c.kind == FDWAIT_CALL_FD &&
			   fdwait_read(pid, c.fd, &net, &fds[nfds]) &&
			   followed(&fds[nfds])) {
			char name[32];

			proc_syscall_name(nr, name, sizeof(name));
			e[n].kind = kind_of_fd(fds[nfds].kind);
			e[n].fd = c.fd;
			e[n].inode = fds[nfds].inode;
			e[n].writes = fds[nfds].kind == FDWAIT_SOCKET ?
				sends(name) : fds[nfds].accmode == O_WRONLY;
			of[nfds++] = n++;
		}
		/* A poll() of another process's descriptor is in its memory,
		 * which we do not read: not followed. */
	}
	fdwait_net_release(&net);
	free(tids);
	if (stuck && nfds) {
		/* One scan of /proc for all of this peer's pipes. */
		ends = xcalloc(nfds, sizeof(*ends));
		fdwait_other_ends(pid, fds, nfds, ends);
		for (size_t k = 0; k < nfds; k++) {
			pid_t pids[FDWAIT_ENDS_MAX];
			size_t m = ends[k].n < FDWAIT_ENDS_MAX ? ends[k].n :
				FDWAIT_ENDS_MAX;

			for (size_t i = 0; i < m; i++)
				pids[i] = ends[k].h[i].pid;
			e[of[k]].to = single_holder(pid, pids, m,
						    ends[k].n > m ||
						    ends[k].partial);
		}
		free(ends);
	}
	free(fds);
	free(of);
	*ne = n;
	return stuck;
}

/* The peers of one dump, each read once (peer_edges()). */
struct peers {
	struct peer {
		pid_t pid;
		bool stuck;
		struct edge *e;
		size_t ne;
	} v[PROCWAIT_PEERS_MAX];
	size_t n;
};

/* Peer pid's edges as peer_edges() gives them, read on first need; NULL
 * when it runs, or when this dump has read its share of peers. */
static const struct peer *peer_of(struct peers *ps, pid_t pid)
{
	struct peer *p;

	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].pid == pid)
			return ps->v[i].stuck ? &ps->v[i] : NULL;
	if (ps->n == PROCWAIT_PEERS_MAX)
		return NULL;
	p = &ps->v[ps->n++];
	p->pid = pid;
	p->e = xcalloc(PROCWAIT_THREADS_MAX, sizeof(*p->e));
	p->stuck = peer_edges(pid, p->e, PROCWAIT_THREADS_MAX, &p->ne);
	return p->stuck ? p : NULL;
}

static void peers_release(struct peers *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].e);
	ps->n = 0;
}

/* Fill step st of process pid from its /proc files. */
static void step_of_process(struct snap_proc_step *st, pid_t pid)
{
	char buf[PROCWAIT_CMDLINE_MAX];

	st->pid = pid;
	if (proc_comm(pid, pid, buf, 16))
		st->comm = xstrdup(buf);
	if (fdwait_cmdline(pid, buf, sizeof(buf)))
		st->cmdline = xstrdup(buf);
}

/* A peer that runs Python: its version and the blocked thread's stack
 * into st, from a paused read of its own (locks not looked for: that
 * would follow its waits in turn).  Others are left as they are. */
static void read_peer_stack(struct snap_proc_step *st)
{
	struct session_opts o = { .pause = true };
	struct snapshot *snap = NULL;
	struct session *ps = NULL;
	struct err e;

	err_clear(&e);
	if (session_open((pid_t)st->pid, &ps, &e) ||
	    session_snapshot(ps, &o, &snap, &e)) {
		session_close(ps);
		return;
	}
	st->python = snap->version ? xstrdup(snap->version) : NULL;
	for (size_t i = 0; i < snap->nthreads; i++) {
		struct snap_thread *t = &snap->threads[i];

		if (t->native_id != st->tid)
			continue;
		/* Taken over, not copied: snap is freed below. */
		st->frames = t->frames;
		st->nframes = t->nframes;
		t->frames = NULL;
		t->nframes = t->frames_cap = 0;
		break;
	}
	snap_free(snap);
	session_close(ps);
}

/* Is any thread of the snapshot running (it could end a wait itself)? */
static bool snap_runs(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nthreads; i++)
		if (snap->threads[i].os.state == 'R')
			return true;
	return false;
}

/* The edge of the dumped process's thread t (its waits_on), or false. */
static bool thread_edge(pid_t pid, const struct snap_thread *t,
			struct edge *e)
{
	const struct snap_wait *w = t->waits_on;

	if (!w || t->native_id <= 0)
		return false;
	memset(e, 0, sizeof(*e));
	e->tid = (pid_t)t->native_id;
	e->nr = -1;
	e->fd = w->fd;
	e->kind = w->kind;
	if (w->kind == SNAP_WAIT_CHILD) {
		e->to = w->pid > 0 ? (pid_t)w->pid : 0;
	} else if (w->kind == SNAP_WAIT_PIPE || w->kind == SNAP_WAIT_FIFO ||
		   (w->kind == SNAP_WAIT_SOCKET && w->nends)) {
		pid_t pids[FDWAIT_ENDS_MAX];

		for (size_t i = 0; i < w->nends && i < FDWAIT_ENDS_MAX; i++)
			pids[i] = (pid_t)w->ends[i].pid;
		e->inode = w->inode;
		/* A write or a send blocks for a reader (the syscall's name
		 * says which). */
		e->writes = sends(t->os.syscall);
		e->to = single_holder(pid, pids,
				      w->nends < FDWAIT_ENDS_MAX ? w->nends :
				      FDWAIT_ENDS_MAX,
				      w->ends_more || w->ends_partial);
	}
	return e->to > 0;
}

static void set_edge(struct snap_proc_step *st, const struct edge *e,
		     const char *syscall)
{
	char name[32];

	st->tid = e->tid;
	st->kind = e->kind;
	st->fd = e->kind == SNAP_WAIT_CHILD ? -1 : e->fd;
	st->inode = e->kind == SNAP_WAIT_CHILD ? 0 : e->inode;
	st->writes = e->writes;
	st->waits_for = e->to;
	if (!syscall) {
		proc_syscall_name(e->nr, name, sizeof(name));
		syscall = name;
	}
	st->syscall = syscall[0] ? xstrdup(syscall) : NULL;
}

/* Follow the chain from thread t of the dumped process; true when it
 * ends in a cycle (then *w holds it). */
static bool follow(pid_t self, const struct snap_thread *t, struct edge *e0,
		   struct peers *ps, struct snap_proc_wait *w)
{
	pid_t next = e0->to;

	memset(w, 0, sizeof(*w));
	w->steps = xcalloc(SNAP_PROC_WAIT_MAX, sizeof(*w->steps));
	step_of_process(&w->steps[0], self);
	w->steps[0].thread_id = t->thread_id;
	set_edge(&w->steps[0], e0, t->os.syscall);
	w->n = 1;
	while (w->n < SNAP_PROC_WAIT_MAX) {
		struct snap_proc_step *st = &w->steps[w->n];
		const struct peer *p = peer_of(ps, next);
		size_t pick = SIZE_MAX, back = SIZE_MAX, ne;
		const struct edge *e;

		if (!p)
			break;
		e = p->e;
		ne = p->ne;
		/* A thread waiting for a process already in the chain closes
		 * it; the first other one carries it on. */
		for (size_t i = 0; i < ne && back == SIZE_MAX; i++) {
			if (e[i].to <= 0)
				continue;
			for (size_t k = 0; k < w->n; k++)
				if (w->steps[k].pid == e[i].to)
					back = i;
			if (back == SIZE_MAX && pick == SIZE_MAX &&
			    e[i].to != next)
				pick = i;
		}
		if (back == SIZE_MAX && pick == SIZE_MAX)
			break;
		step_of_process(st, next);
		set_edge(st, &e[back != SIZE_MAX ? back : pick], NULL);
		w->n++;
		if (back != SIZE_MAX) {
			for (size_t k = 0; k < w->n; k++)
				if (w->steps[k].pid == st->waits_for)
					w->cycle_from = k;
			w->deadlock = w->cycle_from == 0;
			return true;
		}
		next = st->waits_for;
	}
	snap_proc_wait_release(w);
	return false;
}

void session_proc_waits(struct session *s, struct snapshot *snap)
{
	bool runs = snap_runs(snap);
	struct peers ps = { .n = 0 };

	for (size_t i = 0; i < snap->nthreads; i++) {
		const struct snap_thread *t = &snap->threads[i];
		struct snap_proc_wait w;
		struct edge e0;

		if (!thread_edge(s->pid, t, &e0) || !follow(s->pid, t, &e0, &ps, &w))
			continue;
		/* Back to us while one of our threads runs: that one could
		 * still end it. */
		if (w.deadlock && runs) {
			snap_proc_wait_release(&w);
			continue;
		}
		/* The target runs again: its Python peers may be held. */
		for (size_t k = 1; k < w.n; k++)
			read_peer_stack(&w.steps[k]);
		snap->proc_waits = xrealloc(snap->proc_waits,
					    (snap->nproc_waits + 1) *
					    sizeof(*snap->proc_waits));
		snap->proc_waits[snap->nproc_waits++] = w;
	}
	peers_release(&ps);
}
