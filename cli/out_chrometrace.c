/*
 * out_chrometrace.c - record's Chrome trace writer: each thread's samples
 * of the profile (cli/profile.h), in time order, as the trace-event JSON
 * that Perfetto (ui.perfetto.dev) and chrome://tracing open:
 * https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 */
#include <config.h>

#include "cli/profile.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* What a stack without frames shows, as in folded stacks. */
#define NO_FRAMES "<no Python frames>"

struct trace {
	const struct profile *pf;
	struct strbuf sb;
	struct json j;
	FILE *f;
	int rc;
};

/* Out to the file once the buffer is this full. */
#define FLUSH_AT 65536

static void flush(struct trace *tr, bool always)
{
	if (!always && tr->sb.len < FLUSH_AT)
		return;
	if (tr->sb.len && fwrite(tr->sb.buf, 1, tr->sb.len, tr->f) != tr->sb.len)
		tr->rc = -1;
	strbuf_reset(&tr->sb);
}

/* The trace's thread id: the TID; a thread without one (never on Linux
 * but with a torn read of it) gets its index, past any TID. */
static int64_t trace_tid(const struct profile *pf, const struct prof_thread *t)
{
	if (t->native_id > 0)
		return t->native_id;
	return (int64_t)(4194304 + (t - pf->threads)); /* past pid_max */
}

static void metadata(struct trace *tr, const char *what, pid_t pid,
		     int64_t tid, const char *name)
{
	struct json *j = &tr->j;

	json_break(j, 0);
	json_begin_object(j);
	json_key_string(j, "name", what);
	json_key_string(j, "ph", "M");
	json_key_int(j, "pid", pid);
	if (tid >= 0)
		json_key_int(j, "tid", tid);
	json_key(j, "args");
	json_begin_object(j);
	json_key_string(j, "name", name);
	json_end_object(j);
	json_end_object(j);
}

/* A begin ("B") or end ("E") event of frame fr (NULL: no frames) at us
 * microseconds. */
static void event(struct trace *tr, const struct prof_thread *t,
		  const struct prof_frame *fr, bool begin, double us)
{
	struct json *j = &tr->j;

	json_break(j, 0);
	json_begin_object(j);
	json_key_string(j, "ph", begin ? "B" : "E");
	json_key_int(j, "pid", t->pid);
	json_key_int(j, "tid", trace_tid(tr->pf, t));
	/* whole microseconds: finer than any sampling period, and an
	 * integer is written without printf's floating point */
	json_key_uint(j, "ts", (uint64_t)(us + 0.5));
	if (begin) {
		json_key_string(j, "name", fr ? fr->function : NO_FRAMES);
		json_key_string(j, "cat", !fr || fr->native ? "native" :
				"python");
		json_key(j, "args");
		json_begin_object(j);
		json_key_string(j, "file", fr ? fr->filename : "snakescope");
		if (fr && fr->line >= 0)
			json_key_int(j, "line", fr->line);
		json_end_object(j);
	}
	json_end_object(j);
	flush(tr, false);
}

/* A stack's frames root first; a stack without frames is one frame of
 * its own (frame index UINT32_MAX). */
static size_t stack_frames(const struct prof_stack *s, const uint32_t **fr)
{
	static const uint32_t none = UINT32_MAX;

	if (!s->nframes) {
		*fr = &none;
		return 1;
	}
	*fr = s->frames;
	return s->nframes;
}

static const struct prof_frame *frame_of(const struct profile *pf, uint32_t i)
{
	return i == UINT32_MAX ? NULL : &pf->frames[i];
}

/* Close open[from..n) innermost first. */
static void close_frames(struct trace *tr, const struct prof_thread *t,
			 const uint32_t *open, size_t from, size_t n, double us)
{
	while (n-- > from)
		event(tr, t, frame_of(tr->pf, open[n]), false, us);
}

static void thread_events(struct trace *tr, const struct prof_thread *t,
			  double interval)
{
	const struct profile *pf = tr->pf;
	const uint32_t *open = NULL; /* the frames open: a stack's */
	size_t nopen = 0;
	double end = 0; /* when the open frames' last sample ended */

	for (size_t r = 0; r < t->nruns; r++) {
		const struct prof_stack *s = pf->stacks[t->run_stack[r]];
		double start = (double)t->run_start[r] / 1e3;
		const uint32_t *fr;
		size_t n = stack_frames(s, &fr), common = 0;

		if (start < end)
			start = end; /* runs never overlap */
		/* A pause: the thread was not sampled for over an interval
		 * (it did not run); what it was doing ended with its last
		 * sample. */
		if (nopen && start - end > interval * 1e6 / 2) {
			close_frames(tr, t, open, 0, nopen, end);
			nopen = 0;
		}
		while (common < nopen && common < n && open[common] == fr[common])
			common++;
		close_frames(tr, t, open, common, nopen, start);
		for (size_t k = common; k < n; k++)
			event(tr, t, frame_of(pf, fr[k]), true, start);
		open = fr;
		nopen = n;
		end = start + t->run_count[r] * interval * 1e6;
	}
	close_frames(tr, t, open, 0, nopen, end);
}

int profile_write_chrometrace(const struct profile *pf, bool with_pid,
			      double interval, FILE *f)
{
	struct trace tr = { .pf = pf, .f = f };
	struct json *j = &tr.j;
	char label[512];

	strbuf_init(&tr.sb);
	json_init(j, &tr.sb, JSON_PRETTY);
	json_begin_object(j);
	json_key(j, "traceEvents");
	json_begin_array(j);
	for (size_t i = 0; i < pf->nthreads; i++) {
		const struct prof_thread *t = &pf->threads[i];
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = pf->threads[k].pid != t->pid;
		if (first) {
			const char *pname = profile_process(pf, t->pid);

			snprintf(label, sizeof(label), "process %d%s%s",
				 (int)t->pid, pname ? " " : "",
				 pname ? pname : "");
			metadata(&tr, "process_name", t->pid, -1, label);
		}
		profile_thread_label(t, with_pid, label, sizeof(label));
		metadata(&tr, "thread_name", t->pid, trace_tid(pf, t), label);
	}
	for (size_t i = 0; i < pf->nthreads; i++)
		thread_events(&tr, &pf->threads[i], interval);
	json_end_array(j);
	json_key_string(j, "displayTimeUnit", "ms");
	json_key(j, "otherData");
	json_begin_object(j);
	json_key_string(j, "exporter", "snakescope " PACKAGE_VERSION);
	json_end_object(j);
	json_end_object(j);
	json_finish(j);
	strbuf_addch(&tr.sb, '\n');
	flush(&tr, true);
	strbuf_release(&tr.sb);
	return tr.rc;
}
