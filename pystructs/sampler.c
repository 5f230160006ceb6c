#include <config.h>

#include "pystructs/sampler.h"
#include "common/addrset.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/object.h"
#include "pystructs/threads.h"
#include "pystructs/reader.h"

#include <stdlib.h>
#include <string.h>

/* A thread's native id (before 3.8) is checked again after this. */
#define NAMES_CHECK_NS 1000000000ULL
/* threading's names, while a thread has none, and a native id not found,
 * are tried again at most this often: a read torn by threads coming and
 * going must not leave a thread nameless for long. */
#define NAMES_RETRY_NS 100000000ULL
/* A decoded code object no sample used for this long is dropped: code
 * made and dropped all the time (exec() in a loop) must not pile up. */
#define CODE_SWEEP_NS (10 * 1000000000ULL)
/* Data stack bytes read per chunk at most (a chunk is 16 KiB unless one
 * frame needs more). */
#define MAX_CHUNK_READ (4u << 20)
#define CHUNK_CACHE 64u
/* Extra regions (older chunks) per thread and sample. */
#define MAX_REGIONS 8u

/* ---- threads --------------------------------------------------------- */

struct region {
	uint64_t lo;
	size_t len;
	uint8_t *buf;
	size_t cap;
};

/* A thread state as seen in the previous sample, with its buffers. */
struct tslot {
	uint64_t tstate;
	uint8_t *ts;          /* tsize bytes: the prefix the sampler uses */
	bool ts_ok;
	uint64_t frame;       /* its innermost frame this sample */
	bool keep;
	uint64_t native_for;  /* thread_id the cached native_id is of */
	uint64_t native_ns;
	int64_t native_id;
	struct region chunk;  /* 3.11+: the current data stack chunk */
	size_t span;          /* its index in a batch, SIZE_MAX: none */
	struct region extra[MAX_REGIONS]; /* older chunks read this sample */
	size_t nextra;
	/* Frames read one by one (<=3.10: all; 3.11+: those outside the
	 * chunks, like generators' and C-stack shims'), sorted by address,
	 * hdr bytes each in buf. */
	struct prefetch {
		uint64_t *addr;
		size_t *off;   /* of each frame in buf */
		bool *ok;
		size_t n, cap;
		/* frames close together are read as one range */
		struct pre_range {
			uint64_t lo;
			size_t len, off, first, count;
		} *range;
		size_t nrange;
		uint8_t *buf;
		size_t buf_cap;
	} pre;
	/* frames read alone during this walk: next sample's pre */
	uint64_t *met;
	size_t nmet, met_cap;
	/* What the next sample reads ahead in its first batch, guessed from
	 * this one (the contents are read fresh; only addresses are
	 * guessed, and checked): */
	uint64_t spec_cframe;  /* 3.11/3.12: the cframe whose
				  current_frame word lands in spec_word */
	uint64_t spec_word;
	size_t spec_word_span, chunk_span;
	size_t nspec_extra;    /* extra[0 .. nspec_extra) read ahead */
	size_t extra_span;     /* their first span */
	size_t pre_span;       /* the first of pre.n spans */
	struct sample_thread t;
};

struct interp {
	uint64_t addr;
	int64_t id;
	uint64_t head;      /* threads_head, this sample */
	uint64_t gil;       /* 3.12+: its struct _gil_runtime_state */
	uint64_t holder;    /* the thread state holding the GIL, or 0 */
	int32_t locked;
};

struct py_sampler {
	struct py_proc *p;
	struct py_sampler_opts o;
	size_t tsize, hdr;

	struct interp *interps;
	size_t ninterps;
	uint64_t interp_head; /* runtime's interpreters_head, this sample */
	uint64_t holder;      /* <=3.11: the process-wide GIL holder word */

	struct tslot *slots;  /* this sample's threads, list order */
	size_t nslots, slots_cap;
	struct tslot *spare;  /* buffers of threads that went away */
	size_t nspare, spare_cap;

	/* The code objects are p's code cache (code.h), kept across
	 * samples, checked in each that uses them, swept when unused. */
	uint32_t next_key;       /* names the code objects it decodes */
	uint64_t nsample;        /* samples taken: the current one's number */
	uint64_t sweep_ns;       /* when the last sweep was */
	uint64_t sweep_sample;   /* and the sample it was at */

	struct { uint64_t addr, size; } chunks[CHUNK_CACHE];
	size_t chunk_next;

	struct py_thread_name *names;
	size_t nnames;
	uint64_t names_ns;
	bool names_read;

	/* The frames walked this sample: code objects and instructions
	 * (3.11+ instr_ptr; <=3.10 f_lasti). */
	uint64_t *raw_code, *raw_instr;
	unsigned *raw_act;       /* and their activations */
	size_t nraw, raw_cap;
	/* Thread by thread (hold): the held thread's entry frames by
	 * activation (3.12+), for a native merge without symbols. */
	uint64_t *entry_at;
	size_t nentry_at, entry_at_cap;
	struct mem_span *spans;
	size_t spans_cap;
	uint8_t *scratch; /* one frame header */
	struct py_walker walker; /* sampling, over frame_header() */
	struct tslot *walking;   /* the thread it walks */
	struct addrset seen;
	bool left_out;           /* the last walk reached its bound */
};

/* ---- code objects -------------------------------------------------- */

/* Drop the decoded code objects no sample used since the last sweep,
 * once a sweep's time has passed. */
static void codes_sweep(struct py_sampler *s, uint64_t now)
{
	if (now - s->sweep_ns < CODE_SWEEP_NS)
		return;
	py_code_sweep(s->p, s->sweep_sample);
	s->sweep_ns = now;
	s->sweep_sample = s->nsample;
}

/* Check the cached code objects this sample uses, each once, in one
 * batched read (see py_code_check). */
static void codes_check(struct py_sampler *s)
{
	py_code_check(s->p, s->raw_code, s->nraw, s->nsample);
}

/* ---- regions: memory read once per sample ---------------------------- */

static uint8_t *region_fill(struct region *r, struct mem_reader *m,
			    uint64_t lo, size_t len)
{
	if (len > r->cap) {
		r->buf = xrealloc(r->buf, len);
		r->cap = len;
	}
	r->lo = lo;
	r->len = 0;
	if (mem_read(m, lo, r->buf, len, NULL))
		return NULL;
	r->len = len;
	return r->buf;
}

static const uint8_t *region_at(const struct region *r, uint64_t addr,
				size_t len)
{
	if (r->len && addr >= r->lo && addr - r->lo <= r->len &&
	    len <= r->len - (addr - r->lo))
		return r->buf + (addr - r->lo);
	return NULL;
}

/* The data stack chunk (of any thread) that holds addr, learnt from the
 * chunks' 'previous' links; its size in *size, or 0. */
static uint64_t chunk_of(const struct py_sampler *s, uint64_t addr,
			 uint64_t *size)
{
	for (size_t i = 0; i < CHUNK_CACHE; i++) {
		if (s->chunks[i].addr && addr >= s->chunks[i].addr &&
		    addr - s->chunks[i].addr < s->chunks[i].size) {
			*size = s->chunks[i].size;
			return s->chunks[i].addr;
		}
	}
	return 0;
}

static bool chunk_known(const struct py_sampler *s, uint64_t addr)
{
	for (size_t i = 0; i < CHUNK_CACHE; i++)
		if (s->chunks[i].addr == addr)
			return true;
	return false;
}

/* Learn the chunk at addr (its size from its header). */
static void chunk_learn(struct py_sampler *s, uint64_t addr)
{
	const struct py_layout *L = &s->p->L;
	uint64_t size;

	if (!py_ptr_ok(addr) || chunk_known(s, addr) ||
	    mem_read_u64(s->p->mem, addr + (uint64_t)L->chunk.size, &size, NULL) ||
	    size < (uint64_t)L->chunk.data || size > MAX_CHUNK_READ)
		return;
	s->chunks[s->chunk_next].addr = addr;
	s->chunks[s->chunk_next].size = size;
	s->chunk_next = (s->chunk_next + 1) % CHUNK_CACHE;
}

/* The frame at addr as read ahead in this sample's first batch, or NULL. */
static const uint8_t *prefetched(const struct prefetch *pre, uint64_t addr)
{
	size_t lo = 0, hi = pre->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pre->addr[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pre->n && pre->addr[lo] == addr && pre->ok[lo])
		return pre->buf + pre->off[lo];
	return NULL;
}

/* Remember a frame read alone, to read it ahead next time. */
static void note_single(struct tslot *ts, uint64_t addr)
{
	ts->met = xgrow(ts->met, &ts->met_cap, ts->nmet + 1, sizeof(*ts->met));
	ts->met[ts->nmet++] = addr;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Frames at most this far apart are read as one range (less than a
 * page, so the bytes between lie on the frames' own mapped pages). */
#define PRE_GAP 1024u
#define PRE_RANGE_MAX (64u << 10)

/* After the walk: next sample reads ahead the singles met now. */
static void prefetch_plan(const struct py_sampler *s, struct tslot *ts)
{
	struct prefetch *pre = &ts->pre;
	size_t k = 0, total = 0;

	pre->n = pre->nrange = 0;
	if (!ts->nmet)
		return;
	qsort(ts->met, ts->nmet, sizeof(*ts->met), cmp_u64);
	for (size_t i = 0; i < ts->nmet; i++)
		if (!k || ts->met[i] != ts->met[k - 1])
			ts->met[k++] = ts->met[i];
	if (k > pre->cap) {
		pre->cap = k;
		pre->addr = xrealloc(pre->addr, k * sizeof(*pre->addr));
		pre->off = xrealloc(pre->off, k * sizeof(*pre->off));
		pre->ok = xrealloc(pre->ok, k * sizeof(*pre->ok));
		pre->range = xrealloc(pre->range, k * sizeof(*pre->range));
	}
	memcpy(pre->addr, ts->met, k * sizeof(*pre->addr));
	memset(pre->ok, 0, k * sizeof(*pre->ok));
	pre->n = k;
	ts->nmet = 0;
	for (size_t i = 0; i < k; i++) {
		struct pre_range *r = pre->nrange ? &pre->range[pre->nrange - 1] :
				      NULL;
		uint64_t a = pre->addr[i];

		if (r && a <= r->lo + r->len + PRE_GAP &&
		    a + s->hdr - r->lo <= PRE_RANGE_MAX) {
			r->len = (size_t)(a + s->hdr - r->lo);
			r->count++;
		} else {
			r = &pre->range[pre->nrange++];
			r->lo = a;
			r->len = s->hdr;
			r->first = i;
			r->count = 1;
		}
	}
	for (size_t j = 0; j < pre->nrange; j++) {
		struct pre_range *r = &pre->range[j];

		r->off = total;
		for (size_t i = r->first; i < r->first + r->count; i++)
			pre->off[i] = total + (size_t)(pre->addr[i] - r->lo);
		total += r->len;
	}
	if (total > pre->buf_cap) {
		pre->buf = xrealloc(pre->buf, total);
		pre->buf_cap = total;
	}
}

/*
 * The header of the frame at addr: from this sample's copy of the
 * thread's chunks when it lies there, else from an older chunk of the
 * thread (read once, from its start up to this frame, since older frames
 * lie below), else read alone (a generator's frame, a C-stack shim).
 */
static const uint8_t *frame_header(struct py_sampler *s, struct tslot *ts,
				   uint64_t addr)
{
	const struct py_layout *L = &s->p->L;
	const uint8_t *h;
	uint64_t c, size;

	if ((h = region_at(&ts->chunk, addr, s->hdr)))
		return h;
	for (size_t i = 0; i < ts->nextra; i++)
		if ((h = region_at(&ts->extra[i], addr, s->hdr)))
			return h;
	if (L->frame.kind == LAYOUT_FRAME_INTERP && ts->chunk.len &&
	    ts->nextra < MAX_REGIONS) {
		/* Frames below the current chunk are in the one before. */
		const uint8_t *hdr = ts->chunk.buf;
		uint64_t prev = ts->nextra ? py_rd64(ts->extra[ts->nextra - 1].buf,
						     L->chunk.previous) :
				 py_rd64(hdr, L->chunk.previous);

		if (prev && !chunk_of(s, addr, &size))
			chunk_learn(s, prev);
		c = chunk_of(s, addr, &size);
		if (c && addr + s->hdr <= c + size &&
		    region_fill(&ts->extra[ts->nextra], s->p->mem, c,
				(size_t)(addr + s->hdr - c))) {
			ts->nextra++;
			return region_at(&ts->extra[ts->nextra - 1], addr, s->hdr);
		}
	}
	note_single(ts, addr);
	if ((h = prefetched(&ts->pre, addr)))
		return h;
	if (mem_read(s->p->mem, addr, s->scratch, s->hdr, NULL))
		return NULL;
	return s->scratch;
}

/* ---- the thread list ------------------------------------------------- */

static int interps_load(struct py_sampler *s, struct err *e)
{
	const struct py_layout *L = &s->p->L;
	uint64_t addrs[PY_MAX_INTERPS];
	size_t n;
	int rc;

	rc = py_interp_list(s->p, addrs, &n, e);
	if (rc)
		return rc;
	free(s->interps);
	s->interps = xcalloc(n + 1, sizeof(*s->interps));
	s->ninterps = n;
	/* Main interpreter first. */
	for (size_t i = 0; i < n; i++) {
		struct interp *it = &s->interps[i];

		it->addr = addrs[n - 1 - i];
		it->id = (int64_t)i;
		if (L->interp.id != LAYOUT_NONE)
			mem_read(s->p->mem, it->addr + (uint64_t)L->interp.id,
				 &it->id, sizeof(it->id), NULL);
		if (L->interp.ceval_gil != LAYOUT_NONE &&
		    (mem_read_u64(s->p->mem, it->addr +
				  (uint64_t)L->interp.ceval_gil, &it->gil, NULL) ||
		     !py_ptr_ok(it->gil)))
			it->gil = 0;
	}
	s->interp_head = n ? addrs[0] : 0;
	return 0;
}

static struct mem_span *span_add(struct py_sampler *s, size_t *n,
				 uint64_t addr, void *buf, size_t len)
{
	s->spans = xgrow(s->spans, &s->spans_cap, *n + 1, sizeof(*s->spans));
	s->spans[*n] = (struct mem_span){ addr, buf, len, false };
	return &s->spans[(*n)++];
}

/* The GIL words: a process-wide holder (<=3.11), or per interpreter the
 * lock's 'locked' and 'last_holder' (3.12+). */
static uint64_t holder_word(const struct py_sampler *s)
{
	const struct py_proc *p = s->p;

	if (p->tstate_current)
		return p->tstate_current;
	if (p->L.runtime.tstate_current != LAYOUT_NONE)
		return p->runtime + (uint64_t)p->L.runtime.tstate_current;
	return 0;
}

/* Chunk bytes read ahead past the last top: room for a few new frames. */
#define CHUNK_SLACK 2048u

/*
 * Add to the first batch what thread ts (as of the last sample, when it
 * was wanted) will likely need: its cframe word, its current chunk up to
 * a little past the last top, its older chunks, its frames read alone.
 */
static void spec_spans(struct py_sampler *s, struct tslot *ts, size_t *n)
{
	ts->spec_word_span = ts->chunk_span = ts->extra_span = SIZE_MAX;
	ts->pre_span = SIZE_MAX;
	ts->nspec_extra = 0;
	/* Thread by thread, nothing is read before its hold. */
	if (!ts->keep || s->o.hold) {
		ts->spec_cframe = 0;
		return;
	}
	if (ts->spec_cframe) {
		ts->spec_word_span = *n;
		span_add(s, n, ts->spec_cframe +
			 (uint64_t)s->p->L.tstate.cframe_frame, &ts->spec_word, 8);
	}
	if (ts->chunk.len) {
		const struct py_layout *L = &s->p->L;
		uint64_t size = py_rd64(ts->chunk.buf, L->chunk.size);
		size_t len = ts->chunk.len + CHUNK_SLACK;

		if (size >= (uint64_t)L->chunk.data && size <= MAX_CHUNK_READ &&
		    len > size)
			len = (size_t)size;
		if (len > ts->chunk.cap) {
			ts->chunk.buf = xrealloc(ts->chunk.buf, len);
			ts->chunk.cap = len;
		}
		ts->chunk_span = *n;
		span_add(s, n, ts->chunk.lo, ts->chunk.buf, len);
	}
	if (ts->nextra) {
		ts->extra_span = *n;
		for (size_t i = 0; i < ts->nextra; i++)
			span_add(s, n, ts->extra[i].lo, ts->extra[i].buf,
				 ts->extra[i].len);
		ts->nspec_extra = ts->nextra;
	}
	if (ts->pre.n) {
		ts->pre_span = *n;
		for (size_t j = 0; j < ts->pre.nrange; j++)
			span_add(s, n, ts->pre.range[j].lo,
				 ts->pre.buf + ts->pre.range[j].off,
				 ts->pre.range[j].len);
	}
}

/* Note which of the spans of spec_spans() arrived. */
static void spec_done(struct py_sampler *s, struct tslot *ts)
{
	if (ts->spec_word_span != SIZE_MAX && !s->spans[ts->spec_word_span].ok)
		ts->spec_cframe = 0;
	if (ts->chunk_span != SIZE_MAX)
		ts->chunk.len = s->spans[ts->chunk_span].ok ?
				s->spans[ts->chunk_span].len : 0;
	else
		ts->chunk.len = 0;
	for (size_t i = 0; i < ts->nspec_extra; i++)
		if (!s->spans[ts->extra_span + i].ok)
			ts->extra[i].len = 0;
	ts->nextra = ts->nspec_extra;
	for (size_t j = 0; ts->pre_span != SIZE_MAX && j < ts->pre.nrange; j++) {
		const struct pre_range *r = &ts->pre.range[j];

		for (size_t i = r->first; i < r->first + r->count; i++)
			ts->pre.ok[i] = s->spans[ts->pre_span + j].ok;
	}
	if (ts->pre_span == SIZE_MAX)
		ts->pre.n = 0;
}

/* Slot buffers of the previous sample's thread at tstate, or NULL. */
static struct tslot *slot_of(struct tslot *v, size_t n, uint64_t tstate)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tstate == tstate)
			return &v[i];
	return NULL;
}

/*
 * Read the interpreter and thread lists, the GIL words and every thread
 * state known from the last sample in one batch; walk the lists from
 * there, reading only thread states that are new.
 */
static int read_thread_list(struct py_sampler *s, struct err *e)
{
	const struct py_layout *L = &s->p->L;
	struct tslot *old = s->slots;
	size_t nold = s->nslots, nspans = 0, nts, nok;
	size_t bound = py_threads_bound(s->o.ntids);
	uint64_t head = 0, gilw = holder_word(s);
	int rc;

	span_add(s, &nspans, s->p->runtime + (uint64_t)L->runtime.interpreters_head,
		 &head, 8);
	if (gilw)
		span_add(s, &nspans, gilw, &s->holder, 8);
	for (size_t i = 0; i < s->ninterps; i++) {
		struct interp *it = &s->interps[i];

		span_add(s, &nspans, it->addr + (uint64_t)L->interp.threads_head,
			 &it->head, 8);
		if (it->gil) {
			span_add(s, &nspans, it->gil + (uint64_t)L->gil.locked,
				 &it->locked, sizeof(it->locked));
			span_add(s, &nspans, it->gil + (uint64_t)L->gil.last_holder,
				 &it->holder, 8);
		}
	}
	for (size_t i = 0; i < nold; i++)
		span_add(s, &nspans, old[i].tstate, old[i].ts, s->tsize);
	nts = nspans;
	for (size_t i = 0; i < nold; i++)
		spec_spans(s, &old[i], &nspans);
	mem_read_spans(s->p->mem, s->spans, nspans);
	nok = 0;
	for (size_t i = 0; i < nts; i++)
		nok += s->spans[i].ok;
	for (size_t i = 0; i < nold; i++)
		spec_done(s, &old[i]);
	if (!s->spans[0].ok) {
		/* Not even the runtime: say why with one plain read. */
		rc = mem_read_u64(s->p->mem, s->p->runtime +
				  (uint64_t)L->runtime.interpreters_head, &head, e);
		return rc ? rc : err_set(e, SS_EREAD, "cannot read the "
					 "interpreter list");
	}
	for (size_t i = 0; i < nold; i++)
		old[i].ts_ok = s->spans[nts - nold + i].ok;
	if (head != s->interp_head || (s->ninterps && nok < nts - nold)) {
		rc = interps_load(s, e);
		if (rc)
			return rc;
		for (size_t i = 0; i < s->ninterps; i++) {
			struct interp *it = &s->interps[i];

			it->holder = 0;
			if (mem_read_u64(s->p->mem, it->addr +
					 (uint64_t)L->interp.threads_head,
					 &it->head, NULL))
				it->head = 0;
			if (it->gil && (mem_read(s->p->mem, it->gil +
						 (uint64_t)L->gil.locked,
						 &it->locked, 4, NULL) ||
					mem_read_u64(s->p->mem, it->gil +
						     (uint64_t)L->gil.last_holder,
						     &it->holder, NULL)))
				it->holder = 0;
		}
	}

	/* Walk each list; the previous sample's slots move over or go to
	 * the spares. */
	s->slots = NULL;
	s->nslots = s->slots_cap = 0;
	s->left_out = false;
	addrset_clear(&s->seen);
	for (size_t k = 0; k < s->ninterps; k++) {
		struct interp *it = &s->interps[k];
		uint64_t holder = it->gil ? (it->locked ? it->holder : 0) :
				  s->holder;
		uint64_t t = it->head;
		size_t first = s->nslots;

		while (t && s->nslots - first < bound) {
			struct tslot *o = slot_of(old, nold, t), *ns;

			if (!py_ptr_ok(t) || !addrset_add(&s->seen, t))
				break;
			s->slots = xgrow(s->slots, &s->slots_cap, s->nslots + 1,
					 sizeof(*s->slots));
			ns = &s->slots[s->nslots];
			if (o) {
				*ns = *o;
				o->tstate = 0; /* moved */
				o->ts = NULL;
			} else if (s->nspare) {
				*ns = s->spare[--s->nspare];
				ns->ts_ok = false;
				ns->chunk.len = 0;
				ns->nextra = 0;
				ns->pre.n = 0;
				ns->nmet = 0;
				ns->spec_cframe = 0;
			} else {
				memset(ns, 0, sizeof(*ns));
				ns->ts = xmalloc(s->tsize);
			}
			ns->tstate = t;
			if (!ns->ts_ok)
				ns->ts_ok = !mem_read(s->p->mem, t, ns->ts, s->tsize,
						      NULL);
			if (!ns->ts_ok) {
				/* Gone meanwhile: its buffers are spare. */
				s->spare = xgrow(s->spare, &s->spare_cap,
						 s->nspare + 1, sizeof(*s->spare));
				s->spare[s->nspare++] = *ns;
				break;
			}
			ns->t.interp_id = it->id;
			ns->t.holds_gil = holder && holder == t;
			s->nslots++;
			t = py_rd64(ns->ts, L->tstate.next);
		}
		if (t && s->nslots - first >= bound)
			s->left_out = true;
		/* Newest first in the list: creation order reads better. */
		for (size_t i = first, j = s->nslots; i + 1 < j; i++, j--) {
			struct tslot tmp = s->slots[i];

			s->slots[i] = s->slots[j - 1];
			s->slots[j - 1] = tmp;
		}
	}
	for (size_t i = 0; i < nold; i++) {
		if (!old[i].ts)
			continue;
		s->spare = xgrow(s->spare, &s->spare_cap, s->nspare + 1,
				 sizeof(*s->spare));
		s->spare[s->nspare++] = old[i];
	}
	free(old);
	return 0;
}

/* ---- per thread ------------------------------------------------------ */

static const char *name_known(const struct py_sampler *s, uint64_t ident)
{
	for (size_t i = 0; i < s->nnames; i++)
		if (s->names[i].ident == ident)
			return s->names[i].name;
	return NULL;
}

/* Ids, names and which threads are wanted.  threading's names are read
 * again when a thread has none, at most once per NAMES_RETRY_NS, and
 * before any name of this sample is handed out. */
static void fill_threads(struct py_sampler *s, uint64_t now)
{
	const struct py_layout *L = &s->p->L;
	bool unnamed = false;

	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		struct sample_thread *t = &ts->t;

		t->thread_id = py_rd64(ts->ts, L->tstate.thread_id);
		t->tstate = ts->tstate;
		unnamed |= !name_known(s, t->thread_id);
	}
	if (unnamed && s->ninterps &&
	    (!s->names_read || now - s->names_ns >= NAMES_RETRY_NS)) {
		py_thread_names_free(s->names, s->nnames);
		s->nnames = py_thread_names_read(s->p, s->interps[0].addr,
						 py_threads_bound(s->o.ntids),
						 &s->names);
		s->names_read = true;
		s->names_ns = now;
	}
	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		struct sample_thread *t = &ts->t;

		if (L->tstate.native_thread_id != LAYOUT_NONE) {
			t->native_id = py_ns_host(s->o.ns,
					(int64_t)py_rd64(ts->ts,
						L->tstate.native_thread_id));
		} else {
			/* A read of glibc's struct pthread: cached. */
			if (ts->native_for != t->thread_id ||
			    now - ts->native_ns >= (ts->native_id > 0 ?
						    NAMES_CHECK_NS :
						    NAMES_RETRY_NS)) {
				/* The TIDs known at the start only serve to
				 * find the offset: later threads are not in
				 * them. */
				bool cal = s->p->pthread_tid_offset < 0;
				const pid_t *own = s->o.tids;
				size_t nown = s->o.ntids;

				if (cal && s->o.ns)
					nown = s->o.ns->own_tids(s->o.ns->ctx,
								 &own);
				ts->native_id = py_thread_native_id(s->p, ts->ts,
						cal ? own : NULL, cal ? nown : 0);
				ts->native_id = py_ns_host(s->o.ns,
							   ts->native_id);
				ts->native_for = t->thread_id;
				ts->native_ns = now;
			}
			t->native_id = ts->native_id;
		}
		t->name = name_known(s, t->thread_id);
		t->torn = t->truncated = false;
		t->first = t->nframes = 0;
		ts->keep = !s->o.keep || s->o.keep(s->o.keep_arg, t);
	}
}

/* Is slot i read in this pass: every wanted one, or only slot 'only'? */
static bool in_pass(const struct py_sampler *s, size_t i, size_t only)
{
	return s->slots[i].keep && (only == SIZE_MAX || i == only);
}

/* 3.11+: the current chunks of the wanted threads (or of slot 'only'),
 * one batch. */
static void read_chunks(struct py_sampler *s, size_t only)
{
	const struct py_layout *L = &s->p->L;
	size_t n = 0;

	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		uint64_t c = py_rd64(ts->ts, L->tstate.datastack_chunk);
		uint64_t top = py_rd64(ts->ts, L->tstate.datastack_top);
		size_t len;

		if (only != SIZE_MAX && i != only)
			continue;
		ts->span = SIZE_MAX;
		if (!ts->keep || !py_ptr_ok(c) ||
		    top <= c + (uint64_t)L->chunk.data || top - c > MAX_CHUNK_READ) {
			ts->chunk.len = 0;
			continue;
		}
		len = (size_t)(top - c);
		/* Read ahead in the first batch, and covers the stack: only
		 * what lies below the top is the stack. */
		if (ts->chunk.len && ts->chunk.lo == c && len <= ts->chunk.len) {
			ts->chunk.len = len;
			continue;
		}
		ts->chunk.len = 0;
		if (len > ts->chunk.cap) {
			ts->chunk.buf = xrealloc(ts->chunk.buf, len);
			ts->chunk.cap = len;
		}
		ts->chunk.lo = c;
		ts->span = n;
		span_add(s, &n, c, ts->chunk.buf, len);
	}
	mem_read_spans(s->p->mem, s->spans, n);
	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];

		if (only != SIZE_MAX && i != only)
			continue;
		if (ts->span != SIZE_MAX && s->spans[ts->span].ok)
			ts->chunk.len = s->spans[ts->span].len;
	}
}

/* 3.11/3.12: tstate->cframe->current_frame, one batch; else the frame
 * pointer in the thread state.  Of every thread, or of slot 'only'. */
static void read_top_frames(struct py_sampler *s, size_t only)
{
	const struct py_layout *L = &s->p->L;
	size_t n = 0;

	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		uint64_t f = py_rd64(ts->ts, L->tstate.frame);

		if (only != SIZE_MAX && i != only)
			continue;
		ts->frame = L->tstate.cframe_frame == LAYOUT_NONE ? f : 0;
		if (!ts->keep || L->tstate.cframe_frame == LAYOUT_NONE ||
		    !py_ptr_ok(f))
			continue;
		/* The cframe (on the eval loop's C stack) rarely moves: its
		 * word was read ahead when it is the same one. */
		if (ts->spec_cframe == f) {
			ts->frame = ts->spec_word;
			continue;
		}
		ts->spec_cframe = f;
		span_add(s, &n, f + (uint64_t)L->tstate.cframe_frame,
			 &ts->frame, 8);
	}
	if (n)
		mem_read_spans(s->p->mem, s->spans, n);
	for (size_t i = 0; i < n; i++)
		if (!s->spans[i].ok)
			*(uint64_t *)s->spans[i].buf = 0;
	/* Without a cframe in use the read-ahead word means nothing. */
	for (size_t i = 0; i < s->nslots; i++)
		if (!in_pass(s, i, only))
			s->slots[i].spec_cframe = 0;
}

/* The walker's view of the frames: see frame_header(). */
static const uint8_t *walk_header(void *arg, uint64_t addr)
{
	struct py_sampler *s = arg;

	return frame_header(s, s->walking, addr);
}

/* A frame of the thread walked: its code and instruction, resolved once
 * the sample's code objects are checked. */
static enum py_walk_step walk_frame(void *arg, const struct py_walk_frame *f)
{
	struct py_sampler *s = arg;
	const struct py_layout *L = &s->p->L;
	size_t i = s->nraw++;

	if (i == s->raw_cap) {
		s->raw_code = xgrow(s->raw_code, &s->raw_cap, i + 1,
				    sizeof(*s->raw_code));
		s->raw_instr = xrealloc(s->raw_instr,
					s->raw_cap * sizeof(*s->raw_instr));
		s->raw_act = xrealloc(s->raw_act,
				      s->raw_cap * sizeof(*s->raw_act));
	}
	s->raw_code[i] = f->code;
	s->raw_act[i] = f->activation;
	if (L->frame.kind == LAYOUT_FRAME_OBJECT) {
		int32_t lasti;

		memcpy(&lasti, f->hdr + L->frame.lasti, sizeof(lasti));
		s->raw_instr[i] = (uint64_t)(int64_t)lasti;
	} else {
		s->raw_instr[i] = py_rd64(f->hdr, L->frame.instr_ptr);
	}
	return PY_WALK_KEEP;
}

/* An entry frame of the held thread's walk (3.12+): where its
 * activation lives on the C stack. */
static void walk_entry(void *arg, uint64_t addr, unsigned activation)
{
	struct py_sampler *s = arg;

	if (activation >= PY_MAX_FRAMES)
		return;
	if (activation >= s->nentry_at) {
		s->entry_at = xgrow(s->entry_at, &s->entry_at_cap,
				    activation + 1, sizeof(*s->entry_at));
		memset(s->entry_at + s->nentry_at, 0, (activation + 1 -
		       s->nentry_at) * sizeof(*s->entry_at));
		s->nentry_at = activation + 1;
	}
	s->entry_at[activation] = addr;
}

/* Walk one thread's frames into s->raw_*; false when the chain broke. */
static bool walk(struct py_sampler *s, struct tslot *ts)
{
	s->walking = ts;
	switch (py_frames_walk_inline(&s->walker, ts->frame, walk_header,
				      walk_frame, s, NULL)) {
	case PY_WALK_TRUNCATED:
		ts->t.truncated = true;
		return true;
	case PY_WALK_BROKEN:
		return false;
	default:
		return true;
	}
}

/* Location index (see py_code_location) of raw frame i, or INT32_MIN
 * when it cannot be the code's (torn). */
static int raw_lasti(const struct py_sampler *s, size_t i,
		     const struct py_code *c)
{
	const struct py_layout *L = &s->p->L;
	int64_t idx;

	if (L->frame.kind == LAYOUT_FRAME_OBJECT) {
		int64_t lasti = (int64_t)s->raw_instr[i];

		return lasti < 0 ? -1 : (int)(lasti * L->frame.lasti_scale);
	}
	idx = ((int64_t)s->raw_instr[i] - (int64_t)(s->raw_code[i] +
		(uint64_t)L->code.code_adaptive)) / 2;
	/* instr_ptr may sit one before the first instruction (not
	 * started: 3.11 prev_instr) */
	if (idx < -1 || (c->ncode_units && idx > (int64_t)c->ncode_units))
		return INT32_MIN;
	return idx < 0 ? -1 : (int)idx;
}

/* Turn the raw frames of thread t into sample frames. */
static void resolve(struct py_sampler *s, struct sample_thread *t,
		    size_t from, size_t to, struct sample *out)
{
	t->first = out->nframes;
	for (size_t i = from; i < to; i++) {
		struct py_code *c = py_code_get_checked(s->p, s->raw_code[i],
							s->nsample);
		struct sample_frame *f;
		int lasti;

		if (!c || (lasti = raw_lasti(s, i, c)) == INT32_MIN) {
			t->torn = true;
			break;
		}
		if (c->shim)
			continue;
		if (!c->key)
			c->key = s->next_key++;
		if (lasti != c->memo_lasti) {
			struct py_location loc;

			py_code_location(s->p, c, lasti, &loc);
			c->memo_lasti = lasti;
			c->memo_line = loc.line;
		}
		out->frames = xgrow(out->frames, &out->frames_cap,
				    out->nframes + 1, sizeof(*out->frames));
		f = &out->frames[out->nframes++];
		f->code_key = c->key;
		f->line = c->memo_line;
		f->first_line = c->firstlineno;
		f->function = c->name;
		f->filename = c->filename;
		f->native = false;
		f->internal = false;
		f->activation = s->raw_act[i];
	}
	t->nframes = out->nframes - t->first;
}

/* ---- the sampler ----------------------------------------------------- */

/* Bytes of a thread state the sampler uses: up to its last field read
 * (a thread state runs to kilobytes; fewer pages copied per sample). */
static size_t tstate_prefix(const struct py_layout *L)
{
	const int fields[] = {
		L->tstate.next, L->tstate.frame, L->tstate.thread_id,
		L->tstate.native_thread_id, L->tstate.datastack_chunk,
		L->tstate.datastack_top, L->tstate.base_frame,
	};
	int end = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i] != LAYOUT_NONE && fields[i] + 8 > end)
			end = fields[i] + 8;
	return end > L->tstate.size ? (size_t)L->tstate.size : (size_t)end;
}

struct py_sampler *py_sampler_new(struct py_proc *p,
				  const struct py_sampler_opts *o)
{
	struct py_sampler *s = xcalloc(1, sizeof(*s));

	s->p = p;
	if (o)
		s->o = *o;
	s->o.tids = NULL;
	s->o.ntids = 0;
	py_sampler_set_tids(s, o ? o->tids : NULL, o ? o->ntids : 0);
	s->tsize = tstate_prefix(&p->L);
	s->hdr = (size_t)p->L.frame.localsplus;
	s->next_key = 1;
	s->scratch = xmalloc(s->hdr ? s->hdr : 1);
	s->walker.p = p;
	s->walker.sampling = true;
	s->walker.header = walk_header;
	s->walker.header_arg = s;
	/* Only the held thread's: the others' would need a range each. */
	if (s->o.hold)
		s->walker.entry = walk_entry;
	addrset_init(&s->seen);
	return s;
}

void py_sampler_set_tids(struct py_sampler *s, const pid_t *tids,
			 size_t ntids)
{
	pid_t *copy = NULL;

	if (ntids) {
		copy = xmalloc(ntids * sizeof(*copy));
		memcpy(copy, tids, ntids * sizeof(*copy));
	}
	free((void *)s->o.tids);
	s->o.tids = copy;
	s->o.ntids = ntids;
}

static void slot_release(struct tslot *ts)
{
	free(ts->pre.addr);
	free(ts->pre.off);
	free(ts->pre.range);
	free(ts->pre.buf);
	free(ts->pre.ok);
	free(ts->met);
	free(ts->ts);
	free(ts->chunk.buf);
	for (size_t i = 0; i < MAX_REGIONS; i++)
		free(ts->extra[i].buf);
}

void py_sampler_free(struct py_sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++)
		slot_release(&s->slots[i]);
	for (size_t i = 0; i < s->nspare; i++)
		slot_release(&s->spare[i]);
	free(s->slots);
	free(s->spare);
	free(s->interps);
	py_thread_names_free(s->names, s->nnames);
	free(s->raw_code);
	free(s->raw_instr);
	free(s->raw_act);
	free(s->entry_at);
	free(s->spans);
	free(s->scratch);
	free((void *)s->o.tids);
	addrset_release(&s->seen);
	mem_cache_enable(s->p->mem, false);
	free(s);
}

static bool uses_chunks(const struct py_layout *L)
{
	return L->frame.kind == LAYOUT_FRAME_INTERP &&
	       L->tstate.datastack_chunk != LAYOUT_NONE;
}

/* Append slot ts's thread to out, its raw frames from..to resolved. */
static void emit(struct py_sampler *s, struct tslot *ts, size_t from,
		 size_t to, struct sample *out)
{
	struct sample_thread *t;

	out->threads = xgrow(out->threads, &out->threads_cap,
			     out->nthreads + 1, sizeof(*out->threads));
	t = &out->threads[out->nthreads++];
	*t = ts->t;
	t->eval_at = s->o.hold ? s->entry_at : NULL;
	t->neval_at = s->o.hold ? s->nentry_at : 0;
	resolve(s, t, from, to, out);
}

/*
 * 3.11/3.12, thread by thread: each activation's _PyCFrame, a local of
 * its C frame, is where it lives on the C stack (3.11's entry frames are
 * in the data stack, not the C stack): tstate->cframe chains them from
 * the innermost by 'previous' (the word after current_frame) down to the
 * thread state's root_cframe, which runs no activation.  Read while the
 * thread is held, as many links as the walk counted activations.
 */
static void held_cframes(struct py_sampler *s, struct tslot *ts)
{
	const struct py_layout *L = &s->p->L;
	uint64_t cframe;
	unsigned n = 0;

	if (L->tstate.cframe_frame == LAYOUT_NONE ||
	    L->frame.is_entry == LAYOUT_NONE)
		return;
	for (size_t i = 0; i < s->nraw; i++)
		if (s->raw_act[i] + 1 > n)
			n = s->raw_act[i] + 1;
	cframe = py_rd64(ts->ts, L->tstate.frame);
	for (unsigned k = 0; k < n && py_ptr_ok(cframe); k++) {
		walk_entry(s, cframe, k);
		if (mem_read_u64(s->p->mem, cframe +
				 (uint64_t)L->tstate.cframe_frame + 8, &cframe,
				 NULL))
			break;
	}
}

/* Thread by thread: slot i's thread state and raw frames, read while
 * its thread is held.  False when its thread state is gone. */
static bool read_held(struct py_sampler *s, size_t i)
{
	struct tslot *ts = &s->slots[i];

	mem_cache_reset(s->p->mem);
	ts->spec_cframe = 0;
	ts->chunk.len = 0;
	ts->nextra = 0;
	ts->pre.n = 0;
	s->nraw = 0;
	s->nentry_at = 0;
	ts->t.first = 0;
	ts->t.torn = ts->t.truncated = false;
	if (mem_read(s->p->mem, ts->tstate, ts->ts, s->tsize, NULL)) {
		ts->t.torn = true; /* gone while held: no stack */
		return false;
	}
	read_top_frames(s, i);
	if (uses_chunks(&s->p->L))
		read_chunks(s, i);
	if (!walk(s, ts))
		ts->t.torn = true;
	held_cframes(s, ts);
	return true;
}

/*
 * Thread by thread (py_sampler_opts.hold): each wanted thread held, its
 * thread state read again (what the list's read saw may be older than
 * the hold) and its frame chain read, then released; its code objects
 * checked and its frames resolved after (code objects do not change
 * under a running thread), then done, before the next thread.  A release
 * that says the read was not of one instant has it read again, once.
 * Pages cached before a hold may be older than it: dropped at each.
 */
static int take_each(struct py_sampler *s, struct sample *out)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		bool read = false;

		for (int again = 0; ts->keep && again < 2; again++) {
			if (!s->o.hold(s->o.keep_arg, &ts->t)) {
				ts->keep = false;
				break;
			}
			read = read_held(s, i);
			if (!s->o.release ||
			    s->o.release(s->o.keep_arg, &ts->t))
				break;
		}
		if (!ts->keep)
			continue;
		if (read)
			prefetch_plan(s, ts);
		codes_check(s);
		emit(s, ts, 0, s->nraw, out);
		s->o.done(s->o.keep_arg, &out->threads[out->nthreads - 1],
			  out);
	}
	return 0;
}

int py_sampler_take(struct py_sampler *s, uint64_t now, struct sample *out,
		    struct err *e)
{
	int rc;

	out->nthreads = out->nframes = 0;
	if (s->tsize > 4096 || s->hdr > 512 || !s->hdr)
		return err_set(e, SS_EBADBUILD, "thread state or frame "
			       "layout too large");
	/* Whole pages for what is read one piece at a time (frame objects
	 * before 3.11, code objects), valid for this sample only. */
	mem_cache_enable(s->p->mem, true);
	mem_cache_reset(s->p->mem);
	s->nsample++;
	/* Start the code cache again before it fills, never mid-sample:
	 * frames already resolved point into it. */
	if (py_code_count(s->p) >= PY_CODE_CACHE_MAX)
		py_proc_forget(s->p);
	codes_sweep(s, now);
	rc = read_thread_list(s, e);
	if (rc)
		return rc;
	out->threads_left_out = s->left_out;
	fill_threads(s, now);
	if (s->o.hold)
		return take_each(s, out);
	read_top_frames(s, SIZE_MAX);
	if (uses_chunks(&s->p->L))
		read_chunks(s, SIZE_MAX);
	s->nraw = 0;
	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];

		ts->t.first = s->nraw; /* raw index until resolved */
		if (ts->keep && !walk(s, ts))
			ts->t.torn = true;
		if (ts->keep)
			prefetch_plan(s, ts);
		ts->t.nframes = s->nraw - ts->t.first;
	}
	codes_check(s);
	for (size_t i = 0; i < s->nslots; i++) {
		struct tslot *ts = &s->slots[i];
		size_t from = ts->t.first, n = ts->t.nframes;

		if (ts->keep)
			emit(s, ts, from, from + n, out);
	}
	return 0;
}

