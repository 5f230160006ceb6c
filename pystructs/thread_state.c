#include <config.h>

#include "pystructs/thread_state.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/object.h"

#include <stdlib.h>
#include <string.h>

#define HOOK_NAME_MAX 256

/* The GIL's bytes: a futex a thread sleeps on there is the GIL's. */
static void gil_range(struct py_proc *p, uint64_t interp,
		      struct py_interp_facts *f)
{
	const struct py_layout *L = &p->L;
	uint64_t gil = 0, size = 0;

	if (L->interp.ceval_gil != LAYOUT_NONE) { /* 3.12+: a pointer */
		if (mem_read_u64(p->mem, interp + (uint64_t)L->interp.ceval_gil,
				 &gil, NULL))
			gil = 0;
		size = (uint64_t)L->gil.size;
	} else if (L->runtime.ceval_gil != LAYOUT_NONE) { /* 3.7-3.11 */
		gil = p->runtime + (uint64_t)L->runtime.ceval_gil;
		size = (uint64_t)L->gil.size;
	} else if (p->gil_static) { /* <=3.6 */
		gil = p->gil_static;
		size = p->gil_static_size;
		if (p->gil_static_is_ptr &&
		    mem_read_u64(p->mem, p->gil_static, &gil, NULL))
			gil = 0;
	}
	if (gil && py_ptr_ok(gil) && size && size < 4096) {
		f->gil_lo = gil;
		f->gil_hi = gil + size;
	}
}

/* The tstate holding the GIL of this interpreter, or 0 (none/unknown). */
static void gil_holder(struct py_proc *p, uint64_t interp,
		       struct py_interp_facts *f)
{
	const struct py_layout *L = &p->L;
	uint64_t v = 0, gil;
	int32_t locked = 0;

	f->holder_known = true;
	if (p->tstate_current) { /* <=3.6: a global */
		f->holder_known = !mem_read_u64(p->mem, p->tstate_current,
						&v, NULL);
	} else if (L->runtime.tstate_current != LAYOUT_NONE) {
		f->holder_known = !mem_read_u64(p->mem, p->runtime +
			(uint64_t)L->runtime.tstate_current, &v, NULL);
	} else if (L->interp.ceval_gil == LAYOUT_NONE ||
		   mem_read_u64(p->mem, interp + (uint64_t)L->interp.ceval_gil,
				&gil, NULL) || !py_ptr_ok(gil) ||
		   mem_read(p->mem, gil + (uint64_t)L->gil.locked, &locked,
			    sizeof(locked), NULL)) {
		f->holder_known = false;
	} else if (locked && mem_read_u64(p->mem, gil +
					  (uint64_t)L->gil.last_holder, &v,
					  NULL)) {
		f->holder_known = false;
	}
	f->gil_holder = f->holder_known ? v : 0;
}

static bool gc_collecting(struct py_proc *p, uint64_t interp)
{
	const struct py_layout *L = &p->L;
	uint64_t at = 0;
	int32_t v = 0;

	if (L->gc.collecting != LAYOUT_NONE && L->interp.gc != LAYOUT_NONE)
		at = interp + (uint64_t)L->interp.gc + (uint64_t)L->gc.collecting;
	else if (L->gc.collecting != LAYOUT_NONE && L->runtime.gc != LAYOUT_NONE)
		at = p->runtime + (uint64_t)L->runtime.gc +
		     (uint64_t)L->gc.collecting;
	else
		at = p->gc_collecting_static;
	return at && !mem_read(p->mem, at, &v, sizeof(v), NULL) && v == 1;
}

static bool eval_hook(struct py_proc *p, uint64_t interp)
{
	uint64_t fn;

	if (p->L.interp.eval_frame == LAYOUT_NONE ||
	    mem_read_u64(p->mem, interp + (uint64_t)p->L.interp.eval_frame,
			 &fn, NULL))
		return false;
	/* 3.6-3.10 store the default function itself (unknown without its
	 * symbol); 3.11+ store NULL. */
	return fn && (p->L.interp.eval_frame_default_null ||
		      (p->eval_frame_default && fn != p->eval_frame_default));
}

static void monitoring_tools(struct py_proc *p, uint64_t interp,
			     struct py_interp_facts *f)
{
	uint64_t names[PY_MONITORING_TOOLS];

	if (p->L.interp.monitoring_tool_names == LAYOUT_NONE ||
	    mem_read(p->mem, interp +
		     (uint64_t)p->L.interp.monitoring_tool_names, names,
		     sizeof(names), NULL))
		return;
	for (int i = 0; i < PY_MONITORING_TOOLS; i++)
		if (names[i] && py_str_read(p, names[i], HOOK_NAME_MAX,
					    &f->tools[i], NULL, NULL))
			f->tools[i] = NULL;
}

void py_interp_facts_read(struct py_proc *p, uint64_t interp,
			  struct py_interp_facts *f)
{
	memset(f, 0, sizeof(*f));
	gil_holder(p, interp, f);
	gil_range(p, interp, f);
	f->collecting = gc_collecting(p, interp);
	f->eval_hook = eval_hook(p, interp);
	monitoring_tools(p, interp, f);
}

void py_interp_facts_release(struct py_interp_facts *f)
{
	for (int i = 0; i < PY_MONITORING_TOOLS; i++)
		free(f->tools[i]);
}

/* A function's __qualname__ (2.7: __name__), or NULL. */
static char *function_name(struct py_proc *p, uint64_t fn)
{
	const struct py_layout *L = &p->L;
	uint64_t name;
	char *s;

	if (py_field(p, fn, L->container.function_qualname != LAYOUT_NONE ?
		     L->container.function_qualname :
		     L->container.function_name, &name, NULL) ||
	    py_str_read(p, name, HOOK_NAME_MAX, &s, NULL, NULL))
		return NULL;
	return s;
}

/* How to name a trace or profile callable: the function's qualified name
 * (of a plain or bound function), else its type's name. */
static char *callable_name(struct py_proc *p, uint64_t obj)
{
	char type[PY_TNAME_CACHED];
	uint64_t fn;
	char *s;

	if (!obj)
		return xstrdup("<C function>");
	if (py_type_name(p, obj, type, sizeof(type), NULL))
		return xstrdup("<unreadable>");
	if (!strcmp(type, "function") && (s = function_name(p, obj)))
		return s;
	if ((!strcmp(type, "method") || !strcmp(type, "instancemethod")) &&
	    !py_field(p, obj, p->L.container.method_func, &fn, NULL) &&
	    !py_type_name(p, fn, type, sizeof(type), NULL) &&
	    !strcmp(type, "function") && (s = function_name(p, fn)))
		return s;
	return xstrdup(type);
}

static bool futex_in(const struct snap_thread *t, uint64_t lo, uint64_t hi)
{
	return lo && !strcmp(t->os.syscall, "futex") && t->os.arg0 >= lo &&
	       t->os.arg0 < hi;
}

void py_thread_state_fill(struct py_proc *p, const struct py_interp_facts *f,
			  const uint8_t *ts, uint64_t tstate,
			  struct snap_thread *t)
{
	const struct py_layout *L = &p->L;

	t->holds_gil = f->gil_holder && f->gil_holder == tstate;
	if (t->holds_gil)
		t->gil = SNAP_GIL_HOLDS;
	else if (futex_in(t, f->gil_lo, f->gil_hi))
		t->gil = SNAP_GIL_WAITS;
	else if (f->holder_known && f->gil_lo && t->os.state)
		t->gil = SNAP_GIL_NONE;
	else
		t->gil = SNAP_GIL_UNKNOWN;
	t->gc = f->collecting && t->holds_gil;
	t->eval_hook = f->eval_hook;
	t->hooks_unknown = p->hooks_unknown;
	if (py_rd64(ts, L->tstate.c_tracefunc))
		t->trace = callable_name(p, py_rd64(ts, L->tstate.c_traceobj));
	if (py_rd64(ts, L->tstate.c_profilefunc))
		t->profile = callable_name(p, py_rd64(ts,
						      L->tstate.c_profileobj));
	for (int i = 0; i < PY_MONITORING_TOOLS; i++) {
		if (!f->tools[i])
			continue;
		t->monitoring = xrealloc(t->monitoring, (t->nmonitoring + 1) *
					 sizeof(*t->monitoring));
		t->monitoring[t->nmonitoring++] = xstrdup(f->tools[i]);
	}
}
