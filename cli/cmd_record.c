#include <config.h>

#include "cli/commands.h"
#include "cli/profile.h"
#include "cli/record.h"
#include "cli/run.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "model/native.h"
#include "model/sample.h"
#include "model/task_stack.h"
#include "session/session.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define NS CLOCK_NS_PER_S
/* New child processes are looked for this often (--subprocesses). */
#define CHILD_SCAN_NS (NS / 2)
/* The progress line on a terminal is redrawn this often. */
#define PROGRESS_NS (NS / 4)
#define MAX_TARGETS 256
/* Samples a late recording may take back to back to keep its rate. */
#define CATCH_UP 10

static const char record_usage[] =
	"usage: snakescope record [options] -o FILE PID\n"
	"       snakescope record [options] -o FILE -p PID\n"
	"       snakescope record [options] -o FILE -- PROGRAM [ARGS...]\n"
	"\n"
	"Sample the Python stacks of every thread of process PID and write\n"
	"them to FILE ('-': standard output) when the recording ends: after\n"
	"--duration, on Ctrl-C (SIGINT, SIGTERM), or when the process exits.\n"
	"With '-- PROGRAM', start the program and record it as 'snakescope\n"
	"run record' does: the exit status is then the program's.\n"
	"\n"
	"  -o, --output FILE    where to write (required)\n"
	"  -p, --pid PID        the process to record (the same as the\n"
	"                       operand PID)\n"
	"  -r, --rate HZ        samples per second (default 100), or 'max'\n"
	"                       for as many as one core gives\n"
	"  -d, --duration S     stop after S seconds (default: until stopped)\n"
	"  -f, --format FMT     folded (collapsed stacks for flamegraph.pl,\n"
	"                       inferno, speedscope; 'raw' is the same),\n"
	"                       flamegraph (an interactive SVG for a\n"
	"                       browser: click zooms, Ctrl-F searches),\n"
	"                       speedscope (the speedscope app's JSON, a\n"
	"                       profile per thread), json (one JSON object\n"
	"                       per line per thread and sample), pprof\n"
	"                       (gzipped profile.proto: go tool pprof,\n"
	"                       Pyroscope, Parca) or chrometrace (Chrome's\n"
	"                       trace-event JSON: Perfetto, chrome://tracing);\n"
	"                       by default the file name's ending says: .svg\n"
	"                       flamegraph, .speedscope.json speedscope,\n"
	"                       .pb.gz or .pprof pprof, .trace.json\n"
	"                       chrometrace, .json or .jsonl json, anything\n"
	"                       else folded\n"
	"  --full-filenames     absolute file names (by default a file under\n"
	"                       the standard library or site-packages is named\n"
	"                       from there: threading.py, requests/api.py)\n"
	"  -F, --function       one frame per function (at its first line),\n"
	"                       not one per line\n"
	"  --nolineno           no line numbers\n"
	"  --threads            start each folded stack with its thread (a\n"
	"                       flame graph: a graph per thread)\n"
	"  --idle               also sample threads that are not running\n"
	"                       (by default a thread counts when it holds the\n"
	"                       GIL or is on a CPU)\n"
	"  --gil                only sample the thread holding the GIL\n"
	"  --tasks              asyncio (3.8+): a stack running a task goes\n"
	"                       on under the tasks awaiting it, outermost\n"
	"                       first, each as '<task NAME>' and its\n"
	"                       coroutine's frames down to its await: the\n"
	"                       loop's frames, <task main>, main, <task\n"
	"                       worker>, worker, ... (only running stacks:\n"
	"                       with --idle, a waiting task is not drawn)\n"
	"  --pause              exact stacks: each thread sampled is stopped\n"
	"                       alone while its stack is read (tens of\n"
	"                       microseconds), the others run on; with\n"
	"                       --tasks the process stops; by default\n"
	"                       nothing is stopped\n"
	"  --nonblocking        the default, said explicitly: never stop a\n"
	"                       thread (refused with --pause, --native)\n"
	"  --native             whole stacks: each thread's C frames\n"
	"                       (libraries, extensions, the kernel's entry)\n"
	"                       with its Python frames in place; stops each\n"
	"                       thread sampled alone, like --pause, while\n"
	"                       its stacks are read and unwound, and also\n"
	"                       counts threads that run no Python\n"
	"  --native-all         the same, keeping the interpreter's own C\n"
	"                       frames (the evaluation loop, calls, the GIL)\n"
	"  --subprocesses       also sample its child processes that run\n"
	"                       Python, as they come and go\n"
	"  -h, --help           show this help\n"
	"\n"
	"A summary line ends the recording (samples, the rate achieved,\n"
	"errors, torn reads: stacks that changed while read, left out) and\n"
	"says how to look at the file.\n";

/* The formats by --format's names, and what the summary says to do with
 * such a file (the first row of a format says it). */
static const struct format_row {
	const char *name;
	enum record_format format;
	const char *hint; /* no ';' or parentheses: tests read the summary */
} formats[] = {
	{ "folded", RECORD_FOLDED, "draw it with flamegraph.pl, or record -o "
	  "NAME.svg for a picture" },
	{ "raw", RECORD_FOLDED, NULL }, /* py-spy's name */
	{ "flamegraph", RECORD_FLAMEGRAPH, "open it in a browser" },
	{ "speedscope", RECORD_SPEEDSCOPE,
	  "drop it on https://www.speedscope.app" },
	{ "json", RECORD_JSON, "one JSON object per line, for jq or a script" },
	{ "pprof", RECORD_PPROF, "go tool pprof -http=: opens it in a browser" },
	{ "chrometrace", RECORD_CHROMETRACE,
	  "open it in https://ui.perfetto.dev or chrome://tracing" },
};

/* File name endings and their formats: the longest that ends the name
 * wins, whatever the rows' order.  'also': other formats such a file may
 * hold, which --format may ask for without contradicting the name
 * (py-spy's habit: --format speedscope -o profile.json). */
#define FMT(f) (1u << (f))
static const struct suffix_row {
	const char *suffix;
	enum record_format format;
	unsigned also; /* FMT(format) | ... */
} suffixes[] = {
	{ ".svg", RECORD_FLAMEGRAPH, 0 },
	{ ".speedscope.json", RECORD_SPEEDSCOPE, 0 },
	{ ".json", RECORD_JSON, FMT(RECORD_SPEEDSCOPE) |
	  FMT(RECORD_CHROMETRACE) },
	{ ".pb.gz", RECORD_PPROF, 0 },
	{ ".pprof", RECORD_PPROF, 0 },
	{ ".trace.json", RECORD_CHROMETRACE, 0 },
	{ ".chrometrace.json", RECORD_CHROMETRACE, 0 },
	{ ".jsonl", RECORD_JSON, 0 },
	{ ".folded", RECORD_FOLDED, 0 },
	{ ".txt", RECORD_FOLDED, FMT(RECORD_JSON) },
};

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct suffix_row *suffix_row(const char *path)
{
	const struct suffix_row *row = NULL;
	size_t len = strlen(path), best = 0;

	for (size_t i = 0; i < NROWS(suffixes); i++) {
		size_t n = strlen(suffixes[i].suffix);

		if (n < len && n > best &&
		    !strcasecmp(path + len - n, suffixes[i].suffix)) {
			best = n;
			row = &suffixes[i];
		}
	}
	return row;
}

int record_format_of_name(const char *path)
{
	const struct suffix_row *row = suffix_row(path);

	return row ? (int)row->format : -1;
}

bool record_format_fits_name(int format, const char *path)
{
	const struct suffix_row *row = suffix_row(path);

	return !row || (int)row->format == format ||
	       (row->also & FMT(format));
}

static const struct format_row *format_row(int format)
{
	for (size_t i = 0; i < NROWS(formats); i++)
		if ((int)formats[i].format == format)
			return &formats[i];
	return NULL;
}

const char *record_format_name(int format)
{
	const struct format_row *row = format_row(format);

	return row ? row->name : "?";
}

struct target {
	pid_t pid;
	struct session *is;
	const struct record_opts *o;
	bool gone;
	/* the threads of this sample kept while not running (--idle, for
	 * the flame graph's colours) */
	uint64_t *idle;
	size_t nidle, idle_cap;
};

struct recorder {
	const struct record_opts *o;
	struct target *t[MAX_TARGETS];
	size_t nt;
	pid_t *skipped; /* children that are not Python */
	size_t nskipped, skipped_cap;
	struct profile pf;
	struct sample sample;
	/* --tasks: the sample's stacks continued by their tasks, swapped
	 * with sample; the links and their frames for one thread */
	struct sample spliced;
	struct task_stack_link *links;
	size_t links_cap;
	struct sample_frame *lframes;
	size_t lframes_cap;
	FILE *out;
	struct strbuf line;
	uint64_t start;
	struct timespec start_wall; /* for pprof */
	unsigned long samples, errors, torn;
	unsigned long left_out; /* samples whose thread list reached its
				   bound (py_threads_bound()) */
	struct err first_error; /* said when it happens, and at the end */
	bool tty;               /* a progress line is on stderr */
	/* --native, and --tasks' marks and awaiters' frames: every
	 * distinct (function, file) of the stacks, keyed for the profile as
	 * the sampler keys code objects (model/sample.h) */
	struct sample_names names;
};

/* Is this thread wanted (see --idle, --gil)?  Before its stack is read. */
static bool keep_thread(void *arg, const struct sample_thread *t)
{
	struct target *tg = arg;

	if (tg->o->gil)
		return t->holds_gil;
	if (t->holds_gil ||
	    (tg->o->idle && tg->o->format != RECORD_FLAMEGRAPH))
		return true;
	if (t->native_id > 0 &&
	    session_thread_state(tg->is, (pid_t)t->native_id) == 'R')
		return true;
	if (!tg->o->idle)
		return false;
	/* Kept, but waiting: the flame graph colours it so. */
	tg->idle = xgrow(tg->idle, &tg->idle_cap, tg->nidle + 1,
			 sizeof(*tg->idle));
	tg->idle[tg->nidle++] = t->thread_id;
	return true;
}

/* Mark the sample's threads that keep_thread found idle. */
static void mark_idle(struct target *tg, struct sample *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		s->threads[i].idle = false;
		for (size_t k = 0; k < tg->nidle; k++)
			if (tg->idle[k] == s->threads[i].thread_id)
				s->threads[i].idle = true;
	}
	tg->nidle = 0;
}

static void target_free(struct target *tg)
{
	if (!tg)
		return;
	session_close(tg->is);
	free(tg->idle);
	free(tg);
}

/* --native and --pause stop one wanted thread at a time, never the
 * process (session_nonstop_start()); --pause --tasks stops the process,
 * since a task's awaiters are other threads' data. */
static int sampling_start(struct target *tg, struct err *e)
{
	const struct record_opts *o = tg->o;

	if (o->native || (o->pause && !o->tasks))
		return session_nonstop_start(tg->is, keep_thread, tg,
					     o->native, e);
	return session_sampler_start(tg->is, keep_thread, tg, e);
}

static struct target *target_open(pid_t pid, const struct record_opts *o,
				  struct err *e)
{
	struct target *tg = xcalloc(1, sizeof(*tg));

	tg->pid = pid;
	tg->o = o;
	if (session_open(pid, &tg->is, e) || sampling_start(tg, e)) {
		target_free(tg);
		return NULL;
	}
	return tg;
}

/* ---- output --------------------------------------------------------- */

/* One line per thread of the sample (record --format json). */
static void json_sample(struct recorder *r, pid_t pid, double t)
{
	const struct sample *s = &r->sample;

	for (size_t i = 0; i < s->nthreads; i++) {
		const struct sample_thread *th = &s->threads[i];
		struct strbuf *sb = &r->line;
		struct json j;

		if (!th->nframes)
			continue; /* as in the other formats */
		strbuf_reset(sb);
		json_init(&j, sb, JSON_COMPACT);
		json_begin_object(&j);
		json_key(&j, "time");
		json_fixed(&j, t, 6);
		json_key_int(&j, "pid", pid);
		json_key(&j, "thread_id");
		if (th->native_only)
			json_null(&j);
		else
			json_uint(&j, th->thread_id);
		json_key(&j, "native_id");
		if (th->native_id > 0)
			json_int(&j, th->native_id);
		else
			json_null(&j);
		json_key_string(&j, "name", th->name);
		json_key_bool(&j, "gil", th->holds_gil);
		json_key(&j, "frames");
		json_begin_array(&j);
		for (size_t k = 0; k < th->nframes; k++) {
			const struct sample_frame *f = &s->frames[th->first + k];
			int line = prof_label_line(&r->pf.labels, f);

			json_begin_object(&j);
			json_key_string(&j, "function", f->function);
			json_key_string(&j, "file",
					prof_label_file(&r->pf.labels,
							f->filename, f->native));
			json_key(&j, "line");
			if (line >= 0)
				json_int(&j, line);
			else
				json_null(&j);
			if (f->native)
				json_key_bool(&j, "native", true);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		strbuf_addch(sb, '\n');
		fwrite(sb->buf, 1, sb->len, r->out);
	}
}

/* Leave out torn stacks (counted). */
static void drop_torn(struct recorder *r)
{
	struct sample *s = &r->sample;
	size_t k = 0;

	for (size_t i = 0; i < s->nthreads; i++) {
		if (s->threads[i].torn) {
			r->torn++;
			continue;
		}
		s->threads[k++] = s->threads[i];
	}
	s->nthreads = k;
}

/* ---- the loop --------------------------------------------------------- */

static bool known(const struct recorder *r, pid_t pid)
{
	for (size_t i = 0; i < r->nt; i++)
		if (r->t[i]->pid == pid)
			return true;
	for (size_t i = 0; i < r->nskipped; i++)
		if (r->skipped[i] == pid)
			return true;
	return false;
}

/* The process's name in the formats that label it (pprof). */
static void name_process(struct recorder *r, pid_t pid)
{
	char cmd[256];

	if (session_cmdline(pid, cmd, sizeof(cmd)))
		profile_set_process(&r->pf, pid, cmd);
}

/* Children (and theirs) that run Python join the recording. */
static void scan_children(struct recorder *r)
{
	for (size_t i = 0; i < r->nt; i++) {
		pid_t *kids;
		size_t n;

		if (r->t[i]->gone)
			continue;
		n = session_children(r->t[i]->pid, &kids);
		for (size_t k = 0; k < n && r->nt < MAX_TARGETS; k++) {
			struct target *tg;
			struct err e;

			if (known(r, kids[k]))
				continue;
			err_clear(&e);
			tg = target_open(kids[k], r->o, &e);
			if (tg) {
				r->t[r->nt++] = tg;
				name_process(r, tg->pid);
			} else if (e.code == SS_ENOTPY || e.code == SS_EUNSUPPORTED ||
				   e.code == SS_EBADBUILD || e.code == SS_EPERM) {
				/* Not Python (a shell, a compiler): skip it
				 * for good.  Others (just forked, not yet
				 * exec'd) are tried again. */
				r->skipped = xgrow(r->skipped, &r->skipped_cap,
						   r->nskipped + 1,
						   sizeof(*r->skipped));
				r->skipped[r->nskipped++] = kids[k];
			}
		}
		free(kids);
	}
}

/* ---- --native ------------------------------------------------------ */

/* --tasks: chain c as task_stack links in r->links (its frames in
 * r->lframes, keyed); returns how many. */
static size_t task_links(struct recorder *r, const struct task_chain *c)
{
	size_t nframes = 0, used = 0;
	struct strbuf mark;

	for (size_t i = 0; i < c->nlinks; i++)
		nframes += c->links[i].nframes;
	r->links = xgrow(r->links, &r->links_cap, c->nlinks,
			 sizeof(*r->links));
	r->lframes = xgrow(r->lframes, &r->lframes_cap, nframes ? nframes : 1,
			   sizeof(*r->lframes));
	strbuf_init(&mark);
	for (size_t i = 0; i < c->nlinks; i++) {
		const struct task_link *tl = &c->links[i];
		struct task_stack_link *l = &r->links[i];

		strbuf_reset(&mark);
		strbuf_addf(&mark, "<task %s>", tl->name);
		sample_named_frame(&r->names, mark.buf, "snakescope", -1, -1,
				   true, &l->mark);
		l->frames = &r->lframes[used];
		l->nframes = tl->nframes;
		for (size_t k = 0; k < tl->nframes; k++)
			sample_named_frame(&r->names,
					   tl->frames[k].function,
					   tl->frames[k].filename,
					   tl->frames[k].line,
					   tl->frames[k].first_line, false,
					   &r->lframes[used++]);
	}
	strbuf_release(&mark);
	return c->nlinks;
}

/* --tasks: each thread of r->sample that runs a task has its stack
 * continued by the tasks awaiting it (model/task_stack.h); the others
 * are kept as they are. */
static void splice_tasks(struct recorder *r, const struct task_chain *chains,
			 size_t nchains)
{
	struct sample *in = &r->sample, *out = &r->spliced, tmp;

	if (!nchains)
		return;
	out->nthreads = out->nframes = 0;
	out->threads_left_out = in->threads_left_out;
	for (size_t i = 0; i < in->nthreads; i++) {
		const struct sample_thread *t = &in->threads[i];
		const struct sample_frame *stack = &in->frames[t->first];
		struct sample_thread *st;
		size_t n = 0;

		out->threads = xgrow(out->threads, &out->threads_cap,
				     out->nthreads + 1, sizeof(*out->threads));
		st = &out->threads[out->nthreads++];
		*st = *t;
		st->first = out->nframes;
		for (size_t k = 0; k < nchains && !n; k++) {
			size_t nl;

			if (chains[k].thread_id != t->thread_id)
				continue;
			nl = task_links(r, &chains[k]);
			n = task_stack_splice(out, stack, t->nframes, r->links,
					      nl);
		}
		if (!n) {
			out->frames = xgrow(out->frames, &out->frames_cap,
					    out->nframes + t->nframes,
					    sizeof(*out->frames));
			memcpy(&out->frames[out->nframes], stack,
			       t->nframes * sizeof(*stack));
			out->nframes += t->nframes;
		}
		st->nframes = out->nframes - st->first;
	}
	tmp = *in;
	*in = *out;
	*out = tmp;
}

/* r->sample from a --native snapshot: each thread's whole stack (all
 * wanted: keep_thread chose them before they were read) as
 * the dump shows it, innermost first; a note in it ("unwinding stopped")
 * becomes a frame of its own, in brackets.  Thread names stay the
 * snapshot's: valid until it is freed. */
/* One --native sample of tg: each wanted thread stopped alone, in
 * turn, for its native and Python stacks. */
static int sample_native(struct recorder *r, struct target *tg, uint64_t t,
			 struct snapshot **snap, struct err *e)
{
	int rc = session_nonstop_sample(tg->is, t, &r->sample, snap, e);

	if (!rc)
		sample_of_snapshot(&r->sample, &r->names, *snap,
				   r->o->native_all);
	return rc;
}

/* A sample of tg failed (the process is still there): count it, and say
 * the first failure at once, so that one that will not go away (another
 * tracer holds the process, --pause) does not pass unnoticed. */
static void sample_failed(struct recorder *r, const struct target *tg,
			  const struct err *e)
{
	if (r->errors++)
		return;
	r->first_error = *e;
	if (r->tty)
		fputs("\r\033[K", stderr);
	report_warning("process %d: a sample failed: %s; later failures "
		       "are counted, not shown", (int)tg->pid,
		       e->msg[0] ? e->msg : err_describe(e->code));
}

static void sample_target(struct recorder *r, struct target *tg, uint64_t t)
{
	const struct task_chain *chains = NULL;
	struct snapshot *snap = NULL;
	size_t nchains = 0;
	struct err e;
	int rc;

	err_clear(&e);
	tg->nidle = 0;
	if (r->o->native)
		rc = sample_native(r, tg, t, &snap, &e);
	else if (r->o->tasks)
		rc = session_sample_tasks(tg->is, r->o->pause, t, &r->sample,
					  &chains, &nchains, &e);
	else if (r->o->pause)
		rc = session_nonstop_sample(tg->is, t, &r->sample, NULL, &e);
	else
		rc = session_sample(tg->is, r->o->pause, t, &r->sample, &e);
	if (!rc && !r->o->native)
		mark_idle(tg, &r->sample);
	if (rc) {
		if (rc == SS_EEXITED || session_gone(tg->is))
			tg->gone = true;
		else
			sample_failed(r, tg, &e);
		return;
	}
	drop_torn(r);
	r->left_out += r->sample.threads_left_out;
	splice_tasks(r, chains, nchains);
	if (r->o->format == RECORD_JSON) {
		json_sample(r, tg->pid, (double)(t - r->start) / NS);
	} else {
		r->pf.now_ns = t - r->start;
		profile_add(&r->pf, tg->pid, &r->sample);
	}
	snap_free(snap);
}

static void progress(const struct recorder *r, uint64_t t, bool done)
{
	double secs = (double)(t - r->start) / NS;

	fprintf(stderr, "\rsnakescope: %lu samples in %.1f s (%.0f/s), %lu "
		"errors, %lu torn%s", r->samples, secs,
		secs > 0 ? r->samples / secs : 0.0, r->errors, r->torn,
		done ? "\n" : "  ");
	fflush(stderr);
}

static void record_loop(struct recorder *r)
{
	const struct record_opts *o = r->o;
	uint64_t period = o->rate > 0 ? (uint64_t)(NS / o->rate) : 0;
	uint64_t next = r->start, last_scan = r->start, last_progress = r->start;
	bool tty = o->progress && isatty(STDERR_FILENO);

	r->tty = tty;

	while (!stop_signal) {
		uint64_t t = clock_mono_ns();
		bool any = false;

		if (o->duration > 0 && t - r->start >= (uint64_t)(o->duration * NS))
			break;
		if (o->subprocesses && t - last_scan >= CHILD_SCAN_NS) {
			scan_children(r);
			last_scan = t;
		}
		for (size_t i = 0; i < r->nt; i++) {
			if (r->t[i]->gone)
				continue;
			sample_target(r, r->t[i], t);
			any |= !r->t[i]->gone;
		}
		/* The target (and, with --subprocesses, all its children)
		 * ended. */
		if (!any || (r->t[0]->gone && !o->subprocesses))
			break;
		r->samples++;
		if (tty && t - last_progress >= PROGRESS_NS) {
			progress(r, t, false);
			last_progress = t;
		}
		if (!period)
			continue;
		next += period;
		t = clock_mono_ns();
		/* Late (the machine is busy): catch up, so that the count
		 * matches rate x duration; after a long stall, start the
		 * schedule again instead of bursting. */
		if (next + CATCH_UP * period < t)
			next = t;
		if (next <= t)
			continue;
		clock_sleep_until_ns(next);
	}
	if (tty)
		fputs("\r\033[K", stderr);
}

static int write_result(struct recorder *r, double secs)
{
	struct pprof_info pi;
	char name[64];
	/* one sample's wall time: the period, or what 'max' achieved */
	double interval = r->o->rate > 0 ? 1.0 / r->o->rate :
			  (r->samples ? secs / r->samples : 0);

	switch (r->o->format) {
	case RECORD_FOLDED:
		return profile_write_folded(&r->pf, r->o->subprocesses, r->out);
	case RECORD_SPEEDSCOPE:
		snprintf(name, sizeof(name), "snakescope record %d",
			 (int)r->t[0]->pid);
		return profile_write_speedscope(&r->pf, r->o->subprocesses, name,
						interval, r->out);
	case RECORD_FLAMEGRAPH:
		snprintf(name, sizeof(name), "snakescope record %d: %lu samples "
			 "in %.1f s", (int)r->t[0]->pid, r->samples, secs);
		return profile_write_flamegraph(&r->pf, r->o->subprocesses, name,
						r->out);
	case RECORD_PPROF:
		pi.time_nanos = (int64_t)r->start_wall.tv_sec * (int64_t)NS +
				r->start_wall.tv_nsec;
		pi.duration_nanos = (int64_t)(secs * NS);
		pi.period_nanos = (int64_t)(interval * NS + 0.5);
		pi.with_process = r->o->subprocesses;
		return profile_write_pprof(&r->pf, &pi, r->out);
	case RECORD_CHROMETRACE:
		return profile_write_chrometrace(&r->pf, r->o->subprocesses,
						 interval, r->out);
	default:
		return 0;
	}
}

int record_run(pid_t pid, const struct record_opts *o)
{
	struct recorder r;
	struct target *tg;
	const char *hint;
	struct err e;
	double secs;
	int rc, status = 0;

	memset(&r, 0, sizeof(r));
	r.o = o;
	err_clear(&e);
	tg = target_open(pid, o, &e);
	if (!tg) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(e.code));
		return err_exit_code(e.code);
	}
	if (!strcmp(o->output, "-")) {
		r.out = stdout;
	} else if (!(r.out = fopen(o->output, "w"))) {
		report_error("cannot write '%s': %s", o->output, strerror(errno));
		target_free(tg);
		return 1;
	}
	r.t[r.nt++] = tg;
	if (session_stopped(tg->is) && !o->idle)
		report_warning("process %d is stopped (SIGSTOP, job control or "
			       "a debugger): its threads do not run, so no "
			       "stack is counted until it continues (--idle "
			       "counts them)", (int)pid);
	strbuf_init(&r.line);
	/* pprof labels each stack with its thread; speedscope and Chrome
	 * traces draw each thread's time line */
	profile_init(&r.pf, o->threads || o->format == RECORD_PPROF,
		     o->format == RECORD_SPEEDSCOPE ||
		     o->format == RECORD_CHROMETRACE);
	r.pf.labels.full_filenames = o->full_filenames;
	r.pf.labels.function = o->function;
	r.pf.labels.nolineno = o->nolineno;
	name_process(&r, pid);
	catch_stop_signals();
	/* A closed pipe shows as a write error at the end. */
	signal(SIGPIPE, SIG_IGN);
	r.start = clock_mono_ns();
	clock_gettime(CLOCK_REALTIME, &r.start_wall);
	record_loop(&r);
	secs = (double)(clock_mono_ns() - r.start) / NS;
	rc = write_result(&r, secs);
	if (fflush(r.out) || rc || ferror(r.out)) {
		report_error("cannot write '%s': %s", o->output, strerror(errno));
		status = 1;
	}
	if (r.out != stdout)
		fclose(r.out);
	/* The summary stays the last line. */
	if (r.errors > 1)
		report_error("the first of the %lu failed samples: %s", r.errors,
			     r.first_error.msg[0] ? r.first_error.msg :
			     err_describe(r.first_error.code));
	if (r.left_out)
		report_warning("%lu samples left threads out: a thread list "
			       "went on far past the threads the process has "
			       "(corrupt, or started faster than read)",
			       r.left_out);
	/* ... and says what to do with the file. */
	hint = status || !strcmp(o->output, "-") ? NULL :
	       format_row(o->format)->hint;
	fprintf(stderr, "snakescope: %lu samples in %.2f s (%.1f/s%s), %lu "
		"errors, %lu torn reads%s; %s%s%s%s\n", r.samples, secs,
		secs > 0 ? r.samples / secs : 0.0,
		o->rate > 0 ? "" : ", as fast as possible", r.errors, r.torn,
		r.t[0]->gone ? "; the process exited" :
		stop_signal ? "; stopped by a signal" : "",
		status ? "nothing written" : o->output,
		hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	for (size_t i = 0; i < r.nt; i++)
		target_free(r.t[i]);
	free(r.skipped);
	profile_release(&r.pf);
	sample_release(&r.sample);
	sample_release(&r.spliced);
	free(r.links);
	free(r.lframes);
	sample_names_release(&r.names);
	strbuf_release(&r.line);
	return status;
}

/* ---- options ---------------------------------------------------------- */

int record_parse(int argc, char **argv, struct record_opts *o, pid_t *pid,
		 bool need_pid)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "threads", no_argument, NULL, 'T' },
		{ "idle", no_argument, NULL, 'I' },
		{ "gil", no_argument, NULL, 'G' },
		{ "pause", no_argument, NULL, 'P' },
		{ "nonblocking", no_argument, NULL, 'B' },
		{ "pid", required_argument, NULL, 'p' },
		{ "subprocesses", no_argument, NULL, 'S' },
		{ "native", no_argument, NULL, 'N' },
		{ "native-all", no_argument, NULL, 'A' },
		{ "full-filenames", no_argument, NULL, 'L' },
		{ "function", no_argument, NULL, 'F' },
		{ "nolineno", no_argument, NULL, 'n' },
		{ "tasks", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_opt = NULL, *format_opt = NULL;
	bool nonblocking = false;
	int c, format = -1, named;
	char *end;

	memset(o, 0, sizeof(*o));
	o->rate = 100;
	o->progress = true;
	getopt_reset();
	while ((c = getopt_long(argc, argv, "ho:r:d:f:p:F", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'r':
			if (!strcmp(optarg, "max")) {
				o->rate = 0;
				break;
			}
			o->rate = strtod(optarg, &end);
			if (*end || !(o->rate > 0) || o->rate > 1e6) {
				report_error("record: --rate takes a number of "
					     "samples per second or 'max', not "
					     "'%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (!parse_seconds(optarg, &o->duration)) {
				report_error("record: --duration takes seconds, "
					     "not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			format = -1;
			for (size_t i = 0; i < NROWS(formats); i++)
				if (!strcmp(optarg, formats[i].name))
					format = formats[i].format;
			if (format < 0) {
				struct strbuf names;

				strbuf_init(&names);
				for (size_t i = 0; i < NROWS(formats); i++)
					strbuf_addf(&names, "%s%s", i ? ", " : "",
						    formats[i].name);
				report_error("record: --format takes %s, not '%s'",
					     names.buf, optarg);
				strbuf_release(&names);
				return EXIT_USAGE;
			}
			format_opt = optarg;
			break;
		case 'T':
			o->threads = true;
			break;
		case 'I':
			o->idle = true;
			break;
		case 'G':
			o->gil = true;
			break;
		case 'P':
			o->pause = true;
			break;
		case 'B':
			nonblocking = true;
			break;
		case 'p':
			pid_opt = optarg;
			break;
		case 'S':
			o->subprocesses = true;
			break;
		case 'A':
			o->native_all = true;
			/* fall through */
		case 'N':
			/* Unwinding needs the threads stopped. */
			o->native = o->pause = true;
			break;
		case 'L':
			o->full_filenames = true;
			break;
		case 'F':
			o->function = true;
			break;
		case 'n':
			o->nolineno = true;
			break;
		case 'K':
			o->tasks = true;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return -1;
		default:
			report_error("record: unknown option '%s'; see "
				     "'snakescope record --help'",
				     argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (!o->output) {
		report_error("record: say where to write with -o FILE ('-' for "
			     "standard output)");
		return EXIT_USAGE;
	}
	/* The file's name says the format; --format may say it again, not
	 * otherwise. */
	named = strcmp(o->output, "-") ? record_format_of_name(o->output) : -1;
	if (format_opt && named >= 0 &&
	    !record_format_fits_name(format, o->output)) {
		report_error("record: --format %s contradicts the file name '%s', "
			     "which asks for %s: drop --format or rename the "
			     "file", format_opt, o->output,
			     record_format_name(named));
		return EXIT_USAGE;
	}
	o->format = format_opt ? format : named >= 0 ? named : RECORD_FOLDED;
	if (o->tasks && o->native) {
		report_error("record: --tasks does not combine with --%s",
			     o->native_all ? "native-all" : "native");
		return EXIT_USAGE;
	}
	if (nonblocking && o->pause) {
		report_error("record: --nonblocking (the default: the process "
			     "runs on) contradicts --%s, which stops each "
			     "thread it samples", o->native ? "native" : "pause");
		return EXIT_USAGE;
	}
	return take_pid_or_program("record", pid_opt, need_pid, argc, argv,
				   optind, pid);
}

static int record_cb(pid_t pid, const void *arg)
{
	return record_run(pid, arg);
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	int sep = program_sep(argc, argv);
	pid_t pid;
	int rc = record_parse(sep, argv, &o, &pid, sep == argc);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (sep < argc)
		return run_program("record", argv + sep + 1, argc - sep - 1,
				   record_cb, &o, 0);
	return record_run(pid, &o);
}
