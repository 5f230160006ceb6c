/*
 * fdwait.h - what a blocked system call waits on, from /proc.
 *
 * A thread blocked in read(), recv*(), accept(), connect(), flock(), a
 * poll() on one descriptor, wait4() ... waits on a descriptor or a child.
 * Given the call's number and arguments (from the held thread's
 * registers: proc_regs_args()), this names it as the OS knows it:
 *
 *   - a file or a FIFO: its path, from readlink(/proc/PID/fd/N);
 *   - a pipe: pipe:[inode], and the processes holding its other end
 *     (every /proc/P/fd naming the same inode, opened the other way);
 *   - a socket: its protocol and local and peer addresses, from the
 *     target's own /proc/PID/net/{tcp,tcp6,udp,udp6,unix} (its network
 *     namespace's), a unix socket's bound path;
 *   - a child: its PID and command line.
 *
 * Containers: addresses come from the target's network namespace, so
 * they are its own.  A path is given only when the target shares our
 * mount namespace and root (elsewhere readlink() answers in our terms,
 * which may name another file or none: fdwait_read() leaves it out).
 * PIDs (a pipe's holders, a child) are as we see them.
 *
 * Everything /proc says about another process is untrusted: strings are
 * bounded here and escaped by the writers.  Nothing here pauses or
 * touches the target; the arguments must come from a paused read.
 * Parsers take text, so canned /proc lines feed the tests.
 */
#ifndef SNAKESCOPE_FDWAIT_H
#define SNAKESCOPE_FDWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a system call waits on, from its number and arguments alone. */
enum fdwait_call_kind {
	FDWAIT_CALL_NONE = 0, /* nothing we name (a futex, a sleep, ...) */
	FDWAIT_CALL_FD,       /* the descriptor fd */
	FDWAIT_CALL_POLL,     /* poll()/ppoll() of one struct pollfd at
				 addr: its fd is in the target's memory */
	FDWAIT_CALL_CHILD,    /* wait4()/waitid(): child id (the target's
				 own number), -1 any */
};

struct fdwait_call {
	int kind;      /* enum fdwait_call_kind */
	int fd;
	uint64_t addr;
	long child;
};

/* Classify system call nr with its six arguments (this architecture's
 * numbers).  Returns false (kind NONE) for a call that waits on no
 * descriptor or child, or on more than one. */
bool fdwait_classify(long nr, const uint64_t args[6], struct fdwait_call *c);

/*
 * A poll() or a futex wait with a timeout interrupted (by an earlier
 * pause: ptrace's interrupt is one) is resumed by the kernel as
 * restart_syscall, its arguments still in the registers; only where the
 * thread sleeps (its wchan) tells which call it is.  select(), ppoll(),
 * epoll_wait() and futex waits without a timeout restart as themselves.
 * A lock waited for with a timeout (Event.wait(5), lock.acquire(timeout=))
 * would otherwise be lost to the lock analysis from the second dump of a
 * process on.
 */

/* Does the text of /proc/PID/task/TID/wchan name poll()'s wait? */
bool fdwait_wchan_poll(const char *wchan);
/* ... a futex wait's (futex_wait_queue, futex_wait_queue_me,
 * futex_do_wait, as kernels name it)? */
bool fdwait_wchan_futex(const char *wchan);

/* The call thread tid of pid in restart_syscall resumes, by its wchan:
 * "poll", "futex", or NULL when neither.  Read while the thread runs: a
 * held thread sleeps elsewhere. */
const char *fdwait_resumed_call(pid_t pid, pid_t tid);

/* The call a held thread is in, by its registers' number nr, when /proc
 * named it `name` before the hold: nr when that is the call; poll's
 * number when nr is restart_syscall and name is "poll" (the reader
 * named it so by fdwait_resumed_call()); -1 when the thread has moved
 * on to another call. */
long fdwait_same_call(long nr, const char *name);

/* Could a thread /proc says is blocked in the call named `name` wait on
 * something fdwait_classify() names (a read, a send, an accept, a poll,
 * a wait4 ...)?  False for a futex, a sleep, epoll_wait: their registers
 * need not be read while the target is held. */
bool fdwait_call_named(const char *name);

/*
 * Another process's thread, which we do not hold: the call it is blocked
 * in and its six arguments, from the text of /proc/PID/task/TID/syscall
 * ("NR A0 A1 A2 A3 A4 A5 SP PC", in hex but NR).  False when the text
 * says it runs or sleeps outside a call ("running", "-1 SP PC"), or does
 * not parse.
 */
bool fdwait_syscall_text(const char *text, long *nr, uint64_t args[6]);
/* The same, read from the file of task tid of pid (root's, mode 0400). */
bool fdwait_task_call(pid_t pid, pid_t tid, long *nr, uint64_t args[6]);

/* What a descriptor is. */
enum fdwait_kind {
	FDWAIT_NONE = 0,
	FDWAIT_FILE,   /* path (a regular file, a device, a directory) */
	FDWAIT_FIFO,   /* path, dev/inode */
	FDWAIT_PIPE,   /* inode */
	FDWAIT_SOCKET, /* proto, local, peer, state; unix: path */
	FDWAIT_OTHER,  /* path holds readlink()'s text (anon_inode:...) */
};

#define FDWAIT_PATH_MAX 1024
#define FDWAIT_ADDR_MAX 64  /* "[ffff:...:ffff]:65535" */

struct fdwait_fd {
	int kind;                 /* enum fdwait_kind */
	int fd;
	int accmode;              /* O_RDONLY, O_WRONLY, O_RDWR; -1 unknown */
	uint64_t inode;           /* pipe, socket, FIFO */
	uint64_t dev;             /* FIFO, pipe: for the holders' scan */
	char path[FDWAIT_PATH_MAX]; /* "" when not given */
	char proto[8];            /* "tcp", "tcp6", "udp", "udp6", "unix",
				     "" unknown (netlink, ...) */
	char local[FDWAIT_ADDR_MAX]; /* "127.0.0.1:41234", "[::1]:80" */
	char peer[FDWAIT_ADDR_MAX];  /* "" when not connected */
	char state[16];           /* TCP: "ESTABLISHED", "LISTEN", ...;
				     unix: "LISTEN" or "" */
	uint64_t peer_inode;      /* TCP: the other end's socket on this
				     host (its network namespace), 0 none */
};

/*
 * The /proc/PID/net files of one target, each read once for all the
 * descriptors of one look (reading /proc/net/tcp walks the kernel's
 * whole connection table: milliseconds even when it holds few).  At most
 * FDWAIT_NET_MAX bytes of each are read (a host with more sockets is
 * searched only so far).
 */
#define FDWAIT_NET_FILES 5 /* tcp, tcp6, udp, udp6, unix */
#define FDWAIT_NET_MAX (16u << 20)
struct fdwait_net {
	pid_t pid;
	char *text[FDWAIT_NET_FILES]; /* NULL: unread or unreadable */
	bool tried[FDWAIT_NET_FILES];
};
void fdwait_net_init(struct fdwait_net *n, pid_t pid);
void fdwait_net_release(struct fdwait_net *n);

/* Describe descriptor fd of process pid (net's) into *out, its socket
 * looked up in net.  Returns false when /proc/PID/fd/N cannot be read
 * (closed, or permission refused). */
bool fdwait_read(pid_t pid, int fd, struct fdwait_net *net,
		 struct fdwait_fd *out);

/* A process holding the other end of a pipe or FIFO. */
struct fdwait_holder {
	pid_t pid;
	char comm[16];
};

/* Bounds of fdwait_other_ends()'s scan of /proc: processes, descriptors
 * of one process, descriptors in all. */
#define FDWAIT_SCAN_PROCS 32768
#define FDWAIT_SCAN_FDS 65536
#define FDWAIT_SCAN_TOTAL (1u << 20)
#define FDWAIT_ENDS_MAX 8

/* The holders of one pipe's or FIFO's other end. */
struct fdwait_ends {
	struct fdwait_holder h[FDWAIT_ENDS_MAX]; /* in PID order */
	size_t n;     /* how many hold it (more than listed: > ENDS_MAX) */
	bool partial; /* the scan stopped at a bound: others may hold it */
	pid_t last;   /* (the scan's own) */
};

/*
 * For each pipe or FIFO f[i] (of process pid), the processes holding its
 * other end into ends[i]: those with a descriptor of the same inode
 * opened the other way (for writing when f[i] reads, for reading when it
 * writes; both when unknown), pid itself included, its own f[i].fd
 * excepted; for a TCP socket with a peer_inode, those holding that
 * socket.  One scan of /proc for all of them; processes we may not
 * read are skipped.  Other kinds get none.  A scan stopped at one of its
 * bounds (FDWAIT_SCAN_*) marks every ends[i] partial.
 */
void fdwait_other_ends(pid_t pid, const struct fdwait_fd *f, size_t nf,
		       struct fdwait_ends *ends);

/* The access mode (O_RDONLY, O_WRONLY, O_RDWR) from the text of a
 * /proc/PID/fdinfo/N ("flags: 0100002"), or -1. */
int fdwait_fdinfo_accmode(const char *fdinfo);

/* The inode of a readlink(/proc/PID/fd/N) text "TYPE:[inode]" when it
 * starts with type ("pipe", "socket"); false otherwise. */
bool fdwait_link_inode(const char *link, const char *type, uint64_t *ino);

/*
 * The socket of inode ino in the text of /proc/net/tcp, tcp6, udp or
 * udp6 (v6: the 6 files): fills local, peer ("" for a peer 0:0) and, for
 * tcp, state.  Returns false when no line has that inode.
 */
bool fdwait_net_inet(const char *text, uint64_t ino, bool v6, bool tcp,
		     struct fdwait_fd *out);

/*
 * The other end of TCP socket f (its local and peer addresses filled) on
 * this host, in the text of the same /proc/net/tcp (tcp6: v6): the inode
 * of the socket whose addresses are f's the other way.  False when no
 * line has them (the peer is on another host, or f is not connected).
 */
bool fdwait_net_inet_peer(const char *text, const struct fdwait_fd *f,
			  bool v6, uint64_t *ino);

/* The socket of inode ino in the text of /proc/net/unix: its bound path
 * (abstract names start with '@'; "" unbound) and "LISTEN" for a
 * listening one.  Returns false when no line has that inode. */
bool fdwait_net_unix(const char *text, uint64_t ino, struct fdwait_fd *out);

/*
 * The child of process pid that it knows as id (its own PID namespace's
 * number; -1: its only child).  Returns the child's PID as we see it, or
 * 0 when pid has no such child (or, for -1, not exactly one).
 */
pid_t fdwait_child(pid_t pid, long id);

/* The NSpid entry at level (0: ours) of a status file's text, or 0. */
pid_t fdwait_nspid_at(const char *status, int level);

/* A process's command line, arguments joined by spaces, at most size-1
 * bytes; false when it cannot be read (or is empty: a kernel thread, a
 * zombie). */
bool fdwait_cmdline(pid_t pid, char *buf, size_t size);

#endif
