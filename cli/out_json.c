#include <config.h>

#include "common/escape.h"
#include "cli/out.h"
#include "model/native.h"

#include <inttypes.h>

static void json_addr_or_null(struct strbuf *sb, uint64_t v);

static void json_int_or_null(struct strbuf *sb, const char *key, int v)
{
	if (v >= 0)
		strbuf_addf(sb, ", \"%s\": %d", key, v);
	else
		strbuf_addf(sb, ", \"%s\": null", key);
}

static void json_locals(struct strbuf *sb, const struct snap_frame *f)
{
	strbuf_addstr(sb, ", \"locals\": [");
	for (size_t i = 0; i < f->nlocals; i++) {
		const struct snap_local *l = &f->locals[i];

		strbuf_addstr(sb, i ? ",\n         {\"name\": " :
			      "\n         {\"name\": ");
		escape_json(sb, l->name);
		strbuf_addf(sb, ", \"kind\": \"%s\", \"type\": ",
			    snap_local_kind_name(l->kind));
		escape_json(sb, l->type);
		strbuf_addstr(sb, ", \"repr\": ");
		escape_json(sb, l->repr);
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, ']');
}

static void json_frame(struct strbuf *sb, const struct snap_frame *f,
		       bool locals)
{
	strbuf_addstr(sb, "{\"kind\": \"python\", \"function\": ");
	escape_json(sb, f->function);
	strbuf_addstr(sb, ", \"filename\": ");
	escape_json(sb, f->filename);
	json_int_or_null(sb, "line", f->line);
	json_int_or_null(sb, "end_line", f->end_line);
	json_int_or_null(sb, "column", f->column);
	json_int_or_null(sb, "end_column", f->end_column);
	if (f->torn)
		strbuf_addstr(sb, ", \"torn\": true");
	if (locals)
		json_locals(sb, f);
	strbuf_addch(sb, '}');
}

/* An entry of a --native stack that is not a Python frame. */
static void json_native(struct strbuf *sb, const struct snap_native *n)
{
	if (n->kind == SNAP_STACK_MARK) {
		strbuf_addstr(sb, "{\"kind\": \"mark\", \"note\": ");
		escape_json(sb, n->note);
		strbuf_addch(sb, '}');
		return;
	}
	strbuf_addstr(sb, "{\"kind\": \"native\", \"function\": ");
	escape_json(sb, n->function);
	strbuf_addf(sb, ", \"offset\": %" PRIu64 ", \"library\": ", n->offset);
	escape_json(sb, n->library);
	strbuf_addf(sb, ", \"library_offset\": %" PRIu64 ", \"address\": %"
		    PRIu64 ", \"symbol_source\": \"%s\", \"internal\": %s, "
		    "\"eval\": %s}", n->lib_offset, n->pc,
		    snap_symbol_source_name(n->source),
		    n->internal ? "true" : "false", n->eval ? "true" : "false");
}

static void json_hook(struct strbuf *sb, const char *key, const char *v)
{
	strbuf_addf(sb, ", \"%s\": ", key);
	escape_json(sb, v);
}

static void json_state(struct strbuf *sb, const struct snap_thread *t)
{
	const char *os = snap_os_state_name(t->os.state);

	strbuf_addstr(sb, ",\n     \"state\": {\"os_state\": ");
	escape_json(sb, os);
	strbuf_addf(sb, ", \"on_cpu\": %s, \"syscall\": ",
		    !os ? "null" : t->os.state == 'R' ? "true" : "false");
	escape_json(sb, t->os.syscall[0] ? t->os.syscall : NULL);
	strbuf_addf(sb, ", \"gil\": \"%s\", \"active\": %s, \"gc\": %s",
		    snap_gil_name(t->gil),
		    snap_thread_active(t) ? "true" : "false",
		    t->gc ? "true" : "false");
	json_hook(sb, "trace", t->trace);
	json_hook(sb, "profile", t->profile);
	if (t->hooks_unknown) {
		strbuf_addstr(sb, ", \"monitoring\": null, \"eval_hook\": null}");
		return;
	}
	strbuf_addstr(sb, ", \"monitoring\": [");
	for (size_t i = 0; i < t->nmonitoring; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		escape_json(sb, t->monitoring[i]);
	}
	strbuf_addf(sb, "], \"eval_hook\": %s}",
		    t->eval_hook ? "true" : "false");
}

static void json_thread(struct strbuf *sb, const struct snap_thread *t,
			bool locals, bool native_all)
{
	size_t k = 0;

	strbuf_addstr(sb, "{\"thread_id\": ");
	if (t->native_only)
		strbuf_addstr(sb, "null");
	else
		strbuf_addf(sb, "%" PRIu64, t->thread_id);
	strbuf_addstr(sb, ", \"native_id\": ");
	if (t->native_id >= 0)
		strbuf_addf(sb, "%" PRId64, t->native_id);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"ns_native_id\": ");
	if (t->ns_native_id >= 0)
		strbuf_addf(sb, "%" PRId64, t->ns_native_id);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"name\": ");
	escape_json(sb, t->name);
	strbuf_addf(sb, ", \"holds_gil\": %s, \"interpreter_id\": %" PRId64,
		    t->holds_gil ? "true" : "false", t->interp_id);
	strbuf_addf(sb, ", \"truncated\": %s, \"torn\": %s, \"error\": ",
		    t->truncated ? "true" : "false", t->torn ? "true" : "false");
	escape_json(sb, t->error);
	json_hook(sb, "importing", snap_thread_importing(t));
	strbuf_addstr(sb, ", \"waits_for\": ");
	json_addr_or_null(sb, t->waits_for);
	json_state(sb, t);
	if (t->has_native)
		strbuf_addf(sb, ", \"native_only\": %s",
			    t->native_only ? "true" : "false");
	strbuf_addstr(sb, ",\n     \"frames\": [");
	for (size_t i = 0; !t->has_native && i < t->nframes; i++) {
		strbuf_addstr(sb, i ? ",\n       " : "\n       ");
		json_frame(sb, &t->frames[i], locals);
	}
	for (size_t i = 0; t->has_native && i < t->nnative; i++) {
		const struct snap_native *n = &t->native[i];

		if (!py_native_shown(t, i, native_all))
			continue;
		strbuf_addstr(sb, k++ ? ",\n       " : "\n       ");
		if (n->kind == SNAP_STACK_PYTHON)
			json_frame(sb, &t->frames[n->py], locals);
		else
			json_native(sb, n);
	}
	strbuf_addstr(sb, "]}");
}

static void json_ids(struct strbuf *sb, const uint64_t *ids, size_t n)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%" PRIu64, i ? ", " : "", ids[i]);
	strbuf_addch(sb, ']');
}

static void json_addr_or_null(struct strbuf *sb, uint64_t v)
{
	if (v)
		strbuf_addf(sb, "%" PRIu64, v);
	else
		strbuf_addstr(sb, "null");
}

static void json_task(struct strbuf *sb, const struct snap_task *t)
{
	const struct snap_await *w = &t->awaiting;

	strbuf_addf(sb, "{\"id\": %" PRIu64 ", \"name\": ", t->id);
	escape_json(sb, t->name);
	strbuf_addf(sb, ", \"state\": \"%s\", \"running\": %s, \"thread_id\": ",
		    snap_task_state_name(t->state),
		    t->state == SNAP_TASK_RUNNING ? "true" : "false");
	if (t->has_thread)
		strbuf_addf(sb, "%" PRIu64, t->thread_id);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"loop\": ");
	json_addr_or_null(sb, t->loop);
	strbuf_addf(sb, ", \"interpreter_id\": %" PRId64, t->interp_id);
	strbuf_addstr(sb, ",\n     \"awaiting\": ");
	if (w->kind == SNAP_AWAIT_NONE) {
		strbuf_addstr(sb, "null");
	} else {
		strbuf_addf(sb, "{\"kind\": \"%s\", \"object\": ",
			    snap_await_kind_name(w->kind));
		json_addr_or_null(sb, w->object);
		strbuf_addstr(sb, ", \"future\": ");
		json_addr_or_null(sb, w->future);
		strbuf_addstr(sb, ", \"tasks\": ");
		json_ids(sb, w->tasks, w->ntasks);
		if (w->has_delay)
			strbuf_addf(sb, ", \"delay\": %.6f}", w->delay);
		else
			strbuf_addstr(sb, ", \"delay\": null}");
	}
	strbuf_addstr(sb, ", \"awaited_by\": ");
	json_ids(sb, t->awaited_by, t->nawaited_by);
	strbuf_addstr(sb, ", \"waits_for\": ");
	json_addr_or_null(sb, t->waits_for);
	strbuf_addstr(sb, ", \"error\": ");
	escape_json(sb, t->error);
	strbuf_addstr(sb, ",\n     \"coroutine_stack\": [");
	for (size_t i = 0; i < t->nframes; i++) {
		strbuf_addstr(sb, i ? ",\n       " : "\n       ");
		json_frame(sb, &t->frames[i], false);
	}
	strbuf_addstr(sb, "]}");
}

static void json_party(struct strbuf *sb, const struct snap_party *who)
{
	strbuf_addf(sb, "\"%s\": %" PRIu64, who->is_task ? "task" : "thread",
		    who->id);
}

static void json_place(struct strbuf *sb, const struct snap_place *pl)
{
	strbuf_addstr(sb, "{\"function\": ");
	escape_json(sb, pl->function);
	strbuf_addstr(sb, ", \"filename\": ");
	escape_json(sb, pl->filename);
	json_int_or_null(sb, "line", pl->line);
	strbuf_addch(sb, '}');
}

static void json_lock(struct strbuf *sb, const struct snap_lock *l)
{
	const char *evidence = snap_evidence_name(l->evidence);

	strbuf_addf(sb, "{\"address\": %" PRIu64 ", \"type\": \"%s\", "
		    "\"name\": ", l->address, snap_lock_type_name(l->type));
	escape_json(sb, l->name);
	strbuf_addstr(sb, ", \"holder\": ");
	if (l->has_holder) {
		strbuf_addch(sb, '{');
		json_party(sb, &l->holder);
		strbuf_addch(sb, '}');
	} else {
		strbuf_addstr(sb, "null");
	}
	strbuf_addstr(sb, ", \"held_since\": ");
	if (l->has_held_since)
		json_place(sb, &l->held_since);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"evidence\": ");
	escape_json(sb, evidence);
	strbuf_addstr(sb, ",\n     \"waiters\": [");
	for (size_t i = 0; i < l->nwaiters; i++) {
		const struct snap_lock_waiter *w = &l->waiters[i];

		strbuf_addstr(sb, i ? ", {" : "{");
		json_party(sb, &w->who);
		strbuf_addstr(sb, ", \"at\": ");
		json_place(sb, &w->at);
		strbuf_addf(sb, ", \"timeout\": %s, \"exact\": %s}",
			    w->timeout ? "true" : "false",
			    w->exact ? "true" : "false");
	}
	strbuf_addstr(sb, "]}");
}

static void json_links(struct strbuf *sb, const struct snap_chain *c)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < c->n; i++) {
		strbuf_addstr(sb, i ? ", {" : "{");
		json_party(sb, &c->links[i].who);
		strbuf_addstr(sb, ", \"waits_for\": ");
		json_addr_or_null(sb, c->links[i].lock);
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, ']');
}

void out_json_dump(struct strbuf *sb, const struct snapshot *s, bool locals,
		   bool native_all)
{
	strbuf_addf(sb, "{\"pid\": %d, \"ns_pid\": ", (int)s->pid);
	if (s->ns_pid)
		strbuf_addf(sb, "%d", (int)s->ns_pid);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ",\n \"python\": {\"version\": ");
	escape_json(sb, s->version);
	strbuf_addstr(sb, ", \"executable\": ");
	escape_json(sb, s->executable);
	strbuf_addstr(sb, ", \"libpython\": ");
	escape_json(sb, s->libpython);
	strbuf_addstr(sb, ", \"warning\": ");
	escape_json(sb, s->warning);
	strbuf_addf(sb, "},\n \"paused\": %s,\n \"stopped\": %s,\n "
		    "\"threads\": [", s->paused ? "true" : "false",
		    s->stopped ? "true" : "false");
	for (size_t i = 0; i < s->nthreads; i++) {
		strbuf_addstr(sb, i ? ",\n    " : "\n    ");
		json_thread(sb, &s->threads[i], locals, native_all);
	}
	strbuf_addstr(sb, "],\n \"tasks\": [");
	for (size_t i = 0; i < s->ntasks; i++) {
		strbuf_addstr(sb, i ? ",\n    " : "\n    ");
		json_task(sb, &s->tasks[i]);
	}
	strbuf_addstr(sb, "],\n \"tasks_note\": ");
	escape_json(sb, s->tasks_note);
	strbuf_addstr(sb, ",\n \"locks\": ");
	if (s->locks_read) {
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < s->nlocks; i++) {
			strbuf_addstr(sb, i ? ",\n    " : "\n    ");
			json_lock(sb, &s->locks[i]);
		}
		strbuf_addch(sb, ']');
	} else {
		strbuf_addstr(sb, "null");
	}
	strbuf_addstr(sb, ",\n \"deadlocks\": [");
	for (size_t i = 0; i < s->ncycles; i++) {
		strbuf_addstr(sb, i ? ",\n    " : "\n    ");
		strbuf_addstr(sb, "{\"kind\": \"await_cycle\", \"cycle\": ");
		json_ids(sb, s->cycles[i].tasks, s->cycles[i].n);
		strbuf_addch(sb, '}');
	}
	for (size_t i = 0; i < s->nlock_cycles; i++) {
		strbuf_addstr(sb, i || s->ncycles ? ",\n    " : "\n    ");
		strbuf_addstr(sb, "{\"kind\": \"lock_cycle\", \"cycle\": ");
		json_links(sb, &s->lock_cycles[i]);
		strbuf_addch(sb, '}');
	}
	strbuf_addstr(sb, "],\n \"hangs\": [");
	for (size_t i = 0; i < s->nhangs; i++) {
		strbuf_addstr(sb, i ? ",\n    " : "\n    ");
		strbuf_addstr(sb, "{\"chain\": ");
		json_links(sb, &s->hangs[i]);
		strbuf_addch(sb, '}');
	}
	strbuf_addf(sb, "],\n \"verdict\": \"%s\"}\n",
		    snap_verdict_name(snap_verdict(s)));
}
