/*
 * out.h - writers: render a snapshot.  They only format; they never read
 * the target.
 */
#ifndef SNAKESCOPE_OUT_H
#define SNAKESCOPE_OUT_H

#include <stdbool.h>

#include "common/strbuf.h"
#include "model/snapshot.h"

enum out_tasks_mode {
	OUT_TASKS_TREE = 0, /* awaited-by tree (default) */
	OUT_TASKS_TABLE,    /* one line per task */
	OUT_TASKS_NONE,     /* not read, not shown */
};

struct source_cache;
struct thread_groups;

struct out_opts {
	bool color; /* ANSI colour (decided by the caller: TTY, NO_COLOR) */
	int tasks;  /* enum out_tasks_mode */
	bool full;  /* show importlib's frames instead of "importing 'm'" */
	bool native_all; /* native stacks keep the interpreter's frames */
	struct source_cache *source; /* source lines, or NULL for none */
	/* Threads whose stacks are the same are shown as one group
	 * (model/thread_groups.h): the stack once, then the members; the
	 * locks section and the verdicts name the group.  false: every
	 * thread alone (--no-group). */
	bool group;
	/* The groups, when the caller built them (else the writers build
	 * them for the call when 'group' says so); not owned. */
	const struct thread_groups *groups;
	/* Diagnosis first (dump and deadlock; false: --no-summary): the
	 * verdicts and a line per thread or group (out_text_summary) open
	 * the text, and the locks section leaves the verdicts out. */
	bool summary;
};

/* ANSI colours of the text writers, through col(). */
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_FUNC "\033[33m"
#define C_GIL "\033[32m"
#define C_WARN "\033[31m"
#define C_OFF "\033[0m"

/* code when colour is on, else "". */
static inline const char *col(const struct out_opts *o, const char *code)
{
	return o->color ? code : "";
}

/* "SIGSEGV" for 11; "signal N" for one without a name.  Static storage,
 * valid until the next call. */
const char *out_signal_name(int signo);

/* Human-readable dump, traceback style, innermost frame first. */
void out_text_dump(struct strbuf *sb, const struct snapshot *s,
		   const struct out_opts *o);

/*
 * The members of a group, or any threads given by their indices in
 * s->threads (ascending): quoted names, runs of names that count up
 * compressed ("w0"-"w99"), then their TIDs, runs compressed (tids
 * 101-200, 305): '"w0"-"w99" (tids 101-200)'.  Unnamed threads show as
 * their thread ids; TIDs are left out when none is known.
 */
void out_text_members(struct strbuf *sb, const struct snapshot *s,
		      const size_t *idx, size_t n);

/* "Threads left out: why" when the snapshot says some are (its
 * threads_note), else nothing.  Called by out_text_dump; deadlock's
 * header too. */
void out_text_threads_note(struct strbuf *sb, const struct snapshot *s,
			   const struct out_opts *o);

/* The asyncio part of the text dump: tasks (tree or table) and await
 * cycles.  Called by out_text_dump. */
void out_text_tasks(struct strbuf *sb, const struct snapshot *s,
		    const struct out_opts *o);

/* Locks held and waited for, then the verdict (deadlock, likely hang or
 * none).  Called by out_text_dump; also the whole of `snakescope
 * deadlock`.  Nothing when the locks were not read. */
void out_text_locks(struct strbuf *sb, const struct snapshot *s,
		    const struct out_opts *o);

/* The verdicts alone: every deadlock and likely hang as a story, or the
 * "No deadlock" line.  Nothing when the locks were not read. */
void out_text_verdicts(struct strbuf *sb, const struct snapshot *s,
		       const struct out_opts *o);

/*
 * The diagnosis that opens the text when o->summary: the verdicts, then
 * one line per thread (per group when o->groups or o->group) in columns:
 * who, state, what it waits for and who holds that, and where (its
 * innermost frame of its own code).  At most OUT_SUMMARY_ROWS lines; the
 * rest are counted.  Called by out_text_dump and deadlock's text.
 */
#define OUT_SUMMARY_ROWS 60
void out_text_summary(struct strbuf *sb, const struct snapshot *s,
		      const struct out_opts *o);

/* "<threading.Lock 0x7f..>", "<import lock of 'm'>" (out_locks.c). */
void out_text_lock_name(struct strbuf *sb, const struct snap_lock *l);

/* 'thread "alpha"', 'task "t1"', or the party's id when unnamed. */
void out_text_party(struct strbuf *sb, const struct snapshot *s,
		    const struct snap_party *who);

/* What a blocked system call waits on, as the State line tells it after
 * the call's name: " on TCP a -> b (fd 5)", " for child 12 (cmd)";
 * nothing when w is NULL (out_text.c). */
void out_text_wait(struct strbuf *sb, const struct snap_wait *w);

/*
 * The JSON documents' "schema_version".  Bumped when a member is removed
 * or renamed, or its type or meaning changes, so that a reader (merge, a
 * script) can refuse what it would misread; adding members does not bump
 * it.  1: the first numbered schema (snakescope 0.x, with "host").
 */
#define OUT_JSON_SCHEMA_VERSION 1

/* One JSON document (see README.md for the schema), newline-terminated,
 * in the pretty layout.  'locals': frames carry a "locals" list (they
 * were read). */
void out_json_dump(struct strbuf *sb, const struct snapshot *s, bool locals,
		   bool native_all);

struct json;

/* The same document's members, written into the object open in j (its
 * layout is j's), so that a caller can add members of its own (watch's
 * "timestamp" and "dump") before them. */
void out_json_members(struct json *j, const struct snapshot *s, bool locals,
		      bool native_all);

#endif
