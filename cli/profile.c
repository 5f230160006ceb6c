#include <config.h>

#include "cli/profile.h"
#include "common/escape.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

void profile_init(struct profile *pf, bool by_thread, bool keep_order)
{
	memset(pf, 0, sizeof(*pf));
	pf->by_thread = by_thread;
	pf->keep_order = keep_order;
	pf->nbuckets = 4096;
	pf->bucket = xcalloc(pf->nbuckets, sizeof(*pf->bucket));
	pf->fkeys_cap = 1024;
	pf->fkeys = xcalloc(pf->fkeys_cap, sizeof(*pf->fkeys));
}

void profile_release(struct profile *pf)
{
	for (size_t i = 0; i < pf->nframes; i++) {
		free(pf->frames[i].function);
		free(pf->frames[i].filename);
	}
	for (size_t i = 0; i < pf->nthreads; i++) {
		free(pf->threads[i].name);
		free(pf->threads[i].run_stack);
		free(pf->threads[i].run_count);
		free(pf->threads[i].run_start);
	}
	for (size_t i = 0; i < pf->nprocs; i++)
		free(pf->procs[i].name);
	free(pf->procs);
	for (size_t i = 0; i < pf->nstacks; i++) {
		free(pf->stacks[i]->frames);
		free(pf->stacks[i]);
	}
	free(pf->frames);
	free(pf->threads);
	free(pf->stacks);
	free(pf->bucket);
	free(pf->fkeys);
	free(pf->scratch);
	memset(pf, 0, sizeof(*pf));
}

/* One word into a running hash (multiply-xorshift; not for security:
 * chains are compared in full). */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * FNV_PRIME;
	return h ^ (h >> 29);
}

/* ---- labels ------------------------------------------------------------ */

/* Does s start a "pythonX.Y/" directory name (2.7, 3.13t too)?  Returns
 * its length, 0 if not. */
static size_t python_dir(const char *s)
{
	const char *p = s;

	if (strncmp(p, "python", 6))
		return 0;
	p += 6;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '.' || *p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == 't' || *p == 'd' || *p == 'm')
		p++; /* free-threaded, debug and 2.7-3.7's ABI flags */
	return *p == '/' ? (size_t)(p + 1 - s) : 0;
}

const char *prof_label_file(const struct prof_labels *l, const char *filename,
			    bool native)
{
	const char *after = NULL;

	if (l->full_filenames || native)
		return filename;
	/* The last such directory wins: .../lib/python3.12/site-packages/
	 * requests/api.py is requests/api.py. */
	for (const char *p = filename; *p; p++) {
		size_t n;

		if (p != filename && p[-1] != '/')
			continue;
		if (!strncmp(p, "site-packages/", 14))
			after = p + 14;
		else if (!strncmp(p, "dist-packages/", 14))
			after = p + 14;
		else if (p - filename >= 4 && !strncmp(p - 4, "lib/", 4) &&
			 (p - filename == 4 || p[-5] == '/') &&
			 (n = python_dir(p)))
			after = p + n;
	}
	/* A directory itself (nothing after it) keeps its whole name. */
	return after && *after ? after : filename;
}

int prof_label_line(const struct prof_labels *l, const struct sample_frame *f)
{
	if (l->nolineno)
		return -1;
	if (l->function)
		return f->first_line >= 0 ? f->first_line : -1;
	return f->line;
}

/* ---- frames: (pid, code key, line) -> index --------------------------- */

static size_t key_slot(const struct profile *pf, pid_t pid, uint32_t key,
		       int32_t line)
{
	uint64_t h = mix(mix(FNV_OFFSET, (uint64_t)pid << 32 | key),
			 (uint32_t)line);

	return (size_t)h & (pf->fkeys_cap - 1);
}

static void fkeys_grow(struct profile *pf)
{
	struct prof_key *old = pf->fkeys;
	size_t ocap = pf->fkeys_cap;

	pf->fkeys_cap *= 2;
	pf->fkeys = xcalloc(pf->fkeys_cap, sizeof(*pf->fkeys));
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].idx)
			continue;
		for (j = key_slot(pf, old[i].pid, old[i].code_key, old[i].line);
		     pf->fkeys[j].idx; j = (j + 1) & (pf->fkeys_cap - 1))
			;
		pf->fkeys[j] = old[i];
	}
	free(old);
}

static uint32_t frame_index(struct profile *pf, pid_t pid,
			    const struct sample_frame *f)
{
	int32_t line = prof_label_line(&pf->labels, f);
	struct prof_frame *pfr;
	struct prof_key *k;
	size_t j;

	if (2 * (pf->fkeys_n + 1) > pf->fkeys_cap)
		fkeys_grow(pf);
	/* Frames are kept by the line they show: with --function or
	 * --nolineno, one per function. */
	for (j = key_slot(pf, pid, f->code_key, line); pf->fkeys[j].idx;
	     j = (j + 1) & (pf->fkeys_cap - 1)) {
		k = &pf->fkeys[j];
		if (k->pid == pid && k->code_key == f->code_key &&
		    k->line == line)
			return k->idx - 1;
	}
	pf->frames = xgrow(pf->frames, &pf->frames_cap, pf->nframes + 1,
			   sizeof(*pf->frames));
	pfr = &pf->frames[pf->nframes++];
	pfr->function = xstrdup(f->function);
	pfr->filename = xstrdup(prof_label_file(&pf->labels, f->filename,
						f->native));
	pfr->line = line;
	pfr->first_line = f->first_line;
	pfr->native = f->native;
	pfr->kind = f->internal ? PROF_INTERNAL :
		f->native ? PROF_NATIVE : PROF_PYTHON;
	k = &pf->fkeys[j];
	k->pid = pid;
	k->code_key = f->code_key;
	k->line = line;
	k->idx = (uint32_t)pf->nframes;
	pf->fkeys_n++;
	return (uint32_t)(pf->nframes - 1);
}

/* ---- threads and stacks ------------------------------------------------ */

static uint32_t thread_index(struct profile *pf, pid_t pid,
			     const struct sample_thread *t)
{
	struct prof_thread *pt;

	/* Few threads; the newest are the likeliest. */
	for (size_t i = pf->nthreads; i-- > 0;) {
		pt = &pf->threads[i];
		if (pt->pid == pid && pt->thread_id == t->thread_id &&
		    pt->native_id == t->native_id) {
			if (!pt->name && t->name)
				pt->name = xstrdup(t->name);
			return (uint32_t)i;
		}
	}
	pf->threads = xgrow(pf->threads, &pf->threads_cap, pf->nthreads + 1,
			    sizeof(*pf->threads));
	pt = &pf->threads[pf->nthreads];
	memset(pt, 0, sizeof(*pt));
	pt->pid = pid;
	pt->thread_id = t->thread_id;
	pt->native_id = t->native_id;
	pt->name = t->name ? xstrdup(t->name) : NULL;
	return (uint32_t)pf->nthreads++;
}

static void stacks_rehash(struct profile *pf)
{
	free(pf->bucket);
	pf->nbuckets *= 4;
	pf->bucket = xcalloc(pf->nbuckets, sizeof(*pf->bucket));
	for (size_t i = 0; i < pf->nstacks; i++) {
		struct prof_stack *st = pf->stacks[i];
		size_t b = st->hash & (pf->nbuckets - 1);

		st->next = pf->bucket[b];
		pf->bucket[b] = st;
	}
}

/* The stack's id, counted once more. */
static uint32_t stack_count(struct profile *pf, pid_t pid, uint32_t thread,
			    const uint32_t *frames, size_t n)
{
	uint64_t h = mix(mix(FNV_OFFSET, (uint64_t)pid), thread);
	struct prof_stack *st;
	size_t b;

	for (size_t i = 0; i < n; i++)
		h = mix(h, frames[i]);
	b = h & (pf->nbuckets - 1);
	for (st = pf->bucket[b]; st; st = st->next) {
		if (st->hash == h && st->pid == pid && st->thread == thread &&
		    st->nframes == n &&
		    !memcmp(st->frames, frames, n * sizeof(*frames))) {
			st->count++;
			return st->id;
		}
	}
	st = xcalloc(1, sizeof(*st));
	st->pid = pid;
	st->thread = thread;
	st->frames = xmalloc((n ? n : 1) * sizeof(*frames));
	memcpy(st->frames, frames, n * sizeof(*frames));
	st->nframes = n;
	st->count = 1;
	st->hash = h;
	st->id = (uint32_t)pf->nstacks;
	st->next = pf->bucket[b];
	pf->bucket[b] = st;
	pf->stacks = xgrow(pf->stacks, &pf->stacks_cap, pf->nstacks + 1,
			   sizeof(*pf->stacks));
	pf->stacks[pf->nstacks++] = st;
	if (pf->nstacks > 2 * pf->nbuckets)
		stacks_rehash(pf);
	return st->id;
}

static void add_run(struct prof_thread *pt, uint32_t id, uint64_t now)
{
	if (pt->nruns && pt->run_stack[pt->nruns - 1] == id) {
		pt->run_count[pt->nruns - 1]++;
		return;
	}
	if (pt->nruns == pt->runs_cap) {
		pt->runs_cap = pt->runs_cap ? 2 * pt->runs_cap : 64;
		pt->run_stack = xrealloc(pt->run_stack,
					 pt->runs_cap * sizeof(*pt->run_stack));
		pt->run_count = xrealloc(pt->run_count,
					 pt->runs_cap * sizeof(*pt->run_count));
		pt->run_start = xrealloc(pt->run_start,
					 pt->runs_cap * sizeof(*pt->run_start));
	}
	pt->run_stack[pt->nruns] = id;
	pt->run_start[pt->nruns] = now;
	pt->run_count[pt->nruns++] = 1;
}

void profile_add(struct profile *pf, pid_t pid, const struct sample *s)
{
	pf->samples++;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct sample_thread *t = &s->threads[i];
		uint32_t ti, id;
		size_t n = t->nframes;

		/* A thread with no Python frame (starting, or in C code
		 * called from no Python) says nothing about Python time. */
		if (!n)
			continue;
		ti = thread_index(pf, pid, t);

		if (n > pf->scratch_cap) {
			pf->scratch_cap = n;
			pf->scratch = xrealloc(pf->scratch, n * sizeof(*pf->scratch));
		}
		/* The sample is innermost first; stacks are root first. */
		for (size_t k = 0; k < n; k++)
			pf->scratch[n - 1 - k] =
				frame_index(pf, pid, &s->frames[t->first + k]);
		id = stack_count(pf, pid, pf->by_thread || pf->keep_order ? ti :
				 UINT32_MAX, pf->scratch, n);
		if (t->idle)
			pf->stacks[id]->idle++;
		pf->threads[ti].samples++;
		if (pf->keep_order)
			add_run(&pf->threads[ti], id, pf->now_ns);
		pf->thread_samples++;
	}
}

/* ---- writers ------------------------------------------------------------ */

void profile_set_process(struct profile *pf, pid_t pid, const char *name)
{
	for (size_t i = 0; i < pf->nprocs; i++) {
		if (pf->procs[i].pid == pid) {
			free(pf->procs[i].name);
			pf->procs[i].name = xstrdup(name);
			return;
		}
	}
	pf->procs = xgrow(pf->procs, &pf->procs_cap, pf->nprocs + 1,
			  sizeof(*pf->procs));
	pf->procs[pf->nprocs].pid = pid;
	pf->procs[pf->nprocs++].name = xstrdup(name);
}

const char *profile_process(const struct profile *pf, pid_t pid)
{
	for (size_t i = 0; i < pf->nprocs; i++)
		if (pf->procs[i].pid == pid)
			return pf->procs[i].name;
	return NULL;
}

void profile_thread_label(const struct prof_thread *t, bool with_pid,
			  char *buf, size_t size)
{
	char pid[32] = "";

	if (with_pid)
		snprintf(pid, sizeof(pid), "process %d ", (int)t->pid);
	if (t->native_id > 0)
		snprintf(buf, size, "%sthread \"%s\" (%lld)", pid,
			 t->name ? t->name : "?", (long long)t->native_id);
	else
		snprintf(buf, size, "%sthread \"%s\" (0x%llx)", pid,
			 t->name ? t->name : "?",
			 (unsigned long long)t->thread_id);
}

/* A folded-stack frame: ';' separates frames and the last space starts
 * the count, so neither may appear raw; controls are escaped. */
static void folded_name(struct strbuf *sb, const char *s)
{
	struct strbuf esc;

	strbuf_init(&esc);
	escape_text(&esc, s);
	for (const char *c = esc.buf; *c; c++)
		strbuf_addch(sb, *c == ';' ? ':' : *c);
	strbuf_release(&esc);
}

static void folded_frame(struct strbuf *sb, const struct prof_frame *f)
{
	folded_name(sb, f->function);
	strbuf_addstr(sb, " (");
	folded_name(sb, f->filename);
	if (f->line >= 0)
		strbuf_addf(sb, ":%d", f->line);
	strbuf_addch(sb, ')');
}

int profile_write_folded(const struct profile *pf, bool with_pid, FILE *f)
{
	struct strbuf sb;
	int rc = 0;

	strbuf_init(&sb);
	for (size_t i = 0; i < pf->nstacks && !rc; i++) {
		const struct prof_stack *st = pf->stacks[i];
		char label[512];

		strbuf_reset(&sb);
		if (with_pid)
			strbuf_addf(&sb, "process %d;", (int)st->pid);
		if (pf->by_thread && st->thread != UINT32_MAX) {
			profile_thread_label(&pf->threads[st->thread], false,
					     label, sizeof(label));
			folded_name(&sb, label);
			strbuf_addch(&sb, ';');
		}
		for (size_t k = 0; k < st->nframes; k++) {
			if (k)
				strbuf_addch(&sb, ';');
			folded_frame(&sb, &pf->frames[st->frames[k]]);
		}
		if (!st->nframes)
			strbuf_addstr(&sb, "<no Python frames>");
		strbuf_addf(&sb, " %lu\n", st->count);
		if (fwrite(sb.buf, 1, sb.len, f) != sb.len)
			rc = -1;
	}
	strbuf_release(&sb);
	return rc;
}

int profile_write_speedscope(const struct profile *pf, bool with_pid,
			     const char *name, double interval, FILE *f)
{
	struct strbuf sb;
	struct json j;
	int rc = 0;

	/* Written out a profile at a time: the writer only appends, so sb
	 * may be emptied between its calls. */
	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key_string(&j, "$schema",
			"https://www.speedscope.app/file-format-schema.json");
	json_key_string(&j, "exporter", "snakescope " PACKAGE_VERSION);
	json_key_string(&j, "name", name);
	json_key_int(&j, "activeProfileIndex", 0);
	json_key(&j, "shared");
	json_begin_object(&j);
	json_key(&j, "frames");
	json_begin_array(&j);
	for (size_t i = 0; i < pf->nframes; i++) {
		const struct prof_frame *fr = &pf->frames[i];

		json_begin_object(&j);
		json_key_string(&j, "name", fr->function);
		json_key_string(&j, "file", fr->filename);
		if (fr->line >= 0)
			json_key_int(&j, "line", fr->line);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_key(&j, "profiles");
	json_begin_array(&j);
	for (size_t i = 0; i < pf->nthreads; i++) {
		const struct prof_thread *t = &pf->threads[i];
		char label[512];
		double total = 0;

		profile_thread_label(t, with_pid, label, sizeof(label));
		json_begin_object(&j);
		json_key_string(&j, "type", "sampled");
		json_key_string(&j, "name", label);
		json_key_string(&j, "unit", "seconds");
		json_key_int(&j, "startValue", 0);
		json_key(&j, "samples");
		json_begin_array(&j);
		for (size_t r = 0; r < t->nruns; r++) {
			const struct prof_stack *st = pf->stacks[t->run_stack[r]];

			json_begin_array(&j);
			for (size_t k = 0; k < st->nframes; k++)
				json_uint(&j, st->frames[k]);
			json_end_array(&j);
		}
		json_end_array(&j);
		json_key(&j, "weights");
		json_begin_array(&j);
		for (size_t r = 0; r < t->nruns; r++) {
			double w = t->run_count[r] * interval;

			total += w;
			json_double(&j, w, 9);
		}
		json_end_array(&j);
		json_key(&j, "endValue");
		json_double(&j, total, 9);
		json_end_object(&j);
		if (fwrite(sb.buf, 1, sb.len, f) != sb.len)
			rc = -1;
		strbuf_reset(&sb);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(&sb, '\n');
	if (fwrite(sb.buf, 1, sb.len, f) != sb.len)
		rc = -1;
	strbuf_release(&sb);
	return rc;
}
