#include <config.h>

#include "cli/escape.h"
#include "cli/out.h"

#include <inttypes.h>

static void thread_header(struct strbuf *sb, const struct snap_thread *t,
			  const struct out_opts *o)
{
	strbuf_addf(sb, "%sThread %" PRIu64, col(o, C_BOLD), t->thread_id);
	if (t->name) {
		strbuf_addstr(sb, " \"");
		escape_text(sb, t->name);
		strbuf_addch(sb, '"');
	}
	strbuf_addstr(sb, col(o, C_OFF));
	if (t->native_id >= 0)
		strbuf_addf(sb, " (tid %" PRId64 ")", t->native_id);
	if (t->interp_id != 0)
		strbuf_addf(sb, " [interpreter %" PRId64 "]", t->interp_id);
	if (t->holds_gil)
		strbuf_addf(sb, " %sholds the GIL%s", col(o, C_GIL),
			    col(o, C_OFF));
	strbuf_addch(sb, '\n');
}

void out_text_dump(struct strbuf *sb, const struct snapshot *s,
		   const struct out_opts *o)
{
	strbuf_addf(sb, "Process %d: ", (int)s->pid);
	escape_text(sb, s->executable ? s->executable : "?");
	strbuf_addf(sb, "\nPython %s", s->version ? s->version : "?");
	if (s->libpython) {
		strbuf_addstr(sb, " (");
		escape_text(sb, s->libpython);
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, ", %zu thread%s%s\n", s->nthreads,
		    s->nthreads == 1 ? "" : "s",
		    s->paused ? "" : ", read without pausing");

	if (s->nthreads == 0)
		strbuf_addstr(sb, "\nNo Python threads: the interpreter is "
			      "starting up or shutting down.\n");
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];

		strbuf_addch(sb, '\n');
		thread_header(sb, t, o);
		if (t->nframes == 0 && !t->error)
			strbuf_addf(sb, "  %s(no Python frames)%s\n",
				    col(o, C_DIM), col(o, C_OFF));
		else if (t->nframes)
			strbuf_addf(sb, "  %sStack (most recent call first):%s\n",
				    col(o, C_DIM), col(o, C_OFF));
		for (size_t j = 0; j < t->nframes; j++) {
			const struct snap_frame *f = &t->frames[j];

			strbuf_addstr(sb, "    File \"");
			escape_text(sb, f->filename);
			if (f->line >= 0)
				strbuf_addf(sb, "\", line %d, in ", f->line);
			else
				strbuf_addstr(sb, "\", line ?, in ");
			strbuf_addstr(sb, col(o, C_FUNC));
			escape_text(sb, f->function);
			strbuf_addf(sb, "%s\n", col(o, C_OFF));
		}
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
	out_text_tasks(sb, s, o);
}
