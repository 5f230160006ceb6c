#include <config.h>

#include "cli/escape.h"
#include "cli/out.h"

#include <inttypes.h>

static void json_frame(struct strbuf *sb, const struct snap_frame *f)
{
	strbuf_addstr(sb, "{\"function\": ");
	escape_json(sb, f->function);
	strbuf_addstr(sb, ", \"filename\": ");
	escape_json(sb, f->filename);
	if (f->line >= 0)
		strbuf_addf(sb, ", \"line\": %d}", f->line);
	else
		strbuf_addstr(sb, ", \"line\": null}");
}

static void json_thread(struct strbuf *sb, const struct snap_thread *t)
{
	strbuf_addf(sb, "{\"thread_id\": %" PRIu64 ", \"native_id\": ",
		    t->thread_id);
	if (t->native_id >= 0)
		strbuf_addf(sb, "%" PRId64, t->native_id);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"name\": ");
	escape_json(sb, t->name);
	strbuf_addf(sb, ", \"holds_gil\": %s, \"interpreter_id\": %" PRId64,
		    t->holds_gil ? "true" : "false", t->interp_id);
	strbuf_addf(sb, ", \"truncated\": %s, \"error\": ",
		    t->truncated ? "true" : "false");
	escape_json(sb, t->error);
	strbuf_addstr(sb, ",\n     \"frames\": [");
	for (size_t i = 0; i < t->nframes; i++) {
		strbuf_addstr(sb, i ? ",\n       " : "\n       ");
		json_frame(sb, &t->frames[i]);
	}
	strbuf_addstr(sb, "]}");
}

void out_json_dump(struct strbuf *sb, const struct snapshot *s)
{
	strbuf_addf(sb, "{\"pid\": %d,\n \"python\": {\"version\": ", (int)s->pid);
	escape_json(sb, s->version);
	strbuf_addstr(sb, ", \"executable\": ");
	escape_json(sb, s->executable);
	strbuf_addstr(sb, ", \"libpython\": ");
	escape_json(sb, s->libpython);
	strbuf_addstr(sb, ", \"warning\": ");
	escape_json(sb, s->warning);
	strbuf_addf(sb, "},\n \"paused\": %s,\n \"threads\": [",
		    s->paused ? "true" : "false");
	for (size_t i = 0; i < s->nthreads; i++) {
		strbuf_addstr(sb, i ? ",\n    " : "\n    ");
		json_thread(sb, &s->threads[i]);
	}
	strbuf_addstr(sb, "]}\n");
}
