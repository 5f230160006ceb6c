#include <config.h>

#include "pystructs/code.h"
#include "pystructs/object.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define LINETABLE_MAX (1u << 20)
/* The table starts this small and doubles as it fills (half full). */
#define CODE_SLOTS_MIN 1024u
/* py_code_get_checked() lets it grow to this many slots at most (open
 * addressing, a power of two); past it, a code object is given up. */
#define CODE_SLOTS_CHECKED (2 * PY_CODE_CACHE_MAX)
/* A code object's name, file name or line table is compared with the
 * target's up to this many bytes (a longer line table: its start). */
#define CODE_PART_MAX 4096u

/*
 * One cache of decoded code objects per py_proc, for dumps and the
 * sampler alike: an open-addressed table keyed by remote address.  A
 * dump only decodes (py_code_get) and drops everything between
 * snapshots (py_proc_forget).  The sampler keeps code objects across
 * samples, so what it decodes carries what must not change for the
 * object to still be the same (py_code_get_checked), checked again in
 * every sample that uses it (py_code_check) and swept when unused
 * (py_code_sweep): addresses are reused.
 */

/* What must not change for a cached code object to still be the same:
 * the header's fields ... */
struct code_fp {
	uint64_t type, filename, name, linetable;
	int32_t firstlineno;
};

/* ... and what they point to.  A code object made with exec() in a loop
 * dies with its name, file name and line table, and the next one is
 * often allocated in their places: the same pointers, other text.  So
 * the parts' bytes (with the NUL that ends them, which tells a longer
 * text from its prefix) are read again and hashed. */
enum { CODE_NAME, CODE_FILE, CODE_TABLE, CODE_PARTS };

struct code_slot {
	uint64_t addr;           /* 0: empty */
	struct py_code *c;       /* owned; NULL: stale (changed, dropped) */
	bool fp_ok;              /* fp, part and digest were taken */
	uint64_t checked;        /* the sample it was last checked in */
	struct code_fp fp;
	uint64_t part[CODE_PARTS]; /* where the parts' bytes are */
	uint32_t part_len[CODE_PARTS]; /* how many are compared; 0: none */
	uint64_t digest;         /* of those bytes */
};

struct code_cache {
	struct code_slot *slots;
	size_t nslots;           /* a power of two */
	size_t nused;            /* slots used, stale ones too */
	struct code_slot *moving; /* the live slots, while rehashing */
	size_t moving_cap;
	struct code_slot **check; /* what py_code_check reads again */
	size_t check_cap;
	uint8_t *buf;            /* headers and parts, as read */
	size_t buf_cap;
	struct mem_span *spans;
	size_t spans_cap;
};

static void code_release(struct py_code *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->filename);
	free(c->linetable);
	free(c);
}

static struct code_cache *cache_of(struct py_proc *p)
{
	if (!p->codes) {
		p->codes = xcalloc(1, sizeof(*p->codes));
		p->codes->slots = xcalloc(CODE_SLOTS_MIN, sizeof(struct code_slot));
		p->codes->nslots = CODE_SLOTS_MIN;
	}
	return p->codes;
}

void code_cache_free(struct code_cache *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < cc->nslots; i++)
		code_release(cc->slots[i].c);
	free(cc->slots);
	free(cc->moving);
	free(cc->check);
	free(cc->buf);
	free(cc->spans);
	free(cc);
}

static size_t code_hash(const struct code_cache *cc, uint64_t addr)
{
	return (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ULL >> 40) &
	       (cc->nslots - 1);
}

/* The slot of addr, or the empty one where it would go. */
static struct code_slot *code_find(struct code_cache *cc, uint64_t addr)
{
	size_t mask = cc->nslots - 1;

	for (size_t i = code_hash(cc, addr);; i = (i + 1) & mask) {
		if (cc->slots[i].addr == addr || !cc->slots[i].addr)
			return &cc->slots[i];
	}
}

/* Put the live slots into a table of n slots (stale ones are left
 * behind); the same table when n is its size (a sweep every few seconds
 * must not churn the heap).  Pointers to slots become invalid. */
static void code_rehash(struct code_cache *cc, size_t n)
{
	size_t live = 0;

	for (size_t i = 0; i < cc->nslots; i++) {
		if (!cc->slots[i].addr || !cc->slots[i].c)
			continue;
		cc->moving = xgrow(cc->moving, &cc->moving_cap, live + 1,
				   sizeof(*cc->moving));
		cc->moving[live++] = cc->slots[i];
	}
	if (n != cc->nslots) {
		free(cc->slots);
		cc->slots = xcalloc(n, sizeof(*cc->slots));
		cc->nslots = n;
	} else {
		memset(cc->slots, 0, n * sizeof(*cc->slots));
	}
	for (size_t i = 0; i < live; i++)
		*code_find(cc, cc->moving[i].addr) = cc->moving[i];
	cc->nused = live;
}

/* The slot for addr, making room for it (doubling when half full, up to
 * 'limit' slots); NULL when there is none. */
static struct code_slot *code_slot_for(struct code_cache *cc, uint64_t addr,
				       size_t limit)
{
	struct code_slot *cs = code_find(cc, addr);

	if (!cs->addr && 2 * (cc->nused + 1) > cc->nslots &&
	    cc->nslots < limit) {
		code_rehash(cc, 2 * cc->nslots);
		cs = code_find(cc, addr);
	}
	if (!cs->addr && cc->nused >= cc->nslots - 1)
		return NULL;
	return cs;
}

static void code_slot_set(struct code_cache *cc, struct code_slot *cs,
			  uint64_t addr, struct py_code *c)
{
	if (!cs->addr)
		cc->nused++;
	cs->addr = addr;
	cs->c = c;
}

static int read_str_field(struct py_proc *p, const uint8_t *hdr, int off,
			  char **out, struct err *e)
{
	return py_str_read(p, py_rd64(hdr, off), PY_CODE_NAME_MAX, out, NULL, e);
}

static int decode(struct py_proc *p, uint64_t addr, struct py_code *c,
		  struct err *e)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[512];
	uint64_t table;
	int32_t first;
	int rc;

	if ((size_t)L->code.size > sizeof(hdr))
		return err_set(e, SS_EBADBUILD, "bad code object layout");
	rc = py_check_type(p, addr, "code", &p->type_code, e);
	if (rc)
		return rc;
	rc = mem_read(p->mem, addr, hdr, (size_t)L->code.size, e);
	if (rc)
		return rc;
	c->addr = addr;
	c->memo_lasti = INT32_MIN;
	memcpy(&first, hdr + L->code.firstlineno, sizeof(first));
	c->firstlineno = first;
	if (L->code.ob_size != LAYOUT_NONE) {
		int64_t units;

		memcpy(&units, hdr + L->code.ob_size, sizeof(units));
		c->ncode_units = units > 0 && units < (1 << 28) ? (size_t)units : 0;
	}
	rc = read_str_field(p, hdr, L->code.qualname != LAYOUT_NONE ?
			    L->code.qualname : L->code.name, &c->name, e);
	if (!rc)
		rc = read_str_field(p, hdr, L->code.filename, &c->filename, e);
	if (rc)
		return rc;
	c->shim = L->frame.kind == LAYOUT_FRAME_INTERP &&
		  !strcmp(c->name, "__init__") && !strcmp(c->filename, "__init__");
	table = py_rd64(hdr, L->code.linetable);
	/* A missing line table costs the line numbers, not the frame. */
	if (py_bytes_read(p, table, LINETABLE_MAX, &c->linetable,
			  &c->linetable_len, NULL)) {
		c->linetable = NULL;
		c->linetable_len = 0;
	}
	return 0;
}

/* A newly decoded code object, or NULL with *e set. */
static struct py_code *code_new(struct py_proc *p, uint64_t addr,
				struct err *e)
{
	struct py_code *c = xcalloc(1, sizeof(*c));

	if (decode(p, addr, c, e)) {
		code_release(c);
		return NULL;
	}
	return c;
}

const struct py_code *py_code_get(struct py_proc *p, uint64_t addr,
				  struct err *e)
{
	struct code_cache *cc = cache_of(p);
	struct code_slot *cs = code_slot_for(cc, addr, SIZE_MAX);
	struct py_code *c;

	if (cs && cs->addr && cs->c)
		return cs->c;
	c = code_new(p, addr, e);
	if (!c || !cs) /* !cs: cannot happen, the table grows */
		return c;
	code_slot_set(cc, cs, addr, c);
	cs->fp_ok = false;
	cs->checked = 0;
	return c;
}

void py_code_forget(struct py_proc *p, uint64_t addr)
{
	struct code_slot *cs;

	if (!p->codes)
		return;
	cs = code_find(p->codes, addr);
	/* The slot stays (open addressing), now stale. */
	code_release(cs->c);
	cs->c = NULL;
}

size_t py_code_count(const struct py_proc *p)
{
	return p->codes ? p->codes->nused : 0;
}

/* ---- checked entries (the sampler) ---------------------------------- */

static void code_fp_of(const struct py_proc *p, const uint8_t *hdr,
		       struct code_fp *fp)
{
	const struct py_layout *L = &p->L;

	memset(fp, 0, sizeof(*fp));
	fp->type = py_rd64(hdr, L->object.ob_type);
	fp->filename = py_rd64(hdr, L->code.filename);
	fp->name = py_rd64(hdr, L->code.qualname != LAYOUT_NONE ?
			   L->code.qualname : L->code.name);
	fp->linetable = py_rd64(hdr, L->code.linetable);
	memcpy(&fp->firstlineno, hdr + L->code.firstlineno,
	       sizeof(fp->firstlineno));
}

/* Where the parts of the code object whose header cs->fp holds are; a
 * part that cannot be found is not compared (length 0). */
static void code_parts_of(struct py_proc *p, struct code_slot *cs)
{
	const uint64_t str[2] = { cs->fp.name, cs->fp.filename };
	uint64_t size;

	for (int i = CODE_NAME; i <= CODE_FILE; i++) {
		uint64_t data;
		size_t n;
		unsigned kind;

		cs->part_len[i] = 0;
		if (py_str_data(p, str[i], &data, &n, &kind, NULL))
			continue;
		cs->part[i] = data;
		cs->part_len[i] = n + kind > CODE_PART_MAX ? CODE_PART_MAX :
				  (uint32_t)(n + kind);
	}
	cs->part_len[CODE_TABLE] = 0;
	if (mem_read_u64(p->mem, cs->fp.linetable + (uint64_t)p->L.bytes.size,
			 &size, NULL) || size >= (1ULL << 31))
		return;
	cs->part[CODE_TABLE] = cs->fp.linetable + (uint64_t)p->L.bytes.data;
	cs->part_len[CODE_TABLE] = size + 1 > CODE_PART_MAX ? CODE_PART_MAX :
				   (uint32_t)(size + 1);
}

static size_t code_part_count(const struct code_slot *cs)
{
	size_t n = 0;

	for (int i = 0; i < CODE_PARTS; i++)
		n += cs->part_len[i] > 0;
	return n;
}

static size_t code_parts_size(const struct code_slot *cs)
{
	size_t n = 0;

	for (int i = 0; i < CODE_PARTS; i++)
		n += cs->part_len[i];
	return n;
}

/* FNV-1a over the parts, laid out one after the other in buf. */
static uint64_t code_parts_digest(const struct code_slot *cs,
				  const uint8_t *buf)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < CODE_PARTS; i++) {
		for (uint32_t k = 0; k < cs->part_len[i]; k++)
			h = (h ^ *buf++) * 0x100000001b3ULL;
		h = (h ^ (uint64_t)i) * 0x100000001b3ULL;
	}
	return h;
}

/* Put at cc->spans[at] the spans that read cs's header into hdr (unless
 * NULL) and its parts into buf; the number of spans put.  cc->spans must
 * have room for 1 + CODE_PARTS more. */
static size_t code_spans(const struct py_proc *p, struct code_cache *cc,
			 const struct code_slot *cs, uint8_t *hdr, uint8_t *buf,
			 size_t at)
{
	size_t n = 0;

	if (hdr)
		cc->spans[at + n++] = (struct mem_span){
			cs->addr, hdr, (size_t)p->L.code.size, false };
	for (int i = 0; i < CODE_PARTS; i++) {
		if (!cs->part_len[i])
			continue;
		cc->spans[at + n++] = (struct mem_span){
			cs->part[i], buf, cs->part_len[i], false };
		buf += cs->part_len[i];
	}
	return n;
}

/* Take the identity of the code object at addr into slot cs: its header's
 * fields, where its parts are and their digest. */
static bool code_fingerprint(struct py_proc *p, struct code_cache *cc,
			     struct code_slot *cs, uint64_t addr)
{
	uint8_t hdr[512];
	size_t n, len;

	if ((size_t)p->L.code.size > sizeof(hdr) ||
	    mem_read(p->mem, addr, hdr, (size_t)p->L.code.size, NULL))
		return false;
	cs->addr = addr;
	code_fp_of(p, hdr, &cs->fp);
	code_parts_of(p, cs);
	len = code_parts_size(cs);
	cc->buf = xgrow(cc->buf, &cc->buf_cap, len ? len : 1, 1);
	cc->spans = xgrow(cc->spans, &cc->spans_cap, CODE_PARTS,
			  sizeof(*cc->spans));
	n = code_spans(p, cc, cs, NULL, cc->buf, 0);
	if (mem_read_spans(p->mem, cc->spans, n) != n)
		return false;
	cs->digest = code_parts_digest(cs, cc->buf);
	return true;
}

/* py_code_get_checked() for a code object not in the cache (or stale,
 * or a dump's); kept out of line so that the hit stays one probe. */
static __attribute__((noinline)) struct py_code *code_enter_checked(struct py_proc *p, uint64_t addr,
					  uint64_t sample)
{
	struct code_cache *cc = cache_of(p);
	struct code_slot *cs = code_slot_for(cc, addr, CODE_SLOTS_CHECKED);
	struct code_slot id;
	struct py_code *c;

	if (!cs)
		return NULL; /* full: give up on this frame */
	/* The parts are hashed before the decode reads them: should they
	 * change in between, the next check sees it, and decodes again.  A
	 * code object a dump decoded is taken over with its identity as
	 * of now. */
	memset(&id, 0, sizeof(id));
	if (!code_fingerprint(p, cc, &id, addr))
		return NULL;
	c = cs->addr && cs->c ? cs->c : code_new(p, addr, NULL);
	if (!c)
		return NULL;
	id.c = c;
	id.fp_ok = true;
	id.checked = sample;
	if (!cs->addr)
		cc->nused++;
	*cs = id;
	return c;
}

struct py_code *py_code_get_checked(struct py_proc *p, uint64_t addr,
				    uint64_t sample)
{
	/* Once per frame and sample: the hit costs one probe. */
	if (p->codes) {
		struct code_slot *cs = code_find(p->codes, addr);

		if (cs->addr && cs->c && cs->fp_ok)
			return cs->c;
	}
	return code_enter_checked(p, addr, sample);
}

void py_code_check(struct py_proc *p, const uint64_t *addrs, size_t naddrs,
		   uint64_t sample)
{
	struct code_cache *cc = p->codes;
	const size_t csize = (size_t)p->L.code.size;
	size_t n = 0, nspans = 0, bytes = 0, at = 0;

	if (!cc)
		return;
	for (size_t i = 0; i < naddrs; i++) {
		struct code_slot *cs = code_find(cc, addrs[i]);

		if (!cs->addr || !cs->c || !cs->fp_ok || cs->checked == sample)
			continue;
		cs->checked = sample;
		cc->check = xgrow(cc->check, &cc->check_cap, n + 1,
				  sizeof(*cc->check));
		cc->check[n++] = cs;
	}
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		bytes += csize + code_parts_size(cc->check[i]);
	cc->buf = xgrow(cc->buf, &cc->buf_cap, bytes, 1);
	cc->spans = xgrow(cc->spans, &cc->spans_cap, n * (1 + CODE_PARTS),
			  sizeof(*cc->spans));
	for (size_t i = 0; i < n; i++) {
		uint8_t *hdr = cc->buf + at;

		nspans += code_spans(p, cc, cc->check[i], hdr, hdr + csize,
				     nspans);
		at += csize + code_parts_size(cc->check[i]);
	}
	mem_read_spans(p->mem, cc->spans, nspans);
	for (size_t i = 0, j = 0; i < n; i++) {
		struct code_slot *cs = cc->check[i];
		const uint8_t *hdr = cc->spans[j].buf;
		size_t end = j + 1 + code_part_count(cs);
		bool same = true;
		struct code_fp fp;

		for (; j < end; j++)
			same &= cc->spans[j].ok;
		if (same) {
			code_fp_of(p, hdr, &fp);
			same = !memcmp(&fp, &cs->fp, sizeof(fp)) &&
			       code_parts_digest(cs, hdr + csize) == cs->digest;
		}
		if (same)
			continue;
		/* Changed or gone: decoded again (under a new key) when next
		 * asked for.  The slot stays (open addressing), now stale. */
		code_release(cs->c);
		cs->c = NULL;
	}
}

void py_code_sweep(struct py_proc *p, uint64_t since)
{
	struct code_cache *cc = p->codes;
	size_t live = 0, n;

	if (!cc)
		return;
	n = cc->nslots;
	for (size_t i = 0; i < cc->nslots; i++) {
		struct code_slot *cs = &cc->slots[i];

		if (cs->addr && cs->c && cs->checked < since) {
			code_release(cs->c);
			cs->c = NULL;
		}
		live += cs->addr && cs->c;
	}
	/* Shrink when far too big for the rest: not to grow back at once. */
	while (n > CODE_SLOTS_MIN && 16 * live < n)
		n /= 2;
	code_rehash(cc, n);
}

void py_code_location(const struct py_proc *p, const struct py_code *c,
		      int lasti, struct py_location *loc)
{
	loc->line = loc->end_line = -1;
	loc->col = loc->end_col = -1;
	if (!c->linetable) {
		loc->line = c->firstlineno;
		return;
	}
	switch (p->L.code.linetable_kind) {
	case LAYOUT_LINES_LNOTAB:
		loc->line = linetable_lnotab_line(c->linetable, c->linetable_len,
						  c->firstlineno, lasti);
		break;
	case LAYOUT_LINES_LNOTAB27:
		loc->line = linetable_lnotab27_line(c->linetable,
						    c->linetable_len,
						    c->firstlineno, lasti);
		break;
	case LAYOUT_LINES_310:
		loc->line = linetable_310_line(c->linetable, c->linetable_len,
					       c->firstlineno, lasti);
		break;
	default:
		if (lasti < 0)
			loc->line = c->firstlineno;
		else
			linetable_locations(c->linetable, c->linetable_len,
					    c->firstlineno, lasti, loc);
		break;
	}
	loc->end_line = loc->end_line < 0 ? loc->line : loc->end_line;
}

/* Location index of a frame: byte offset (<=3.10) or code unit (3.11+). */
int py_frame_lasti(const struct py_proc *p, const uint8_t *fr, uint64_t code,
		   const struct py_code *c)
{
	const struct py_layout *L = &p->L;
	int64_t idx;

	if (L->frame.kind == LAYOUT_FRAME_OBJECT) {
		int32_t lasti;

		memcpy(&lasti, fr + L->frame.lasti, sizeof(lasti));
		if (lasti < 0 || L->frame.lasti_scale < 1 ||
		    lasti > INT32_MAX / L->frame.lasti_scale)
			return -1;
		return lasti * L->frame.lasti_scale;
	}
	idx = (int64_t)(py_rd64(fr, L->frame.instr_ptr) -
			(code + (uint64_t)L->code.code_adaptive)) / 2;
	if (idx < 0 || (c->ncode_units && (uint64_t)idx >= c->ncode_units))
		return -1;
	return (int)idx;
}

uint64_t py_frame_stack_end(const struct py_proc *p, uint64_t frame,
			    const uint8_t *fr)
{
	const struct py_layout *L = &p->L;
	uint64_t ptr;
	int32_t idx;

	switch (L->frame.stack_kind) {
	case LAYOUT_STACK_TOP_PTR:
	case LAYOUT_STACK_POINTER:
		ptr = py_rd64(fr, L->frame.stacktop);
		return py_ptr_ok(ptr) ? ptr : 0;
	case LAYOUT_STACK_DEPTH: /* f_valuestack + f_stackdepth */
		memcpy(&idx, fr + L->frame.stacktop, sizeof(idx));
		ptr = py_rd64(fr, L->frame.valuestack);
		if (idx < 0 || idx > 1 << 20 || !py_ptr_ok(ptr))
			return 0;
		return ptr + 8 * (uint64_t)idx;
	case LAYOUT_STACK_TOP_INDEX: /* an index into localsplus */
		memcpy(&idx, fr + L->frame.stacktop, sizeof(idx));
		if (idx < 0 || idx > 1 << 20)
			return 0;
		return frame + (uint64_t)L->frame.localsplus + 8 * (uint64_t)idx;
	default:
		return 0;
	}
}

void py_frame_set_location(const struct py_proc *p,
			   const struct py_location *loc, struct snap_frame *f)
{
	f->line = loc->line;
	f->end_line = f->column = f->end_column = -1;
	if (p->L.code.linetable_kind != LAYOUT_LINES_LOCATIONS || loc->line < 0)
		return;
	f->end_line = loc->end_line;
	f->column = loc->col;
	f->end_column = loc->end_col;
}
