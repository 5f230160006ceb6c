#include <config.h>

#include "pystructs/locals.h"
#include "common/xalloc.h"
#include "pystructs/object.h"
#include "pystructs/repr.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CHARS 256

/* co_flags */
#define CO_VARARGS 0x4
#define CO_VARKEYWORDS 0x8
/* 3.11+ co_localspluskinds */
#define CO_FAST_HIDDEN 0x10
#define CO_FAST_CELL 0x40
#define CO_FAST_FREE 0x80

/* One variable slot: its name and what the slot means. */
struct slot {
	char *name;
	int kind;      /* enum snap_local_kind */
	bool is_cell;  /* the slot holds a cell (read through it) */
	bool hidden;
};

struct slots {
	struct slot *v;
	size_t n;
	size_t nargs;
};

static void slots_release(struct slots *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
}

/* Names of a tuple of str appended to s with kind; false on failure. */
static bool add_names(struct py_proc *p, uint64_t tuple, int kind,
		      struct slots *s, size_t cap)
{
	uint64_t *items;
	size_t n;

	if (py_tuple_items(p, tuple, cap, &items, &n, NULL))
		return false;
	for (size_t i = 0; i < n && s->n < cap; i++) {
		struct slot *sl = &s->v[s->n++];

		memset(sl, 0, sizeof(*sl));
		if (py_str_read(p, items[i], NAME_MAX_CHARS, &sl->name, NULL,
				NULL))
			sl->name = xstrdup("?");
		sl->kind = kind;
		sl->is_cell = kind == SNAP_LOCAL_CELL || kind == SNAP_LOCAL_FREE;
	}
	free(items);
	return true;
}

/* The frame's slots as its code object describes them. */
static bool read_slots(struct py_proc *p, uint64_t code, struct slots *s)
{
	const struct py_layout *L = &p->L;
	int32_t argc, kwonly, flags;
	uint64_t names;

	memset(s, 0, sizeof(*s));
	if (py_field_i32(p, code, L->code.argcount, &argc, NULL) ||
	    py_field_i32(p, code, L->code.kwonlyargcount, &kwonly, NULL) ||
	    py_field_i32(p, code, L->code.flags, &flags, NULL) || argc < 0 ||
	    kwonly < 0)
		return false;
	s->nargs = (size_t)argc + (size_t)kwonly + !!(flags & CO_VARARGS) +
		   !!(flags & CO_VARKEYWORDS);
	s->v = xcalloc(PY_MAX_LOCALS, sizeof(*s->v));
	if (L->code.localsplusnames != LAYOUT_NONE) { /* 3.11+ */
		uint64_t kinds;
		uint8_t *k = NULL;
		size_t nk = 0;

		if (py_field(p, code, L->code.localsplusnames, &names, NULL) ||
		    py_field(p, code, L->code.localspluskinds, &kinds, NULL) ||
		    !add_names(p, names, SNAP_LOCAL_PLAIN, s, PY_MAX_LOCALS) ||
		    py_bytes_read(p, kinds, PY_MAX_LOCALS, &k, &nk, NULL))
			return false;
		for (size_t i = 0; i < s->n; i++) {
			uint8_t kind = i < nk ? k[i] : 0;
			struct slot *sl = &s->v[i];

			sl->hidden = kind & CO_FAST_HIDDEN;
			sl->is_cell = kind & (CO_FAST_CELL | CO_FAST_FREE);
			if (i < s->nargs)
				sl->kind = SNAP_LOCAL_ARG;
			else if (kind & CO_FAST_FREE)
				sl->kind = SNAP_LOCAL_FREE;
			else if (kind & CO_FAST_CELL)
				sl->kind = SNAP_LOCAL_CELL;
		}
		free(k);
		return true;
	}
	/* <=3.10: co_varnames, then co_cellvars, then co_freevars. */
	if (py_field(p, code, L->code.varnames, &names, NULL) ||
	    !add_names(p, names, SNAP_LOCAL_PLAIN, s, PY_MAX_LOCALS))
		return false;
	for (size_t i = 0; i < s->n && i < s->nargs; i++)
		s->v[i].kind = SNAP_LOCAL_ARG;
	if (py_field(p, code, L->code.cellvars, &names, NULL) ||
	    !add_names(p, names, SNAP_LOCAL_CELL, s, PY_MAX_LOCALS) ||
	    py_field(p, code, L->code.freevars, &names, NULL) ||
	    !add_names(p, names, SNAP_LOCAL_FREE, s, PY_MAX_LOCALS))
		return false;
	return true;
}

/* The value in a slot (through its cell), or 0 when unbound. */
static uint64_t slot_value(struct py_proc *p, const struct slot *sl,
			   uint64_t v)
{
	char type[16];

	if (!v || !sl->is_cell)
		return v;
	/* Before MAKE_CELL runs (3.11+) the slot still holds the value. */
	if (py_type_name(p, v, type, sizeof(type), NULL) || strcmp(type, "cell"))
		return v;
	if (py_field(p, v, p->L.container.cell_ref, &v, NULL))
		return 0;
	return v;
}

static void add_local(struct py_proc *p, struct snap_frame *f, size_t *cap,
		      const char *name, int kind, uint64_t v, size_t width)
{
	struct snap_local *l = snap_frame_add_local(f, cap);
	char type[PY_TNAME_CACHED];

	l->name = xstrdup(name);
	l->kind = kind;
	l->type = xstrdup(py_type_name(p, v, type, sizeof(type), NULL) ?
			  "?" : type);
	l->repr = py_repr(p, v, width);
}

static bool read_values(struct py_proc *p, uint64_t frame, size_t n,
			uint64_t *vals)
{
	uint64_t mask = ~(uint64_t)p->L.frame.tag_bits;

	if (mem_read(p->mem, frame + (uint64_t)p->L.frame.localsplus, vals,
		     n * sizeof(*vals), NULL))
		return false;
	for (size_t i = 0; i < n; i++) {
		vals[i] &= mask;
		if (vals[i] && !py_ptr_ok(vals[i]))
			vals[i] = 0;
	}
	return true;
}

void py_frame_locals(struct py_proc *p, const struct py_code *c,
		     uint64_t frame, size_t width, struct snap_frame *f)
{
	struct slots s;
	uint64_t *vals;
	size_t cap = 0;

	if (!read_slots(p, c->addr, &s)) {
		slots_release(&s);
		return;
	}
	vals = xcalloc(s.n + 1, sizeof(*vals));
	if (!read_values(p, frame, s.n, vals)) {
		free(vals);
		slots_release(&s);
		return;
	}
	for (size_t i = 0; i < s.n; i++)
		vals[i] = slot_value(p, &s.v[i], vals[i]);
	/* <=3.10 moves an argument that is also a cell into the cell (the
	 * argument slot is cleared; 2.7 keeps a stale copy): show it once,
	 * as the argument, with the cell's value. */
	for (size_t i = 0; i < s.nargs && i < s.n; i++) {
		for (size_t j = s.nargs; j < s.n; j++) {
			if (s.v[j].kind == SNAP_LOCAL_CELL &&
			    !strcmp(s.v[j].name, s.v[i].name)) {
				if (vals[j])
					vals[i] = vals[j];
				vals[j] = 0;
			}
		}
	}
	for (size_t i = 0; i < s.n; i++)
		if (vals[i] && !s.v[i].hidden)
			add_local(p, f, &cap, s.v[i].name, s.v[i].kind, vals[i],
				  width);
	free(vals);
	slots_release(&s);
}

char *py_frame_first_str(struct py_proc *p, uint64_t frame)
{
	uint64_t v;
	char *s;

	if (!read_values(p, frame, 1, &v) || !v ||
	    py_str_read(p, v, NAME_MAX_CHARS, &s, NULL, NULL))
		return NULL;
	return s;
}

size_t py_frame_values(struct py_proc *p, uint64_t code, uint64_t frame,
		       uint64_t *vals, size_t max)
{
	struct slots s;
	uint64_t *raw;
	size_t n = 0;

	if (!read_slots(p, code, &s)) {
		slots_release(&s);
		return 0;
	}
	raw = xcalloc(s.n + 1, sizeof(*raw));
	if (read_values(p, frame, s.n, raw)) {
		for (size_t i = 0; i < s.n && n < max; i++) {
			uint64_t v = slot_value(p, &s.v[i], raw[i]);

			if (v)
				vals[n++] = v;
		}
	}
	free(raw);
	slots_release(&s);
	return n;
}
void py_code_var_slots(struct py_proc *p, uint64_t code,
		       const char *const *names, struct py_var_slot *out)
{
	struct slots s;
	bool ok = read_slots(p, code, &s);

	for (size_t k = 0; names[k]; k++) {
		out[k].index = -1;
		out[k].cell = false;
		for (size_t i = 0; ok && i < s.n; i++) {
			if (strcmp(names[k], s.v[i].name))
				continue;
			out[k].index = (int)i;
			out[k].cell = s.v[i].is_cell;
			break;
		}
	}
	slots_release(&s);
}

uint64_t py_frame_slot_value(struct py_proc *p, uint64_t frame,
			     const struct py_var_slot *slot)
{
	struct slot sl = { .is_cell = slot->cell };
	uint64_t v;

	if (slot->index < 0 ||
	    mem_read_u64(p->mem, frame + (uint64_t)p->L.frame.localsplus +
			 8 * (uint64_t)slot->index, &v, NULL))
		return 0;
	v &= ~(uint64_t)p->L.frame.tag_bits;
	if (!py_ptr_ok(v))
		return 0;
	return slot_value(p, &sl, v);
}
