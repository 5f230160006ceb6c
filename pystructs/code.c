#include <config.h>

#include "pystructs/code.h"
#include "pystructs/object.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define LINETABLE_MAX (1u << 20)
#define CACHE_BUCKETS 1024u

struct code_entry {
	struct py_code code;
	struct code_entry *next;
};

struct code_cache {
	struct code_entry *bucket[CACHE_BUCKETS];
};

static size_t bucket_of(uint64_t addr)
{
	return (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ULL >> 54) % CACHE_BUCKETS;
}

void code_cache_free(struct code_cache *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct code_entry *ce = cc->bucket[i];

		while (ce) {
			struct code_entry *next = ce->next;

			free(ce->code.name);
			free(ce->code.filename);
			free(ce->code.linetable);
			free(ce);
			ce = next;
		}
	}
	free(cc);
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

const struct py_code *py_code_get(struct py_proc *p, uint64_t addr,
				  struct err *e)
{
	struct code_entry *ce;
	size_t b = bucket_of(addr);

	if (!p->codes)
		p->codes = xcalloc(1, sizeof(*p->codes));
	for (ce = p->codes->bucket[b]; ce; ce = ce->next)
		if (ce->code.addr == addr)
			return &ce->code;
	ce = xcalloc(1, sizeof(*ce));
	if (decode(p, addr, &ce->code, e)) {
		free(ce->code.name);
		free(ce->code.filename);
		free(ce->code.linetable);
		free(ce);
		return NULL;
	}
	ce->next = p->codes->bucket[b];
	p->codes->bucket[b] = ce;
	return &ce->code;
}

void py_code_forget(struct py_proc *p, uint64_t addr)
{
	struct code_entry **link;

	if (!p->codes)
		return;
	for (link = &p->codes->bucket[bucket_of(addr)]; *link;
	     link = &(*link)->next) {
		struct code_entry *ce = *link;

		if (ce->code.addr == addr) {
			*link = ce->next;
			free(ce->code.name);
			free(ce->code.filename);
			free(ce->code.linetable);
			free(ce);
			return;
		}
	}
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
