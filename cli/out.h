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

struct out_opts {
	bool color; /* ANSI colour (decided by the caller: TTY, NO_COLOR) */
	int tasks;  /* enum out_tasks_mode */
	bool full;  /* show importlib's frames instead of "importing 'm'" */
	bool native_all; /* native stacks keep the interpreter's frames */
	struct source_cache *source; /* source lines, or NULL for none */
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
