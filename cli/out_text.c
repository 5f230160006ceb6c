#include <config.h>

#include "common/escape.h"
#include "cli/out.h"
#include "session/source.h"
#include "model/native.h"
#include "model/thread_groups.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORTLIB_PREFIX "<frozen importlib._bootstrap"

static void thread_header(struct strbuf *sb, const struct snap_thread *t,
			  const struct out_opts *o)
{
	if (t->native_only)
		strbuf_addf(sb, "%sNative thread", col(o, C_BOLD));
	else
		strbuf_addf(sb, "%sThread %" PRIu64, col(o, C_BOLD),
			    t->thread_id);
	if (t->name) {
		strbuf_addstr(sb, " \"");
		escape_text(sb, t->name);
		strbuf_addch(sb, '"');
	}
	strbuf_addstr(sb, col(o, C_OFF));
	if (t->native_id >= 0 && t->ns_native_id >= 0)
		strbuf_addf(sb, " (tid %" PRId64 ", %" PRId64 " in its "
			    "namespace)", t->native_id, t->ns_native_id);
	else if (t->native_id >= 0)
		strbuf_addf(sb, " (tid %" PRId64 ")", t->native_id);
	if (t->interp_id != 0)
		strbuf_addf(sb, " [interpreter %" PRId64 "]", t->interp_id);
	if (t->holds_gil)
		strbuf_addf(sb, " %sholds the GIL%s", col(o, C_GIL),
			    col(o, C_OFF));
	strbuf_addch(sb, '\n');
}

/* Code points in the first 'bytes' bytes of UTF-8 s (at most its length). */
static int cp_count(const char *s, size_t bytes)
{
	int n = 0;

	for (size_t i = 0; i < bytes && s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

/* The frame's source line, stripped, and on 3.11+ carets under the
 * executing expression (as CPython's tracebacks draw them). */
static void source_lines(struct strbuf *sb, const struct snap_frame *f,
			 const struct out_opts *o)
{
	const char *line = source_line(o->source, f->filename, f->line);
	size_t lead = 0, len;
	struct strbuf text;
	int start, end;

	if (!o->source || f->line < 0)
		return;
	if (!line) {
		/* "<frozen ...>" and the like have no file: say nothing. */
		if (f->filename[0] != '<')
			strbuf_addf(sb, "        %s(source unreadable)%s\n",
				    col(o, C_DIM), col(o, C_OFF));
		return;
	}
	while (is_space(line[lead]))
		lead++;
	len = strlen(line);
	while (len > lead && (is_space(line[len - 1]) || line[len - 1] == '\n'))
		len--;
	if (len == lead)
		return;
	strbuf_init(&text);
	strbuf_add(&text, line + lead, len - lead);
	strbuf_addstr(sb, "        ");
	escape_text(sb, text.buf);
	strbuf_addch(sb, '\n');
	strbuf_release(&text);
	if (f->column < 0 || f->end_column < 0 || (size_t)f->column < lead ||
	    (size_t)f->column >= len)
		return;
	start = cp_count(line, (size_t)f->column) - (int)lead;
	if (f->end_line == f->line && (size_t)f->end_column <= len)
		end = cp_count(line, (size_t)f->end_column) - (int)lead;
	else
		end = cp_count(line, len) - (int)lead;
	if (end <= start)
		end = start + 1;
	/* Like CPython: no carets under an expression that is the whole
	 * line. */
	if (start == 0 && end >= cp_count(line + lead, len - lead))
		return;
	strbuf_addstr(sb, "        ");
	for (int i = 0; i < start; i++)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, col(o, C_WARN));
	for (int i = start; i < end; i++)
		strbuf_addch(sb, '^');
	strbuf_addf(sb, "%s\n", col(o, C_OFF));
}

static void locals_block(struct strbuf *sb, const struct snap_frame *f,
			 bool args)
{
	bool any = false;

	for (size_t i = 0; i < f->nlocals; i++) {
		const struct snap_local *l = &f->locals[i];

		if ((l->kind == SNAP_LOCAL_ARG) != args)
			continue;
		if (!any)
			strbuf_addstr(sb, args ? "      Arguments:\n" :
				      "      Locals:\n");
		any = true;
		strbuf_addstr(sb, "        ");
		escape_text(sb, l->name);
		strbuf_addstr(sb, " (");
		escape_text(sb, l->type);
		strbuf_addstr(sb, ") = ");
		escape_repr(sb, l->repr);
		if (l->kind == SNAP_LOCAL_CELL || l->kind == SNAP_LOCAL_FREE)
			strbuf_addf(sb, "  [%s]", snap_local_kind_name(l->kind));
		strbuf_addch(sb, '\n');
	}
}

static void frame_line(struct strbuf *sb, const struct snap_frame *f,
		       const struct out_opts *o)
{
	strbuf_addstr(sb, "    File \"");
	escape_text(sb, f->filename);
	if (f->line >= 0)
		strbuf_addf(sb, "\", line %d, in ", f->line);
	else
		strbuf_addstr(sb, "\", line ?, in ");
	strbuf_addstr(sb, col(o, C_FUNC));
	escape_text(sb, f->function);
	strbuf_addf(sb, "%s%s\n", col(o, C_OFF),
		    f->torn ? "  (changed while read)" : "");
	source_lines(sb, f, o);
	locals_block(sb, f, true);
	locals_block(sb, f, false);
}

static bool is_importlib(const struct snap_frame *f)
{
	return !strncmp(f->filename, IMPORTLIB_PREFIX, strlen(IMPORTLIB_PREFIX));
}

/* Frames innermost first; a run of importlib frames folds into one
 * "importing 'mod'" line unless o->full. */
static void stack_lines(struct strbuf *sb, const struct snap_thread *t,
			const struct out_opts *o)
{
	for (size_t j = 0; j < t->nframes; j++) {
		const char *module = NULL;
		size_t k = j;

		if (o->full || !is_importlib(&t->frames[j])) {
			frame_line(sb, &t->frames[j], o);
			continue;
		}
		for (; k < t->nframes && is_importlib(&t->frames[k]); k++)
			if (!module)
				module = t->frames[k].importing;
		if (module) {
			strbuf_addf(sb, "    %simporting '", col(o, C_FUNC));
			escape_text(sb, module);
			strbuf_addf(sb, "'%s\n", col(o, C_OFF));
		} else {
			strbuf_addf(sb, "    %s(%zu importlib frames)%s\n",
				    col(o, C_DIM), k - j, col(o, C_OFF));
		}
		j = k - 1;
	}
}

/* "    (C) clock_nanosleep+0x5b (libc.so.6)", or with no symbol
 * "    (C) ?? (python3.14+0x1a2b3c)"; marks as "    (note)". */
static void native_line(struct strbuf *sb, const struct snap_native *n,
			const struct out_opts *o)
{
	if (n->kind == SNAP_STACK_MARK) {
		strbuf_addf(sb, "    %s(", col(o, C_WARN));
		escape_text(sb, n->note);
		strbuf_addf(sb, ")%s\n", col(o, C_OFF));
		return;
	}
	strbuf_addf(sb, "    %s(C)%s ", col(o, C_DIM), col(o, C_OFF));
	if (n->function) {
		strbuf_addstr(sb, col(o, C_FUNC));
		escape_text(sb, n->function);
		strbuf_addf(sb, "%s+0x%" PRIx64, col(o, C_OFF), n->offset);
	} else {
		strbuf_addstr(sb, "??");
	}
	strbuf_addf(sb, " %s(", col(o, C_DIM));
	if (n->library) {
		escape_text(sb, n->library);
		if (!n->function)
			strbuf_addf(sb, "+0x%" PRIx64, n->lib_offset);
	} else {
		strbuf_addf(sb, "0x%" PRIx64, n->pc);
	}
	strbuf_addf(sb, ")%s\n", col(o, C_OFF));
}

static void native_stack_lines(struct strbuf *sb, const struct snap_thread *t,
			       const struct out_opts *o)
{
	for (size_t i = 0; i < t->nnative; i++) {
		const struct snap_native *n = &t->native[i];

		if (!py_native_shown(t, i, o->native_all))
			continue;
		if (n->kind == SNAP_STACK_PYTHON)
			frame_line(sb, &t->frames[n->py], o);
		else
			native_line(sb, n, o);
	}
}

/* " on TCP 127.0.0.1:41234 -> 10.0.0.5:5432 (fd 5)": what the blocking
 * system call waits on (paused dumps), after its name. */
static void wait_text(struct strbuf *sb, const struct snap_wait *w)
{
	const char *kind = w ? snap_wait_kind_name(w->kind) : NULL;
	const char *note = NULL;
	bool named;

	if (!kind)
		return;
	if (w->kind == SNAP_WAIT_CHILD) {
		if (w->pid < 0) {
			strbuf_addstr(sb, " for any child");
			return;
		}
		strbuf_addf(sb, " for child %" PRId64, w->pid);
		if (w->cmdline) {
			strbuf_addstr(sb, " (");
			escape_text(sb, w->cmdline);
			strbuf_addch(sb, ')');
		}
		return;
	}
	strbuf_addstr(sb, " on ");
	if (w->kind == SNAP_WAIT_SOCKET && w->proto &&
	    !strcmp(w->proto, "unix")) {
		strbuf_addstr(sb, "unix socket ");
		if (w->path)
			escape_text(sb, w->path);
		else
			strbuf_addf(sb, "socket:[%" PRIu64 "]", w->inode);
	} else if (w->kind == SNAP_WAIT_SOCKET && w->proto) {
		for (const char *p = w->proto; *p; p++)
			strbuf_addch(sb, (char)(*p >= 'a' && *p <= 'z' ?
						*p - 'a' + 'A' : *p));
		strbuf_addch(sb, ' ');
		if (w->local)
			escape_text(sb, w->local);
		if (w->peer) {
			strbuf_addstr(sb, " -> ");
			escape_text(sb, w->peer);
		}
	} else if (w->kind == SNAP_WAIT_SOCKET) {
		strbuf_addf(sb, "socket:[%" PRIu64 "]", w->inode);
	} else if (w->kind == SNAP_WAIT_PIPE) {
		strbuf_addf(sb, "pipe:[%" PRIu64 "]", w->inode);
	} else {
		if (w->kind == SNAP_WAIT_FIFO)
			strbuf_addstr(sb, "FIFO ");
		if (w->path)
			escape_text(sb, w->path);
		else
			strbuf_addf(sb, "fd %d", w->fd);
	}
	/* " (listening, fd 3)": the fd, unless it stood for the name. */
	named = w->path || w->kind == SNAP_WAIT_PIPE ||
		w->kind == SNAP_WAIT_SOCKET;
	if (w->state && !strcmp(w->state, "LISTEN"))
		note = "listening";
	else if (w->state && strcmp(w->state, "ESTABLISHED"))
		note = w->state;
	if (note || named) {
		strbuf_addstr(sb, " (");
		if (note) {
			escape_text(sb, note);
			strbuf_addstr(sb, named ? ", " : "");
		}
		if (named)
			strbuf_addf(sb, "fd %d", w->fd);
		strbuf_addch(sb, ')');
	}
	if (w->kind != SNAP_WAIT_PIPE && w->kind != SNAP_WAIT_FIFO)
		return;
	strbuf_addstr(sb, ", other end held by ");
	if (!w->nends)
		strbuf_addstr(sb, "no process snakescope may see");
	for (size_t i = 0; i < w->nends; i++) {
		strbuf_addf(sb, "%s%" PRId64, i ? ", " : "", w->ends[i].pid);
		if (w->ends[i].comm) {
			strbuf_addstr(sb, " (");
			escape_text(sb, w->ends[i].comm);
			strbuf_addch(sb, ')');
		}
	}
	if (w->ends_more)
		strbuf_addstr(sb, ", ...");
}

void out_text_wait(struct strbuf *sb, const struct snap_wait *w)
{
	wait_text(sb, w);
}

/* "State: idle, blocked in futex; traced by tracer" */
static void state_line(struct strbuf *sb, const struct snap_thread *t,
		       const struct out_opts *o)
{
	const char *os = snap_os_state_name(t->os.state);
	const char *importing = snap_thread_importing(t);

	strbuf_addf(sb, "  %sState:%s ", col(o, C_DIM), col(o, C_OFF));
	if (!os) {
		strbuf_addstr(sb, "unknown");
	} else {
		strbuf_addstr(sb, snap_thread_active(t) ? "active" : "idle");
		if (t->gil == SNAP_GIL_WAITS)
			strbuf_addstr(sb, ", waiting for the GIL");
		else if (t->os.state == 'R')
			strbuf_addstr(sb, ", running");
		else if (t->os.syscall[0]) {
			strbuf_addf(sb, ", %s in %s",
				    t->os.state == 'D' ? "in disk wait" :
				    "blocked", t->os.syscall);
			wait_text(sb, t->waits_on);
		} else
			strbuf_addf(sb, ", %s", os);
	}
	if (t->gc)
		strbuf_addstr(sb, "; collecting garbage");
	if (importing) {
		strbuf_addstr(sb, "; importing '");
		escape_text(sb, importing);
		strbuf_addch(sb, '\'');
	}
	if (t->trace) {
		strbuf_addstr(sb, "; traced by ");
		escape_text(sb, t->trace);
	}
	if (t->profile) {
		strbuf_addstr(sb, "; profiled by ");
		escape_text(sb, t->profile);
	}
	if (t->torn)
		strbuf_addstr(sb, "; stack changed while read");
	strbuf_addch(sb, '\n');
}

/* Hooks of a whole interpreter, once per interpreter (its threads all
 * carry them). */
static void interp_hooks(struct strbuf *sb, const struct snapshot *s,
			 const struct out_opts *o)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = s->threads[j].interp_id != t->interp_id;
		if (!first || (!t->nmonitoring && !t->eval_hook))
			continue;
		strbuf_addf(sb, "%sInterpreter %" PRId64 ":%s", col(o, C_WARN),
			    t->interp_id, col(o, C_OFF));
		for (size_t k = 0; k < t->nmonitoring; k++) {
			strbuf_addstr(sb, k ? ", " : " sys.monitoring tools ");
			escape_text(sb, t->monitoring[k]);
		}
		if (t->eval_hook)
			strbuf_addf(sb, "%s a PEP 523 frame evaluation hook is "
				    "installed", t->nmonitoring ? ";" : "");
		strbuf_addch(sb, '\n');
	}
}

const char *out_signal_name(int signo)
{
	static char buf[32];
	const char *abbrev = signo > 0 ? sigabbrev_np(signo) : NULL;

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "signal %d", signo);
	return buf;
}

/* "Core file F (zstd) of process N (args): SIGSEGV (address 0x0) in
 * thread T at function (library)". */
static void core_header(struct strbuf *sb, const struct snapshot *s)
{
	const struct snap_core *c = s->core;

	strbuf_addstr(sb, "Core file ");
	escape_text(sb, c->file);
	if (c->compression)
		strbuf_addf(sb, " (%s)", c->compression);
	if (c->args && c->args[0]) {
		strbuf_addstr(sb, ": ");
		escape_text(sb, c->args);
	}
	strbuf_addch(sb, '\n');
	if (!c->signo) {
		strbuf_addstr(sb, "Taken from a running process (no signal "
			      "recorded: gcore or a dump on request)\n");
		return;
	}
	strbuf_addf(sb, "Killed by %s", out_signal_name(c->signo));
	if (c->has_addr)
		strbuf_addf(sb, " at address 0x%llx",
			    (unsigned long long)c->addr);
	if (c->tid > 0)
		strbuf_addf(sb, " in thread %lld", (long long)c->tid);
	if (c->function || c->library) {
		strbuf_addstr(sb, ", in ");
		escape_text(sb, c->function ? c->function : "??");
		if (c->library) {
			strbuf_addstr(sb, " (");
			escape_text(sb, c->library);
			strbuf_addch(sb, ')');
		}
	}
	strbuf_addch(sb, '\n');
}

/* Everything of a thread below its header: state, stack, notes. */
static void thread_body(struct strbuf *sb, const struct snap_thread *t,
			const struct out_opts *o)
{
	state_line(sb, t, o);
	if (t->has_native) {
		strbuf_addf(sb, "  %sStack with native frames (most "
			    "recent call first):%s\n", col(o, C_DIM),
			    col(o, C_OFF));
		native_stack_lines(sb, t, o);
	} else if (t->nframes == 0 && !t->error) {
		strbuf_addf(sb, "  %s(no Python frames)%s\n",
			    col(o, C_DIM), col(o, C_OFF));
	} else if (t->nframes) {
		strbuf_addf(sb, "  %sStack (most recent call first):%s\n",
			    col(o, C_DIM), col(o, C_OFF));
	}
	if (!t->has_native)
		stack_lines(sb, t, o);
	if (t->truncated)
		strbuf_addf(sb, "    ... (stack cut at %zu frames)\n",
			    t->nframes);
	if (t->error) {
		strbuf_addf(sb, "    %s(stack incomplete: ",
			    col(o, C_WARN));
		escape_text(sb, t->error);
		strbuf_addf(sb, ")%s\n", col(o, C_OFF));
	}
}

void out_text_members(struct strbuf *sb, const struct snapshot *s,
		      const size_t *idx, size_t n)
{
	const char **names = xcalloc(n + 1, sizeof(*names));
	int64_t *tids = xcalloc(n + 1, sizeof(*tids));
	struct thread_run *runs = xcalloc(n + 1, sizeof(*runs));
	size_t nr, known = 0;

	for (size_t i = 0; i < n; i++) {
		names[i] = s->threads[idx[i]].name;
		tids[i] = s->threads[idx[i]].native_id;
		known += tids[i] >= 0;
	}
	nr = thread_name_runs(names, n, runs);
	for (size_t r = 0; r < nr; r++) {
		const struct snap_thread *a = &s->threads[idx[runs[r].first]];
		const struct snap_thread *b = &s->threads[idx[runs[r].last]];

		if (r)
			strbuf_addstr(sb, ", ");
		if (!a->name) {
			strbuf_addf(sb, "%" PRIu64, a->thread_id);
			continue;
		}
		strbuf_addch(sb, '"');
		escape_text(sb, a->name);
		strbuf_addch(sb, '"');
		if (runs[r].last != runs[r].first) {
			strbuf_addstr(sb, "-\"");
			escape_text(sb, b->name);
			strbuf_addch(sb, '"');
		}
	}
	if (known) {
		nr = thread_int_runs(tids, n, runs);
		strbuf_addstr(sb, known == 1 ? " (tid " : " (tids ");
		for (size_t r = 0, shown = 0; r < nr; r++) {
			if (tids[runs[r].first] < 0)
				continue;
			strbuf_addf(sb, "%s%" PRId64, shown++ ? ", " : "",
				    tids[runs[r].first]);
			if (runs[r].last != runs[r].first)
				strbuf_addf(sb, "-%" PRId64, tids[runs[r].last]);
		}
		strbuf_addch(sb, ')');
	}
	free(runs);
	free(tids);
	free(names);
}

/* The threads, one block each, or one per group when o->groups. */
static void threads_text(struct strbuf *sb, const struct snapshot *s,
			 const struct out_opts *o)
{
	const struct thread_groups *g = o->groups;

	for (size_t k = 0; k < (g ? g->n : s->nthreads); k++) {
		const struct thread_group *gr = g ? &g->v[k] : NULL;
		const struct snap_thread *t = &s->threads[gr ? gr->members[0]
							  : k];

		strbuf_addch(sb, '\n');
		if (gr && gr->n > 1) {
			strbuf_addf(sb, "%s%zu threads%s: ", col(o, C_BOLD),
				    gr->n, col(o, C_OFF));
			out_text_members(sb, s, gr->members, gr->n);
			if (t->interp_id != 0)
				strbuf_addf(sb, " [interpreter %" PRId64 "]",
					    t->interp_id);
			strbuf_addch(sb, '\n');
		} else {
			thread_header(sb, t, o);
		}
		thread_body(sb, t, o);
	}
}

void out_text_threads_note(struct strbuf *sb, const struct snapshot *s,
			   const struct out_opts *o)
{
	if (!s->threads_note)
		return;
	strbuf_addf(sb, "%sThreads left out%s: ", col(o, C_WARN),
		    col(o, C_OFF));
	escape_text(sb, s->threads_note);
	strbuf_addch(sb, '\n');
}

/* Below the header: the diagnosis (o->summary), the threads, the tasks
 * and the locks. */
static void dump_body(struct strbuf *sb, const struct snapshot *s,
		      const struct out_opts *o)
{
	if (o->summary)
		out_text_summary(sb, s, o);
	threads_text(sb, s, o);
	out_text_tasks(sb, s, o);
	out_text_locks(sb, s, o);
}

void out_text_dump(struct strbuf *sb, const struct snapshot *s,
		   const struct out_opts *o)
{
	if (s->core)
		core_header(sb, s);
	strbuf_addf(sb, "Process %d", (int)s->pid);
	if (s->ns_pid)
		strbuf_addf(sb, " (pid %d in its namespace)", (int)s->ns_pid);
	strbuf_addstr(sb, ": ");
	escape_text(sb, s->executable ? s->executable : "?");
	strbuf_addf(sb, "\nPython %s", s->version ? s->version : "?");
	if (s->libpython) {
		strbuf_addstr(sb, " (");
		escape_text(sb, s->libpython);
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, ", %zu thread%s%s\n", s->nthreads,
		    s->nthreads == 1 ? "" : "s",
		    s->core || s->paused ? "" : ", read without pausing");
	if (s->stopped)
		strbuf_addstr(sb, "Stopped (SIGSTOP, job control or a "
			      "debugger): read as it is, and left stopped\n");
	out_text_threads_note(sb, s, o);

	interp_hooks(sb, s, o);
	if (s->nthreads == 0)
		strbuf_addstr(sb, "\nNo Python threads: the interpreter is "
			      "starting up or shutting down.\n");
	if (o->group && !o->groups) {
		struct out_opts go = *o;
		struct thread_groups g;

		thread_groups_build(s, false, &g);
		go.groups = &g;
		dump_body(sb, s, &go);
		thread_groups_release(&g);
		return;
	}
	dump_body(sb, s, o);
}
