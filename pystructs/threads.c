#include <config.h>

#include "pystructs/threads.h"
#include "common/addrset.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/locals.h"
#include "pystructs/object.h"
#include "pystructs/repr.h"
#include "pystructs/thread_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* glibc 2.x x86-64 keeps struct pthread's tid here; checked, then
 * searched for, against the real TIDs. */
#define GLIBC_PTHREAD_TID_OFFSET 720
#define PTHREAD_SCAN_BYTES 2048
/* Re-reads of a stack that changed while it was read (unpaused). */
#define TORN_TRIES 3

#define IMPORTLIB_FILE "<frozen importlib._bootstrap>"

struct name_list {
	struct py_thread_name *v;
	size_t n, cap;
};

/* ---- threading._active: ident -> Thread name ---------------------- */

static int collect_name(struct py_proc *p, uint64_t key, uint64_t value,
			void *arg)
{
	struct name_list *names = arg;
	uint64_t ident, name_obj;
	char *name;

	/* Thread._name; 2.7 mangles the private name to _Thread__name. */
	if (py_long_read_u64(p, key, &ident, NULL) ||
	    (py_getattr_str(p, value, "_name", &name_obj, NULL) &&
	     py_getattr_str(p, value, "_Thread__name", &name_obj, NULL)) ||
	    py_str_read(p, name_obj, 1024, &name, NULL, NULL))
		return 0;
	names->v = xgrow(names->v, &names->cap, names->n + 1, sizeof(*names->v));
	names->v[names->n].ident = ident;
	names->v[names->n].name = name;
	names->n++;
	return 0;
}

size_t py_thread_names_read(struct py_proc *p, uint64_t interp,
			    size_t limit, struct py_thread_name **out)
{
	struct name_list names = { 0 };
	uint64_t module, active;

	/* Best effort: a target without threading imported has no names. */
	if (!py_module_get(p, interp, "threading", &module, NULL) &&
	    !py_module_attr(p, module, "_active", &active, NULL))
		py_dict_each(p, active, limit, collect_name, &names,
			     NULL);
	*out = names.v;
	return names.n;
}

void py_thread_names_free(struct py_thread_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static char *take_name(struct name_list *names, uint64_t ident)
{
	for (size_t i = 0; i < names->n; i++) {
		if (names->v[i].ident == ident && names->v[i].name) {
			char *s = names->v[i].name;

			names->v[i].name = NULL;
			return s;
		}
	}
	return NULL;
}

/* ---- native thread ids before 3.11 -------------------------------- */

static bool is_tid(pid_t v, const pid_t *tids, size_t ntids)
{
	for (size_t i = 0; i < ntids; i++)
		if (tids[i] == v)
			return true;
	return false;
}

/* Find the offset of the tid in glibc's struct pthread (pthread_t points
 * at it): try the known offset, else the first word that is a TID. */
static void calibrate_pthread_tid(struct py_proc *p, uint64_t pthread,
				  const pid_t *tids, size_t ntids)
{
	int32_t buf[PTHREAD_SCAN_BYTES / 4];

	if (mem_read(p->mem, pthread, buf, sizeof(buf), NULL))
		return;
	if (is_tid(buf[GLIBC_PTHREAD_TID_OFFSET / 4], tids, ntids)) {
		p->pthread_tid_offset = GLIBC_PTHREAD_TID_OFFSET;
		return;
	}
	for (size_t i = 0; i < sizeof(buf) / 4; i++) {
		if (buf[i] > 0 && is_tid(buf[i], tids, ntids)) {
			p->pthread_tid_offset = (int)(i * 4);
			return;
		}
	}
}

int64_t py_thread_native_id(struct py_proc *p, const uint8_t *ts,
			    const pid_t *tids, size_t ntids)
{
	uint64_t pthread;
	int32_t tid;

	if (p->L.tstate.native_thread_id != LAYOUT_NONE)
		return (int64_t)py_rd64(ts, p->L.tstate.native_thread_id);
	pthread = py_rd64(ts, p->L.tstate.thread_id);
	if (!py_ptr_ok(pthread))
		return -1;
	if (p->pthread_tid_offset < 0 && ntids)
		calibrate_pthread_tid(p, pthread, tids, ntids);
	if (p->pthread_tid_offset < 0 ||
	    mem_read(p->mem, pthread + (uint64_t)p->pthread_tid_offset, &tid,
		     sizeof(tid), NULL) ||
	    (ntids ? !is_tid(tid, tids, ntids) : tid <= 0))
		return -1;
	return tid;
}

/* ---- frames ------------------------------------------------------- */

static struct snap_frame *add_frame(struct snap_thread *t,
				    const struct py_code *c, uint64_t addr)
{
	struct snap_frame *f = snap_add_frame(t);

	f->addr = addr;
	f->function = xstrdup(c ? c->name : "<unknown>");
	f->filename = xstrdup(c ? c->filename : "<unknown>");
	f->code = c ? c->addr : 0;
	return f;
}

/* importlib's _find_and_load(name, ...) frame: the module it imports. */
static void note_import(struct py_proc *p, const struct py_code *c,
			struct snap_frame *f)
{
	if (!strcmp(c->name, "_find_and_load") &&
	    !strcmp(c->filename, IMPORTLIB_FILE))
		f->importing = py_frame_first_str(p, f->addr);
}

static void note_error(struct snap_thread *t, const struct err *e)
{
	if (!t->error)
		t->error = xstrdup(e->msg[0] ? e->msg : err_describe(e->code));
}

bool py_walker_frame_type_ok(struct py_walker *w, uint64_t type)
{
	char name[16];

	if (w->frame_type)
		return type == w->frame_type;
	if (py_type_name_at(w->p, type, name, sizeof(name), NULL) ||
	    strcmp(name, "frame"))
		return false;
	w->frame_type = type;
	return true;
}

enum py_walk_end py_frames_walk(struct py_walker *w, uint64_t top,
				py_walk_fn fn, void *arg, struct err *e)
{
	return py_frames_walk_inline(w, top, w->header, fn, arg, e);
}

/* A dump's walk: every frame into a snapshot thread. */
struct dump_walk {
	struct py_proc *p;
	struct snap_thread *t;
	const struct py_read_opts *o;
};

static enum py_walk_step dump_frame(void *arg, const struct py_walk_frame *wf)
{
	struct dump_walk *d = arg;
	struct py_proc *p = d->p;
	const struct py_code *c;
	struct py_location loc;
	struct snap_frame *f;
	struct err e;

	err_clear(&e);
	c = py_code_get(p, wf->code, &e);
	if (!c) {
		/* 3.13+ f_executable may be a non-code object. */
		if (e.code == SS_ECORRUPT && p->L.frame.kind == LAYOUT_FRAME_INTERP)
			return PY_WALK_SKIP;
		add_frame(d->t, NULL, wf->addr)->activation = wf->activation;
		note_error(d->t, &e);
		return PY_WALK_KEEP;
	}
	if (c->shim)
		return PY_WALK_SKIP;
	py_code_location(p, c, py_frame_lasti(p, wf->hdr, wf->code, c), &loc);
	f = add_frame(d->t, c, wf->addr);
	f->activation = wf->activation;
	py_frame_set_location(p, &loc, f);
	note_import(p, c, f);
	if (d->o && d->o->locals)
		py_frame_locals(p, c, wf->addr, d->o->repr_width ?
				d->o->repr_width : PY_REPR_WIDTH_DEFAULT, f);
	return PY_WALK_KEEP;
}

/* Activation 'activation' keeps its entry frame (3.12+) or _PyCFrame
 * (3.11) at addr, on its C stack. */
static void note_eval_at(struct snap_thread *t, uint64_t addr,
			 unsigned activation)
{
	size_t cap = t->neval_at;

	if (activation >= PY_MAX_FRAMES)
		return;
	if (activation >= t->neval_at) {
		t->eval_at = xgrow(t->eval_at, &cap, activation + 1,
				   sizeof(*t->eval_at));
		memset(t->eval_at + t->neval_at, 0, (activation + 1 -
		       t->neval_at) * sizeof(*t->eval_at));
		t->neval_at = activation + 1;
	}
	t->eval_at[activation] = addr;
}

static void dump_entry(void *arg, uint64_t addr, unsigned activation)
{
	note_eval_at(((struct dump_walk *)arg)->t, addr, activation);
}

/*
 * 3.11: each activation's _PyCFrame is a local of its C frame, and
 * tstate->cframe chains them from the innermost by 'previous' (the word
 * after current_frame in 3.11 and 3.12).  The chain ends at the thread
 * state's root_cframe, which runs no activation: only as many links as
 * the walk counted activations are taken.
 */
static void read_cframes(struct py_proc *p, uint64_t cframe,
			 struct snap_thread *t)
{
	const struct py_layout *L = &p->L;
	unsigned n = 0;

	for (size_t i = 0; i < t->nframes; i++)
		if (t->frames[i].activation + 1 > n)
			n = t->frames[i].activation + 1;
	for (unsigned k = 0; k < n && py_ptr_ok(cframe); k++) {
		note_eval_at(t, cframe, k);
		if (mem_read_u64(p->mem, cframe + (uint64_t)L->tstate.cframe_frame
				 + 8, &cframe, NULL))
			break;
	}
}

static void walk_frames(struct py_walker *w, uint64_t frame, uint64_t base,
			uint64_t cframe, struct snap_thread *t,
			const struct py_read_opts *o)
{
	struct dump_walk d = { w->p, t, o };
	struct err e;

	err_clear(&e);
	w->base = base;
	w->entry = dump_entry;
	switch (py_frames_walk(w, frame, dump_frame, &d, &e)) {
	case PY_WALK_TRUNCATED:
		t->truncated = true;
		break;
	case PY_WALK_BROKEN:
		note_error(t, &e);
		break;
	case PY_WALK_DONE:
		break;
	}
	w->entry = NULL;
	if (w->p->L.frame.is_entry != LAYOUT_NONE && cframe)
		read_cframes(w->p, cframe, t);
}

static uint64_t top_frame(struct py_proc *p, const uint8_t *ts)
{
	uint64_t frame = py_rd64(ts, p->L.tstate.frame);

	/* 3.11/3.12: tstate->cframe->current_frame. */
	if (p->L.tstate.cframe_frame != LAYOUT_NONE && frame &&
	    mem_read_u64(p->mem, frame + (uint64_t)p->L.tstate.cframe_frame,
			 &frame, NULL))
		return 0;
	return frame;
}

/* ---- one thread ---------------------------------------------------- */

/* 3.11/3.12: tstate->cframe; 0 otherwise. */
static uint64_t cframe_of(const struct py_proc *p, const uint8_t *ts)
{
	return p->L.tstate.cframe_frame != LAYOUT_NONE ?
	       py_rd64(ts, p->L.tstate.frame) : 0;
}

/* 3.15+: the frame every complete walk ends at; 0 before. */
static uint64_t base_frame(const struct py_proc *p, const uint8_t *ts)
{
	return p->L.tstate.base_frame != LAYOUT_NONE ?
	       py_rd64(ts, p->L.tstate.base_frame) : 0;
}

static const struct snap_os_thread *os_of(const struct py_read_opts *o,
					  int64_t native_id)
{
	if (!o || !o->os || native_id <= 0)
		return NULL;
	for (size_t i = 0; i < o->ntids; i++)
		if (o->tids[i] == (pid_t)native_id)
			return &o->os[i];
	return NULL;
}

/*
 * The thread's TID.  The thread state holds the target's own number: in
 * another PID namespace it is translated to ours, and kept as
 * ns_native_id.  (Before 3.8 it comes from glibc's struct pthread, whose
 * offset is found by matching the target's own TIDs.)
 */
static void read_native_id(struct py_proc *p, const uint8_t *ts,
			   const struct py_read_opts *o, struct snap_thread *t)
{
	const struct py_ns *ns = o ? o->ns : NULL;
	const pid_t *own = o ? o->tids : NULL;
	size_t nown = o ? o->ntids : 0;
	int64_t id;

	if (ns)
		nown = ns->own_tids(ns->ctx, &own);
	id = py_thread_native_id(p, ts, own, nown);
	if (ns && id > 0) {
		t->ns_native_id = id;
		id = py_ns_host(ns, id);
	}
	t->native_id = id;
}

static void drop_frames(struct snap_thread *t)
{
	snap_thread_release_frames(t);
	t->truncated = false;
	free(t->error);
	t->error = NULL;
}

static bool same_chain(const struct snap_thread *a, const struct snap_thread *b)
{
	if (a->nframes != b->nframes)
		return false;
	for (size_t i = 0; i < a->nframes; i++)
		if (a->frames[i].addr != b->frames[i].addr ||
		    a->frames[i].code != b->frames[i].code)
			return false;
	return true;
}

/* Frames of t above the part it shares with 'again' (compared from the
 * outermost frame) changed while they were read. */
static void mark_torn(struct snap_thread *t, const struct snap_thread *again)
{
	size_t i = t->nframes, j = again->nframes;

	while (i > 0 && j > 0 && t->frames[i - 1].addr == again->frames[j - 1].addr &&
	       t->frames[i - 1].code == again->frames[j - 1].code) {
		i--;
		j--;
	}
	for (size_t k = 0; k < i; k++)
		t->frames[k].torn = true;
	t->torn = i > 0;
}

/* Read the thread state at tstate and walk its stack into t.  Unpaused,
 * the walk is repeated until two agree (bounded); frames that never
 * settle are marked torn. */
static void read_stack(struct py_walker *w, uint64_t tstate, uint8_t *ts,
		       size_t tsize, struct snap_thread *t,
		       const struct py_read_opts *o)
{
	struct py_proc *p = w->p;
	struct snap_thread again = { 0 };
	bool check = o && o->check_torn;

	for (int attempt = 0;; attempt++) {
		walk_frames(w, top_frame(p, ts), base_frame(p, ts),
			    cframe_of(p, ts), t, o);
		if (!check)
			return;
		if (mem_read(p->mem, tstate, ts, tsize, NULL))
			break;
		walk_frames(w, top_frame(p, ts), base_frame(p, ts),
			    cframe_of(p, ts), &again, NULL);
		if (same_chain(t, &again)) {
			drop_frames(&again);
			return;
		}
		if (attempt + 1 >= TORN_TRIES)
			break;
		drop_frames(t);
		drop_frames(&again);
	}
	mark_torn(t, &again);
	drop_frames(&again);
}

/* ---- interpreters and threads ------------------------------------- */

/* Thread by thread: done() said t's read was not of one instant (a
 * thread read without a stop ran meanwhile): its thread state and stack
 * read again, once, as hold() has it now. */
static void read_again(struct py_walker *w, uint64_t tstate, uint8_t *ts,
		       size_t tsize, struct snap_thread *t,
		       const struct py_read_opts *o)
{
	struct py_read_opts one = *o;
	bool held;
	struct err te;

	err_clear(&te);
	snap_thread_release_frames(t);
	held = o->hold(o->hold_arg, t);
	if (mem_read(w->p->mem, tstate, ts, tsize, &te)) {
		note_error(t, &te);
	} else {
		one.check_torn = o->check_torn && !held;
		read_stack(w, tstate, ts, tsize, t, &one);
	}
	o->done(o->hold_arg, t);
}

/* An interpreter's thread list went on past the bound: the threads
 * beyond it are not in the snapshot, and the snapshot says so. */
static void note_threads_left_out(struct snapshot *s, int64_t interp_id,
				  size_t bound, size_t ntids)
{
	char buf[256];

	if (ntids)
		snprintf(buf, sizeof(buf), "the thread list of interpreter "
			 "%lld goes on past %zu thread states, more than the "
			 "%zu threads the process has (corrupt, or threads "
			 "started meanwhile): the rest are left out",
			 (long long)interp_id, bound, ntids);
	else
		snprintf(buf, sizeof(buf), "the thread list of interpreter "
			 "%lld goes on past %zu thread states (corrupt?): the "
			 "rest are left out", (long long)interp_id, bound);
	if (!s->threads_note)
		s->threads_note = xstrdup(buf);
}

static int read_interp(struct py_walker *w, uint64_t interp, int64_t index,
		       const struct py_read_opts *o, struct snapshot *s,
		       struct err *e)
{
	struct py_proc *p = w->p;
	struct addrset *seen = w->seen;
	const struct py_layout *L = &p->L;
	uint64_t tstate, *list = NULL;
	size_t n = 0, cap = 0, bound = py_threads_bound(o ? o->ntids : 0);
	int64_t interp_id = index; /* <=3.6 have no id: the list position */
	struct name_list names = { 0 };
	struct py_interp_facts facts;
	uint8_t ts[4096];
	size_t tsize = (size_t)L->tstate.size;
	int rc;

	if (tsize > sizeof(ts))
		return err_set(e, SS_EBADBUILD, "thread state too large");
	rc = mem_read_u64(p->mem, interp + (uint64_t)L->interp.threads_head,
			  &tstate, e);
	if (rc)
		return rc;
	if (L->interp.id != LAYOUT_NONE)
		mem_read(p->mem, interp + (uint64_t)L->interp.id, &interp_id,
			 sizeof(interp_id), NULL);
	addrset_clear(seen);
	while (tstate && n < bound) {
		if (!py_ptr_ok(tstate) || !addrset_add(seen, tstate)) {
			free(list);
			return err_set(e, SS_ECORRUPT, "thread list is broken "
				       "at 0x%llx", (unsigned long long)tstate);
		}
		list = xgrow(list, &cap, n + 1, sizeof(*list));
		list[n++] = tstate;
		rc = mem_read_u64(p->mem, tstate + (uint64_t)L->tstate.next,
				  &tstate, e);
		if (rc) {
			free(list);
			return rc;
		}
	}
	if (tstate)
		note_threads_left_out(s, interp_id, bound, o ? o->ntids : 0);
	py_interp_facts_read(p, interp, &facts);
	names.n = py_thread_names_read(p, interp, bound, &names.v);
	/* The list is newest first; report in creation order. */
	while (n-- > 0) {
		const struct snap_os_thread *os;
		struct py_read_opts one;
		struct snap_thread *t;
		struct err te;
		bool held;

		err_clear(&te);
		t = snap_add_thread(s);
		t->interp_id = interp_id;
		if (mem_read(p->mem, list[n], ts, tsize, &te)) {
			note_error(t, &te);
			continue;
		}
		t->tstate = list[n];
		t->thread_id = py_rd64(ts, L->tstate.thread_id);
		read_native_id(p, ts, o, t);
		held = o && o->hold && o->hold(o->hold_arg, t);
		/* Held: its state as of the hold, and nothing can tear. */
		if (held && mem_read(p->mem, list[n], ts, tsize, &te)) {
			note_error(t, &te);
			o->done(o->hold_arg, t);
			continue;
		}
		if (held) {
			one = *o;
			one.check_torn = false;
		}
		t->name = take_name(&names, t->thread_id);
		os = os_of(o, t->native_id);
		if (os)
			t->os = *os;
		py_thread_state_fill(p, &facts, ts, list[n], t);
		read_stack(w, list[n], ts, tsize, t, held ? &one : o);
		if (o && o->hold && !o->done(o->hold_arg, t))
			read_again(w, list[n], ts, tsize, t, o);
	}
	py_thread_names_free(names.v, names.n);
	py_interp_facts_release(&facts);
	free(list);
	return 0;
}

int py_interp_list(struct py_proc *p, uint64_t *interps, size_t *n,
		   struct err *e)
{
	uint64_t interp;
	int rc;

	*n = 0;
	rc = mem_read_u64(p->mem, p->runtime +
			  (uint64_t)p->L.runtime.interpreters_head, &interp, e);
	if (rc)
		return rc;
	/* No interpreter yet (starting up) or any more (finalizing): a
	 * valid state with no Python threads, not an error. */
	while (interp && *n < PY_MAX_INTERPS) {
		interps[(*n)++] = interp;
		if (mem_read_u64(p->mem, interp + (uint64_t)p->L.interp.next,
				 &interp, NULL) || (interp && !py_ptr_ok(interp)))
			break;
		for (size_t i = 0; i < *n; i++)
			if (interps[i] == interp)
				interp = 0; /* loop */
	}
	return 0;
}

int py_read_threads(struct py_proc *p, const struct py_read_opts *o,
		    struct snapshot *s, struct err *e)
{
	uint64_t interps[PY_MAX_INTERPS];
	size_t n = 0;
	struct addrset seen;
	struct py_walker *w;
	int rc = 0;

	rc = py_interp_list(p, interps, &n, e);
	if (rc)
		return rc;
	addrset_init(&seen);
	w = xcalloc(1, sizeof(*w));
	w->p = p;
	w->seen = &seen;
	/* The list is newest first: the main interpreter is last. */
	for (size_t i = n; i-- > 0 && !rc;)
		rc = read_interp(w, interps[i], (int64_t)(n - 1 - i), o, s, e);
	free(w);
	addrset_release(&seen);
	return rc;
}
