#include <config.h>

#include "model/sample.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "model/native.h"
#include "model/snapshot.h"

#include <stdlib.h>
#include <string.h>

void sample_release(struct sample *s)
{
	free(s->threads);
	free(s->frames);
	memset(s, 0, sizeof(*s));
}

/* ---- frames named ------------------------------------------------------ */

static uint64_t name_hash(const char *function, const char *filename)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const char *s = function; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL; /* not a byte of UTF-8 */
	for (const char *s = filename; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct sample_name *name_slot(struct sample_name *slots, size_t cap,
				     uint64_t hash, const char *function,
				     const char *filename)
{
	size_t i = (size_t)hash & (cap - 1);

	while (slots[i].key && (slots[i].hash != hash ||
				strcmp(slots[i].function, function) ||
				strcmp(slots[i].filename, filename)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* The entry of (function, filename), added when new; it moves at the
 * next insertion. */
static const struct sample_name *name_get(struct sample_names *t,
					  const char *function,
					  const char *filename)
{
	uint64_t h = name_hash(function, filename);
	struct sample_name *k;

	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct sample_name *slots = xcalloc(cap, sizeof(*slots));

		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].key)
				*name_slot(slots, cap, t->slots[i].hash,
					   t->slots[i].function,
					   t->slots[i].filename) = t->slots[i];
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	k = name_slot(t->slots, t->cap, h, function, filename);
	if (!k->key) {
		k->hash = h;
		k->function = xstrdup(function);
		k->filename = xstrdup(filename);
		k->key = SAMPLE_NAME_KEY_BASE + (uint32_t)++t->n;
	}
	return k;
}

void sample_names_release(struct sample_names *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		free(t->slots[i].function);
		free(t->slots[i].filename);
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void sample_named_frame(struct sample_names *t, const char *function,
			const char *filename, int line, int first_line,
			bool native, struct sample_frame *f)
{
	const struct sample_name *k = name_get(t, function, filename);

	memset(f, 0, sizeof(*f));
	f->code_key = k->key;
	f->line = line;
	f->first_line = first_line;
	f->function = k->function;
	f->filename = k->filename;
	f->native = native;
}

void sample_add_named(struct sample *s, struct sample_names *t,
		      const char *function, const char *filename, int line,
		      bool native, bool internal)
{
	struct sample_frame *f;

	s->frames = xgrow(s->frames, &s->frames_cap, s->nframes + 1,
			  sizeof(*s->frames));
	f = &s->frames[s->nframes++];
	sample_named_frame(t, function, filename, line, -1, native, f);
	f->internal = internal;
}

/* ---- a snapshot as a sample ------------------------------------------- */

/* Thread st's whole stack: snapshot thread th's merged entries. */
static void thread_frames(struct sample *s, struct sample_names *t,
			  const struct snap_thread *th, bool native_all)
{
	struct strbuf note;

	for (size_t k = 0; k < th->nnative; k++) {
		const struct snap_native *n = &th->native[k];

		if (!py_native_shown(th, k, native_all))
			continue;
		if (n->kind == SNAP_STACK_PYTHON && n->py < th->nframes) {
			sample_add_named(s, t, th->frames[n->py].function,
					 th->frames[n->py].filename,
					 th->frames[n->py].line, false, false);
		} else if (n->kind == SNAP_STACK_NATIVE) {
			sample_add_named(s, t, n->function ? n->function : "??",
					 n->library ? n->library : "??", -1,
					 true, n->internal);
		} else if (n->kind == SNAP_STACK_MARK && n->note) {
			strbuf_init(&note);
			strbuf_addf(&note, "[%s]", n->note);
			sample_add_named(s, t, note.buf, "snakescope", -1, true,
					 false);
			strbuf_release(&note);
		}
	}
}

void sample_of_snapshot(struct sample *s, struct sample_names *t,
			const struct snapshot *snap, bool native_all)
{
	s->nthreads = s->nframes = 0;
	s->threads_left_out = false;
	for (size_t i = 0; i < snap->nthreads; i++) {
		const struct snap_thread *th = &snap->threads[i];
		struct sample_thread *st;

		s->threads = xgrow(s->threads, &s->threads_cap, s->nthreads + 1,
				   sizeof(*s->threads));
		st = &s->threads[s->nthreads++];
		memset(st, 0, sizeof(*st));
		/* a thread without Python has no ident: its TID stands in
		 * (JSON says null) */
		st->native_only = th->native_only;
		st->thread_id = th->native_only ? (uint64_t)th->native_id :
			th->thread_id;
		st->native_id = th->native_id;
		st->name = th->name;
		st->interp_id = th->interp_id;
		st->holds_gil = th->holds_gil;
		st->idle = !th->holds_gil && th->os.state != 'R';
		st->truncated = th->truncated;
		st->first = s->nframes;
		thread_frames(s, t, th, native_all);
		st->nframes = s->nframes - st->first;
	}
}
