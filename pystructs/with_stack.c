#include <config.h>

#include "pystructs/with_stack.h"
#include "pystructs/code.h"
#include "pystructs/object.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define STACK_SLOTS_MAX 512     /* value stack slots read */
#define EXC_ENTRIES_MAX 2048
#define EXC_TABLE_MAX (64u << 10)
#define BYTECODE_MAX (1u << 20)
#define HEADER_MAX 1024

/* ---- objects on the stack ------------------------------------------ */

/*
 * The object a stack item stands for: a bound method's self (the
 * __exit__ of `with X` on <=3.13, `X.acquire` on <=3.6), nothing for a
 * plain function or descriptor (3.14+ keeps those next to their self),
 * else the item itself.
 */
static uint64_t unwrap(struct py_proc *p, uint64_t v)
{
	const struct py_layout *L = &p->L;
	char type[PY_TNAME_CACHED];
	uint64_t self = 0;

	v &= ~(uint64_t)L->frame.tag_bits;
	if (!py_ptr_ok(v) || py_type_name(p, v, type, sizeof(type), NULL))
		return 0;
	if (!strcmp(type, "method") || !strcmp(type, "instancemethod")) {
		if (py_field(p, v, L->container.method_self, &self, NULL))
			return 0;
		return py_ptr_ok(self) ? self : 0;
	}
	if (!strcmp(type, "builtin_function_or_method")) {
		if (py_field(p, v, L->container.cfunction_self, &self, NULL))
			return 0;
		return py_ptr_ok(self) ? self : 0;
	}
	if (!strcmp(type, "function") || !strcmp(type, "method_descriptor") ||
	    !strcmp(type, "wrapper_descriptor") ||
	    !strcmp(type, "classmethod_descriptor") ||
	    !strcmp(type, "method-wrapper"))
		return 0;
	return v;
}

static void add_pending(struct py_proc *p, struct py_frame_stack *out,
			uint64_t v)
{
	v = unwrap(p, v);
	if (!v || out->npending >= PY_PENDING_MAX)
		return;
	for (size_t i = 0; i < out->npending; i++)
		if (out->pending[i] == v)
			return;
	out->pending[out->npending++] = v;
}

static void add_with(struct py_frame_stack *out, uint64_t obj, int line)
{
	if (!obj || out->nwith >= PY_WITH_MAX)
		return;
	for (size_t i = 0; i < out->nwith; i++)
		if (out->with[i].object == obj)
			return;
	out->with[out->nwith].object = obj;
	out->with[out->nwith].line = line;
	out->nwith++;
}

/* The value stack's slots [0, n) from 'base'; n is clamped. */
static uint64_t *read_slots(struct py_proc *p, uint64_t base, size_t *n)
{
	uint64_t *v;

	if (*n > STACK_SLOTS_MAX)
		*n = STACK_SLOTS_MAX;
	if (!*n || !py_ptr_ok(base))
		return NULL;
	v = calloc(*n, sizeof(*v));
	if (v && mem_read(p->mem, base, v, *n * sizeof(*v), NULL)) {
		free(v);
		v = NULL;
	}
	return v;
}

/* Where the saved top of stack says the stack ends (in slots from its
 * base), when that is plausible: above 'live' and within 'size'. */
static size_t saved_top(struct py_proc *p, uint64_t frame, const uint8_t *fr,
			uint64_t base, size_t live, size_t size)
{
	uint64_t end = py_frame_stack_end(p, frame, fr);

	if (end >= base && (end - base) % 8 == 0 &&
	    (end - base) / 8 > live && (end - base) / 8 <= size)
		return (size_t)((end - base) / 8);
	return size;
}

/* ---- 3.11+: the exception table ------------------------------------ */

struct exc_entry {
	int start, end, target, depth;
	bool lasti;
	bool with;  /* the handler is a with statement's cleanup */
};

static bool varint(const uint8_t *b, size_t n, size_t *i, int *out)
{
	int v;

	if (*i >= n)
		return false;
	v = b[*i] & 63;
	while (b[(*i)++] & 64) {
		if (*i >= n || v > (1 << 24))
			return false;
		v = (v << 6) | (b[*i] & 63);
	}
	*out = v;
	return true;
}

/* Parse co_exceptiontable (units of 2-byte instructions). */
static size_t parse_exc_table(const uint8_t *b, size_t n,
			      struct exc_entry *out, size_t max)
{
	size_t i = 0, k = 0;

	while (i < n && k < max) {
		int start, len, target, dl;

		if (!varint(b, n, &i, &start) || !varint(b, n, &i, &len) ||
		    !varint(b, n, &i, &target) || !varint(b, n, &i, &dl))
			break;
		out[k].start = start;
		out[k].end = start + len;
		out[k].target = target;
		out[k].depth = dl >> 1;
		out[k].lasti = dl & 1;
		k++;
	}
	return k;
}

/* Is the handler at 'target' a with statement's cleanup? */
static bool is_with_cleanup(struct py_proc *p, uint64_t code, int target,
			    const struct py_code *c)
{
	uint8_t op;

	if (p->L.op.with_except_start == LAYOUT_NONE ||
	    (c->ncode_units && (size_t)target + 1 >= c->ncode_units) ||
	    mem_read(p->mem, code + (uint64_t)p->L.code.code_adaptive +
		     2 * ((uint64_t)target + 1), &op, 1, NULL))
		return false;
	return op == p->L.op.with_except_start;
}

/*
 * The line of the with statement whose __exit__ sits at stack depth
 * depth-1 while instruction 'ip' runs: the cleanup handler of that depth
 * whose protected ranges enclose ip most tightly (a with body is split
 * into several ranges around nested blocks).  -1: none (not a with).
 */
static int with_line(struct py_proc *p, const struct py_code *c,
		     const struct exc_entry *ex, size_t nex, int depth, int ip)
{
	int best_target = -1, best_span = 0;

	for (size_t i = 0; i < nex; i++) {
		int lo = ex[i].start, hi = ex[i].end;
		bool seen = false;

		if (ex[i].depth != depth || !ex[i].lasti)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = ex[j].target == ex[i].target &&
			       ex[j].depth == depth && ex[j].lasti;
		if (seen)
			continue;
		for (size_t j = i + 1; j < nex; j++) {
			if (ex[j].target != ex[i].target)
				continue;
			lo = ex[j].start < lo ? ex[j].start : lo;
			hi = ex[j].end > hi ? ex[j].end : hi;
		}
		if (ip < lo || ip >= hi || !ex[i].with ||
		    (best_target >= 0 && hi - lo >= best_span))
			continue;
		best_target = ex[i].target;
		best_span = hi - lo;
	}
	if (best_target < 0)
		return -1;
	{
		struct py_location loc;

		py_code_location(p, c, best_target, &loc);
		return loc.line;
	}
}

/* ---- <=3.10 bytecode ----------------------------------------------- */

/* Decode the instruction at *off of co_code: opcode and full argument
 * (EXTENDED_ARG folded in); *off moves past it.  False at the end. */
static bool next_instr(const struct py_layout *L, const uint8_t *b, size_t n,
		       size_t *off, int *op, uint32_t *arg, size_t *at)
{
	uint32_t ext = 0;

	while (*off < n) {
		*at = *off;
		*op = b[*off];
		if (L->op.have_argument != LAYOUT_NONE) { /* 2.7 */
			if (*op < L->op.have_argument) {
				*arg = 0;
				*off += 1;
			} else {
				if (*off + 3 > n)
					return false;
				*arg = ext | b[*off + 1] | (uint32_t)b[*off + 2] << 8;
				*off += 3;
			}
		} else {
			if (*off + 2 > n)
				return false;
			*arg = ext | b[*off + 1];
			*off += 2;
		}
		if (*op == L->op.extended_arg) {
			ext = (*arg << (L->op.have_argument != LAYOUT_NONE ?
					16 : 8));
			continue;
		}
		return true;
	}
	return false;
}

/* The line of the SETUP_WITH / SETUP_ASYNC_WITH whose handler is at
 * b_handler (frame units), -1 when no with statement set that block. */
static int setup_with_line(struct py_proc *p, const struct py_code *c,
			   const uint8_t *b, size_t n, int handler)
{
	const struct py_layout *L = &p->L;
	size_t off = 0, at;
	int op;
	uint32_t arg;

	while (next_instr(L, b, n, &off, &op, &arg, &at)) {
		struct py_location loc;
		uint64_t target;

		if (op != L->op.setup_with &&
		    (L->op.setup_async_with == LAYOUT_NONE ||
		     op != L->op.setup_async_with))
			continue;
		/* relative jump from the next instruction, in frame units */
		target = off + (uint64_t)arg * (uint64_t)L->frame.lasti_scale;
		if (target != (uint64_t)handler * (uint64_t)L->frame.lasti_scale)
			continue;
		py_code_location(p, c, (int)at, &loc);
		return loc.line;
	}
	return -1;
}

/* ---- what a code object says, once per code object ---------------- */

#define CACHE_BUCKETS 256u
#define CACHE_MAX 8192

struct stack_code {
	uint64_t code;
	int32_t nlocalsplus, stacksize;
	struct exc_entry *ex;   /* 3.11+ */
	size_t nex;
	uint8_t *bytecode;      /* <=3.10 */
	size_t nbytecode;
	bool has_with;          /* some with statement in the code */
	struct stack_code *next;
};

struct py_stack_cache {
	struct stack_code *bucket[CACHE_BUCKETS];
	size_t n;
};

struct py_stack_cache *py_stack_cache_new(void)
{
	return xcalloc(1, sizeof(struct py_stack_cache));
}

static void code_info_free(struct stack_code *sc)
{
	free(sc->ex);
	free(sc->bytecode);
	free(sc);
}

void py_stack_cache_free(struct py_stack_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (cache->bucket[i]) {
			struct stack_code *next = cache->bucket[i]->next;

			code_info_free(cache->bucket[i]);
			cache->bucket[i] = next;
		}
	}
	free(cache);
}

static size_t bucket_of(uint64_t code)
{
	return (size_t)((code >> 4) * 0x9e3779b97f4a7c15ULL >> 56) %
	       CACHE_BUCKETS;
}

/* Is there a SETUP_WITH / SETUP_ASYNC_WITH in <=3.10 bytecode? */
static bool bytecode_has_with(const struct py_layout *L, const uint8_t *b,
			      size_t n)
{
	size_t off = 0, at;
	uint32_t arg;
	int op;

	while (next_instr(L, b, n, &off, &op, &arg, &at))
		if (op == L->op.setup_with || (L->op.setup_async_with !=
		    LAYOUT_NONE && op == L->op.setup_async_with))
			return true;
	return false;
}

static struct stack_code *code_info_read(struct py_proc *p, uint64_t code,
					 const struct py_code *c)
{
	const struct py_layout *L = &p->L;
	struct stack_code *sc = xcalloc(1, sizeof(*sc));
	uint64_t obj;

	sc->code = code;
	if (py_field_i32(p, code, L->code.stacksize, &sc->stacksize, NULL) ||
	    sc->stacksize < 0)
		sc->stacksize = 0;
	if (L->frame.kind == LAYOUT_FRAME_OBJECT) {
		if (!py_field(p, code, L->code.code, &obj, NULL) &&
		    !py_bytes_read(p, obj, BYTECODE_MAX, &sc->bytecode,
				   &sc->nbytecode, NULL))
			sc->has_with = bytecode_has_with(L, sc->bytecode,
							 sc->nbytecode);
		return sc;
	}
	if (py_field_i32(p, code, L->code.nlocalsplus, &sc->nlocalsplus, NULL) ||
	    sc->nlocalsplus < 0 || sc->nlocalsplus > (1 << 20))
		sc->stacksize = 0;
	if (!py_field(p, code, L->code.exceptiontable, &obj, NULL)) {
		uint8_t *tab = NULL;
		size_t ntab = 0;

		if (!py_bytes_read(p, obj, EXC_TABLE_MAX, &tab, &ntab, NULL) &&
		    ntab) {
			sc->ex = xcalloc(EXC_ENTRIES_MAX, sizeof(*sc->ex));
			sc->nex = parse_exc_table(tab, ntab, sc->ex,
						  EXC_ENTRIES_MAX);
		}
		free(tab);
	}
	for (size_t i = 0; i < sc->nex; i++) {
		bool seen = false;

		if (!sc->ex[i].lasti)
			continue;
		/* one look per handler */
		for (size_t j = 0; j < i && !seen; j++) {
			if (sc->ex[j].target == sc->ex[i].target) {
				sc->ex[i].with = sc->ex[j].with;
				seen = true;
			}
		}
		if (!seen)
			sc->ex[i].with = is_with_cleanup(p, code, sc->ex[i].target,
							 c);
		sc->has_with |= sc->ex[i].with;
	}
	return sc;
}

/* The cached facts of a code object (*tmp, to be freed, when the cache
 * is full or absent). */
static struct stack_code *code_info(struct py_proc *p,
				    struct py_stack_cache *cache,
				    uint64_t code, const struct py_code *c,
				    struct stack_code **tmp)
{
	struct stack_code *sc;
	size_t b = bucket_of(code);

	*tmp = NULL;
	for (sc = cache ? cache->bucket[b] : NULL; sc; sc = sc->next)
		if (sc->code == code)
			return sc;
	sc = code_info_read(p, code, c);
	if (!cache || cache->n >= CACHE_MAX) {
		*tmp = sc;
		return sc;
	}
	sc->next = cache->bucket[b];
	cache->bucket[b] = sc;
	cache->n++;
	return sc;
}

static int scan_interp_frame(struct py_proc *p, uint64_t frame,
			     const uint8_t *fr, uint64_t code,
			     const struct py_code *c,
			     const struct stack_code *sc, bool pending,
			     struct py_frame_stack *out)
{
	const struct py_layout *L = &p->L;
	size_t nslots = (size_t)sc->stacksize, live = 0, top;
	uint64_t base, *slots;
	int ip = py_frame_lasti(p, fr, code, c);

	for (size_t i = 0; i < sc->nex && ip >= 0; i++) {
		if (ip >= sc->ex[i].start && ip < sc->ex[i].end) {
			live = (size_t)sc->ex[i].depth;
			break;
		}
	}
	base = frame + (uint64_t)L->frame.localsplus +
	       8 * (uint64_t)sc->nlocalsplus;
	slots = read_slots(p, base, &nslots);
	if (!slots)
		return 0;
	if (live > nslots)
		live = nslots;
	for (size_t k = 0; k < live; k++) {
		int line;
		uint64_t obj = unwrap(p, slots[k]);

		if (!obj)
			continue;
		line = with_line(p, c, sc->ex, sc->nex, (int)k + 1, ip);
		if (line != -1) /* else not a with's (a for loop's iterator) */
			add_with(out, obj, line);
	}
	top = saved_top(p, frame, fr, base, live, nslots);
	for (size_t k = top; pending && k-- > live;)
		add_pending(p, out, slots[k]);
	free(slots);
	return 0;
}

/* ---- <=3.10: the block stack --------------------------------------- */

static int scan_object_frame(struct py_proc *p, uint64_t frame,
			     const uint8_t *fr, const struct py_code *c,
			     const struct stack_code *sc, bool pending,
			     struct py_frame_stack *out)
{
	const struct py_layout *L = &p->L;
	uint64_t valuestack = py_rd64(fr, L->frame.valuestack), *slots;
	size_t nslots = (size_t)sc->stacksize, live = 0, top;
	int32_t iblock;

	memcpy(&iblock, fr + L->frame.iblock, sizeof(iblock));
	if (iblock < 0 || iblock > L->frame.max_blocks)
		iblock = 0;
	slots = read_slots(p, valuestack, &nslots);
	if (!slots)
		return 0;
	for (int i = 0; i < iblock; i++) {
		const uint8_t *blk = fr + L->frame.blockstack + i * L->frame.block_size;
		int32_t type, handler, level;
		int line;

		memcpy(&type, blk, 4);
		memcpy(&handler, blk + 4, 4);
		memcpy(&level, blk + 8, 4);
		if (level < 0 || (size_t)level > nslots)
			continue;
		if ((size_t)level > live)
			live = (size_t)level;
		/* 3.x pushes a SETUP_FINALLY block for a with, 2.7 a
		 * SETUP_WITH one */
		if ((type != L->op.setup_finally && type != L->op.setup_with) ||
		    level < 1 || !sc->has_with)
			continue;
		line = setup_with_line(p, c, sc->bytecode, sc->nbytecode,
				       handler);
		if (line != -1)
			add_with(out, unwrap(p, slots[level - 1]), line);
	}
	top = saved_top(p, frame, fr, valuestack, live, nslots);
	for (size_t k = top; pending && k-- > live;)
		add_pending(p, out, slots[k]);
	free(slots);
	return 0;
}

int py_frame_stack_scan(struct py_proc *p, struct py_stack_cache *cache,
			uint64_t frame, uint64_t code, bool pending,
			struct py_frame_stack *out, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint8_t fr[HEADER_MAX];
	size_t hdr = (size_t)L->frame.localsplus;
	struct stack_code *sc, *tmp;
	const struct py_code *c;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (hdr > sizeof(fr))
		return err_set(e, SS_ECORRUPT, "frame header too large");
	c = py_code_get(p, code, e);
	if (!c)
		return e ? e->code : SS_ECORRUPT;
	sc = code_info(p, cache, code, c, &tmp);
	/* no with statement and no operands wanted: nothing to read */
	if ((sc->has_with || pending) && sc->stacksize > 0) {
		rc = mem_read(p->mem, frame, fr, hdr, e);
		if (!rc && L->frame.kind == LAYOUT_FRAME_INTERP)
			rc = scan_interp_frame(p, frame, fr, code, c, sc,
					       pending, out);
		else if (!rc)
			rc = scan_object_frame(p, frame, fr, c, sc, pending,
					       out);
	}
	if (tmp)
		code_info_free(tmp);
	return rc;
}
