/*
 * dump.h - the options and rendering of 'snakescope dump', shared with
 * 'watch' and 'run dump'.
 */
#ifndef SNAKESCOPE_DUMP_H
#define SNAKESCOPE_DUMP_H

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>

#include "session/session.h"
#include "cli/out.h"
#include "common/json.h"
#include "common/strbuf.h"

#define DUMP_MAX_LIB_PATHS 32

struct dump_opts {
	struct session_opts io;
	const char *core;   /* --core FILE, or NULL: a process */
	struct session_core_opts copts; /* --exe, --sysroot, --lib-path */
	const char *lib_paths[DUMP_MAX_LIB_PATHS];
	struct out_opts oo; /* colour is decided at render time */
	bool json;
	bool source;        /* source lines under frames (text) */
	/* Several processes (dump and deadlock): --subprocesses (the PID's
	 * Python descendants too), or more PID operands than one: the
	 * operands after the first, each checked a PID by dump_parse(). */
	bool subprocesses;
	char **more_pids;
	size_t nmore_pids;
	/* --window: seconds to watch a GIL holder when others wait for the
	 * GIL (the gil_held verdict of a live process); 0: not at all. */
	double window;
};

/* --window's default: long enough for a Python holder to give the GIL
 * up many times over (every 5 ms), short for the one who waits. */
#define DUMP_WINDOW_DEFAULT 0.2
/* Looks at the holder across the window. */
#define DUMP_WINDOW_LOOKS 4

/* dump's long options (--json, --no-pause and its alias --nonblocking,
 * --tasks, --locals, --repr-width, --full, --no-source, --no-group,
 * --native,
 * --native-all, --help), NULL-terminated. */
extern const struct option dump_longopts[];

/* Room for a command's own long options before dump's. */
#define DUMP_LONGOPTS_MAX 32

/* out[] = own[0 .. nown), then dump_longopts, then the terminator.  out
 * has DUMP_LONGOPTS_MAX entries. */
void dump_longopts_after(struct option *out, const struct option *own,
			 size_t nown);

/* Defaults: paused, tasks, locks, source lines. */
void dump_opts_init(struct dump_opts *d);

/* Apply option c (a dump_longopts value) with its argument.  Returns 0,
 * EXIT_USAGE after reporting a bad value, or -1 when c is not a dump
 * option.  cmd names the command in messages. */
int dump_opt(struct dump_opts *d, int c, const char *arg, const char *cmd);

/* After the options: refuse combinations that cannot work (--native
 * with --no-pause).  Returns 0 or EXIT_USAGE after reporting. */
int dump_opts_check(const struct dump_opts *d, const char *cmd);

/* dump's and run dump's --nonstop, once the options are read: refused
 * with --no-pause (EXIT_USAGE after reporting), else it stands for the
 * pause (d->io.pause cleared).  0 without --nonstop. */
int dump_nonstop_check(struct dump_opts *d, const char *cmd);

/*
 * Parse the options and the process of 'snakescope dump' (deadlock:
 * 'snakescope deadlock', which takes fewer) from argv (argv[0] is the
 * command name): the PID as an operand or with -p/--pid.  Returns 0, -1
 * when --help was printed, or EXIT_USAGE after reporting.
 */
int dump_parse(int argc, char **argv, bool deadlock, struct dump_opts *d,
	       pid_t *pid);

/* deadlock's text for snap: its header line, the threads' note and the
 * lock analysis. */
void deadlock_render(struct strbuf *sb, const struct snapshot *snap,
		     bool color, const struct dump_opts *d);

/* --window's value: set d->window, or report and return EXIT_USAGE. */
int dump_window_opt(struct dump_opts *d, const char *arg, const char *cmd);

/*
 * A live process's snap shows a thread holding the GIL at a Python frame
 * while another may wait for it: look again (DUMP_WINDOW_LOOKS reads of
 * its threads, paused as d->io says, over d->window seconds) and add to
 * snap the holders that never let go (snap_find_gil_held: the gil_held
 * likely hang).  Nothing for a core file, a window of 0, or when a look
 * fails (the process may be exiting).
 */
void dump_gil_window(struct session *s, struct snapshot *snap,
		     const struct dump_opts *d);

/* Exit status of deadlock for one verdict (SNAP_VERDICT_*). */
int deadlock_exit(int verdict);

/*
 * dump or deadlock of several processes (cli/dump_many.c): pid and
 * d->more_pids, or pid and its Python descendants (d->subprocesses),
 * each read in turn; those alike told once (see model/proc_groups.h),
 * one not read told in its place.  Prints the text or the JSON document
 * {"processes": [...], "groups": [...]} and returns the exit status:
 * dump 0 when at least one process was read; deadlock the worst verdict
 * of those read (6 over 7 over 0); the first process's error's status
 * when none was read.
 */
int dump_many(struct dump_opts *d, pid_t pid, bool deadlock);

/*
 * The processes dump_many() reads: pid and d->more_pids, or with
 * d->subprocesses pid and its descendants, breadth first (children, then
 * theirs), each once, at most 4096 (quiet: without saying so when more
 * are left out).  Returns their number; *out is malloc'ed.
 */
size_t dump_many_collect(const struct dump_opts *d, pid_t pid, pid_t **out,
			 bool quiet);

/* How dump_many_render() writes, and what it found. */
struct dump_many_out {
	/* in */
	bool color;
	bool quiet;          /* no message on stderr for a process not
				read (the text and JSON tell it) */
	bool compact;        /* JSON on one line */
	/* JSON: members written first in the document (a watch's
	 * "timestamp", "dump"), or NULL */
	void (*head)(struct json *j, void *arg);
	void *head_arg;
	/* out */
	size_t nprocs;       /* processes told (descendants that are not
				Python, or gone, left out) */
	size_t nread;
	int worst;           /* SNAP_VERDICT_* of those read */
	int first_status;    /* exit status of the first not read, or 0 */
	bool all_gone;       /* none read, and each because it is gone */
};

/*
 * Read processes pids[0..npids) (pids[0] the parent with
 * d->subprocesses) in turn and append to sb what dump_many() prints of
 * them (text, or d->json the JSON document).  The processes are paused
 * one at a time, as d->io says.
 */
void dump_many_render(struct dump_opts *d, const pid_t *pids, size_t npids,
		      bool deadlock, struct strbuf *sb,
		      struct dump_many_out *mo);

/* The dump's text or JSON document for snap, read from session s (its
 * source lines), as 'snakescope dump' prints it. */
void dump_render(struct strbuf *sb, struct session *s,
		 const struct snapshot *snap, bool color,
		 const struct dump_opts *d);

#endif
