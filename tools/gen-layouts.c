/*
 * gen-layouts.c - print one struct py_layout initializer (and, for 3.13+,
 * the shape of _Py_DebugOffsets) for the CPython whose headers this file is
 * compiled against.
 *
 * Helper for tools/gen-layouts.sh, which compiles it once per version with
 *   -DPy_BUILD_CORE -I$include -I$include/internal
 * runs it, and pastes the output into pystructs/layouts_gen.c.  Every value
 * comes from offsetof()/sizeof() against that version's own headers, except
 * for the few structs no installed header defines; those are hardcoded below
 * with the source they come from.
 *
 * This is the only place in snakescope that may test PY_VERSION.  Supported:
 * 2.7, 3.6 through 3.15 (3.13+ is additionally overlaid at run time with the
 * target's own _Py_DebugOffsets, whose shape is printed here too).
 *
 * Output fields use the names from pystructs/layout.h; tools/gen-layouts.sh
 * checks that every field of struct py_layout is emitted.
 */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define V(maj, min) (PY_MAJOR_VERSION * 100 + PY_MINOR_VERSION >= (maj) * 100 + (min))
#define PY2 (PY_MAJOR_VERSION == 2)

#if !(PY_MAJOR_VERSION == 2 && PY_MINOR_VERSION == 7) && \
	!(PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION >= 6 && PY_MINOR_VERSION <= 15)
#error "gen-layouts supports CPython 2.7 and 3.6 to 3.15"
#endif

#include <frameobject.h>
#if PY2
/* PyStringObject, PyIntObject, PyDictObject: all public in 2.7 */
#elif !V(3, 7)
/* 3.6: PyInterpreterState and PyThreadState are in pystate.h */
#elif !V(3, 8)
#include "internal/pystate.h" /* _PyRuntimeState */
#elif !V(3, 9)
#include "internal/pycore_pystate.h" /* _PyRuntimeState, struct _is */
#else
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#endif
#if !V(3, 11)
#include <longintrepr.h>
#endif
#if V(3, 10)
#include "internal/pycore_moduleobject.h"
#endif
#if V(3, 11)
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#endif
#if V(3, 12)
#include "internal/pycore_gil.h"
#endif
#if V(3, 14)
#include "internal/pycore_debug_offsets.h" /* in pycore_runtime.h in 3.13 */
#include "internal/pycore_genobject.h"
#include "internal/pycore_tstate.h"
#endif
#include <structmember.h> /* PyMemberDef */
#if !V(3, 13)
#include <opcode.h> /* YIELD_FROM, RESUME, SETUP_WITH, ... */
#else
#include <opcode_ids.h> /* EXTENDED_ARG, WITH_EXCEPT_START */
#endif

#define NONE (-1L) /* printed as LAYOUT_NONE */
#define OFF(type, member) ((long)offsetof(type, member))
#define SIZE(type) ((long)sizeof(type))

static int indent = 1;

static void tabs(void)
{
	int i;

	for (i = 0; i < indent; i++)
		putchar('\t');
}

static void open_sub(const char *name)
{
	tabs();
	printf(".%s = {\n", name);
	indent++;
}

static void close_sub(void)
{
	indent--;
	tabs();
	printf("},\n");
}

static void num(const char *name, long v)
{
	tabs();
	if (v == NONE)
		printf(".%s = LAYOUT_NONE,\n", name);
	else
		printf(".%s = %ld,\n", name, v);
}

static void sym(const char *name, const char *value)
{
	tabs();
	printf(".%s = %s,\n", name, value);
}

#if !PY2
/* Lowest set bit of w, or -1. */
static int lowbit(unsigned long long w)
{
	int i;

	for (i = 0; i < 64; i++)
		if (w & (1ULL << i))
			return i;
	return -1;
}

/*
 * Bit positions inside PyASCIIObject.state.  The state is a bit-field
 * struct; set one field in an otherwise zero copy and find the bit in the
 * raw word (same compiler and ABI as the target builds).
 */
#define STATE_T __typeof__(((PyASCIIObject *)0)->state)
union state_word {
	STATE_T s;
	unsigned long long w;
};

static int state_bit_kind(void)
{
	union state_word u;
	memset(&u, 0, sizeof u);
	u.s.kind = 1;
	return lowbit(u.w);
}

static int state_bit_compact(void)
{
	union state_word u;
	memset(&u, 0, sizeof u);
	u.s.compact = 1;
	return lowbit(u.w);
}

static int state_bit_ascii(void)
{
	union state_word u;
	memset(&u, 0, sizeof u);
	u.s.ascii = 1;
	return lowbit(u.w);
}
#endif

#if V(3, 13)
/*
 * The _Py_DebugOffsets entries snakescope reads, and the py_layout member
 * each one sets: DBG(section, field, member) prints the entry's u64 index,
 * the index of its section's size word and the member.
 */
#define DBG_IDX(member) (offsetof(_Py_DebugOffsets, member) / 8)

static void dbg(unsigned long index, unsigned long size_index,
		const char *member)
{
	printf("\t{ %lu, %lu, offsetof(struct py_layout, %s) },\n", index,
	       size_index, member);
}

#define DBG(section, field, member) \
	dbg(DBG_IDX(section.field), DBG_IDX(section.size), member)

static void print_debug_desc(void)
{
	printf("static const struct layout_dbg_field dbg_fields_%d_%d[] = {\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION);
	DBG(runtime_state, interpreters_head, "runtime.interpreters_head");
	DBG(interpreter_state, id, "interp.id");
	DBG(interpreter_state, next, "interp.next");
	DBG(interpreter_state, threads_head, "interp.threads_head");
	DBG(interpreter_state, imports_modules, "interp.modules");
	DBG(interpreter_state, sysdict, "interp.sysdict");
	DBG(interpreter_state, ceval_gil, "interp.ceval_gil");
#if V(3, 14)
	DBG(interpreter_state, gc, "interp.gc");
	DBG(gc, collecting, "gc.collecting");
#endif
	DBG(thread_state, size, "tstate.size");
	DBG(thread_state, next, "tstate.next");
	DBG(thread_state, interp, "tstate.interp");
	DBG(thread_state, current_frame, "tstate.frame");
	DBG(thread_state, thread_id, "tstate.thread_id");
	DBG(thread_state, native_thread_id, "tstate.native_thread_id");
#if V(3, 15)
	DBG(thread_state, base_frame, "tstate.base_frame");
#endif
	DBG(interpreter_frame, size, "frame.size");
	DBG(interpreter_frame, previous, "frame.back");
	DBG(interpreter_frame, executable, "frame.code");
	DBG(interpreter_frame, instr_ptr, "frame.instr_ptr");
	DBG(interpreter_frame, localsplus, "frame.localsplus");
	DBG(interpreter_frame, owner, "frame.owner");
#if V(3, 14)
	DBG(interpreter_frame, stackpointer, "frame.stacktop");
#endif
	DBG(code_object, size, "code.size");
	DBG(code_object, filename, "code.filename");
	DBG(code_object, name, "code.name");
	DBG(code_object, qualname, "code.qualname");
	DBG(code_object, linetable, "code.linetable");
	DBG(code_object, firstlineno, "code.firstlineno");
	DBG(code_object, co_code_adaptive, "code.code_adaptive");
	DBG(code_object, argcount, "code.argcount");
	DBG(code_object, localsplusnames, "code.localsplusnames");
	DBG(code_object, localspluskinds, "code.localspluskinds");
	DBG(pyobject, ob_type, "object.ob_type");
	DBG(type_object, tp_name, "type.tp_name");
	DBG(type_object, tp_flags, "type.tp_flags");
#if V(3, 15)
	DBG(type_object, tp_basicsize, "type.tp_basicsize");
	DBG(type_object, tp_dictoffset, "type.tp_dictoffset");
	DBG(heap_type_object, ht_cached_keys, "type.ht_cached_keys");
#endif
#if V(3, 14)
	DBG(tuple_object, ob_item, "container.tuple_items");
	DBG(list_object, ob_item, "container.list_items");
	DBG(set_object, used, "container.set_used");
	DBG(set_object, mask, "container.set_mask");
	DBG(set_object, table, "container.set_table");
	DBG(float_object, ob_fval, "container.float_value");
	DBG(gen_object, gi_iframe, "gen.iframe");
	DBG(gen_object, gi_frame_state, "gen.frame_state");
#endif
	DBG(dict_object, ma_keys, "dict.ma_keys");
	DBG(dict_object, ma_values, "dict.ma_values");
	DBG(long_object, lv_tag, "pylong.tag");
	DBG(long_object, ob_digit, "pylong.digits");
	DBG(bytes_object, ob_size, "bytes.size");
	DBG(bytes_object, ob_sval, "bytes.data");
	DBG(unicode_object, state, "unicode.state");
	DBG(unicode_object, length, "unicode.length");
	DBG(unicode_object, asciiobject_size, "unicode.ascii_data");
#if V(3, 15)
	DBG(unicode_object, compactunicodeobject_size, "unicode.compact_data");
#endif
	printf("};\n\n");
	printf("static const struct layout_dbg_desc dbg_desc_%d_%d = {\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION);
	printf("\t%d, %d, %lu, dbg_fields_%d_%d,\n", PY_MAJOR_VERSION,
	       PY_MINOR_VERSION, (unsigned long)sizeof(_Py_DebugOffsets),
	       PY_MAJOR_VERSION, PY_MINOR_VERSION);
	printf("\tsizeof(dbg_fields_%d_%d) / sizeof(dbg_fields_%d_%d[0]),\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MAJOR_VERSION,
	       PY_MINOR_VERSION);
	printf("\t%lu, %lu, %lu, %lu,\n};\n",
	       (unsigned long)DBG_IDX(interpreter_state.size),
	       (unsigned long)DBG_IDX(interpreter_state.gil_runtime_state),
	       (unsigned long)DBG_IDX(interpreter_state.gil_runtime_state_locked),
	       (unsigned long)DBG_IDX(interpreter_state.gil_runtime_state_holder));
}
#endif

static void print_runtime(void)
{
	open_sub("runtime");
#if V(3, 7)
	sym("kind", "LAYOUT_RUNTIME_STRUCT");
	num("interpreters_head", OFF(_PyRuntimeState, interpreters.head));
#else
	/* interp_head and _PyThreadState_Current are plain globals */
	sym("kind", "LAYOUT_RUNTIME_GLOBALS");
	num("interpreters_head", 0);
#endif
#if V(3, 7) && !V(3, 12)
	num("tstate_current", OFF(_PyRuntimeState, gilstate.tstate_current));
#else
	num("tstate_current", NONE);
#endif
#if V(3, 7) && !V(3, 12)
	num("ceval_gil", OFF(_PyRuntimeState, ceval.gil));
#else
	num("ceval_gil", NONE);
#endif
#if V(3, 7) && !V(3, 9)
	num("gc", OFF(_PyRuntimeState, gc));
#else
	num("gc", NONE);
#endif
	close_sub();
}

static void print_interp(void)
{
	open_sub("interp");
	num("next", OFF(PyInterpreterState, next));
#if V(3, 7)
	num("id", OFF(PyInterpreterState, id));
#else
	num("id", NONE);
#endif
#if !V(3, 11)
	num("threads_head", OFF(PyInterpreterState, tstate_head));
#else
	num("threads_head", OFF(PyInterpreterState, threads.head));
#endif
#if !V(3, 12)
	num("modules", OFF(PyInterpreterState, modules));
#else
	num("modules", OFF(PyInterpreterState, imports.modules));
#endif
	num("sysdict", OFF(PyInterpreterState, sysdict));
#if V(3, 12)
	num("ceval_gil", OFF(PyInterpreterState, ceval.gil));
#else
	num("ceval_gil", NONE);
#endif
#if V(3, 9)
	num("gc", OFF(PyInterpreterState, gc));
#else
	num("gc", NONE);
#endif
#if V(3, 6)
	num("eval_frame", OFF(PyInterpreterState, eval_frame));
#else
	num("eval_frame", NONE);
#endif
	num("eval_frame_default_null", V(3, 11));
#if V(3, 12)
	num("monitoring_tool_names", OFF(PyInterpreterState,
					 monitoring_tool_names));
#else
	num("monitoring_tool_names", NONE);
#endif
	close_sub();

	open_sub("gc");
#if V(3, 7)
	num("collecting", OFF(struct _gc_runtime_state, collecting));
#else
	num("collecting", NONE); /* a static of gcmodule.c */
#endif
	close_sub();

	/* struct _gil_runtime_state (runtime.ceval_gil / interp.ceval_gil) */
	open_sub("gil");
#if V(3, 7)
	num("size", SIZE(struct _gil_runtime_state));
#else
	num("size", NONE);
#endif
#if V(3, 12)
	num("last_holder", OFF(struct _gil_runtime_state, last_holder));
	num("locked", OFF(struct _gil_runtime_state, locked));
#else
	num("last_holder", NONE);
	num("locked", NONE);
#endif
	close_sub();
}

static void print_tstate(void)
{
	open_sub("tstate");
	num("size", SIZE(PyThreadState));
	num("next", OFF(PyThreadState, next));
	num("interp", OFF(PyThreadState, interp));
#if !V(3, 11)
	num("frame", OFF(PyThreadState, frame));
	num("cframe_frame", NONE);
#elif !V(3, 13)
	num("frame", OFF(PyThreadState, cframe));
	num("cframe_frame", OFF(_PyCFrame, current_frame));
#else
	num("frame", OFF(PyThreadState, current_frame));
	num("cframe_frame", NONE);
#endif
	num("thread_id", OFF(PyThreadState, thread_id));
#if V(3, 11)
	num("native_thread_id", OFF(PyThreadState, native_thread_id));
#else
	num("native_thread_id", NONE);
#endif
#if V(3, 15)
	num("base_frame", OFF(PyThreadState, base_frame));
#else
	num("base_frame", NONE);
#endif
#if V(3, 11)
	num("datastack_chunk", OFF(PyThreadState, datastack_chunk));
	num("datastack_top", OFF(PyThreadState, datastack_top));
#else
	num("datastack_chunk", NONE);
	num("datastack_top", NONE);
#endif
	num("c_tracefunc", OFF(PyThreadState, c_tracefunc));
	num("c_traceobj", OFF(PyThreadState, c_traceobj));
	num("c_profilefunc", OFF(PyThreadState, c_profilefunc));
	num("c_profileobj", OFF(PyThreadState, c_profileobj));
	close_sub();
}

static void print_chunk(void)
{
	open_sub("chunk");
#if V(3, 11)
	num("previous", OFF(_PyStackChunk, previous));
	num("size", OFF(_PyStackChunk, size));
	num("data", OFF(_PyStackChunk, data));
#else
	num("previous", NONE);
	num("size", NONE);
	num("data", NONE);
#endif
	close_sub();
}

static void print_frame(void)
{
	open_sub("frame");
#if !V(3, 11)
	sym("kind", "LAYOUT_FRAME_OBJECT");
	num("size", SIZE(PyFrameObject));
	num("back", OFF(PyFrameObject, f_back));
	num("code", OFF(PyFrameObject, f_code));
	num("tag_bits", 0);
	num("lasti", OFF(PyFrameObject, f_lasti));
	/* f_lasti counts bytes up to 3.9, 2-byte code units in 3.10 */
	num("lasti_scale", V(3, 10) ? 2 : 1);
	num("instr_ptr", NONE);
	num("owner", NONE);
	num("owner_skip", NONE);
	num("is_entry", NONE);
	num("localsplus", OFF(PyFrameObject, f_localsplus));
#else
	sym("kind", "LAYOUT_FRAME_INTERP");
	num("size", SIZE(_PyInterpreterFrame));
	num("back", OFF(_PyInterpreterFrame, previous));
#if !V(3, 13)
	num("code", OFF(_PyInterpreterFrame, f_code));
#else
	num("code", OFF(_PyInterpreterFrame, f_executable));
#endif
	/*
	 * 3.14+ f_executable is a _PyStackRef: the object pointer with tag
	 * bits in the two low bits (Py_TAG_BITS in pycore_stackref.h).
	 */
	num("tag_bits", V(3, 14) ? 3 : 0);
	num("lasti", NONE);
	num("lasti_scale", NONE);
#if !V(3, 13)
	num("instr_ptr", OFF(_PyInterpreterFrame, prev_instr));
#else
	num("instr_ptr", OFF(_PyInterpreterFrame, instr_ptr));
#endif
	num("owner", OFF(_PyInterpreterFrame, owner));
	/* Frames owned by the C stack (3.12/3.13 entry and shim frames) or
	 * the interpreter (3.14+ entry frames, 3.15 base frame) carry no
	 * Python code: skip owners >= this. */
#if V(3, 14)
	num("owner_skip", FRAME_OWNED_BY_INTERPRETER);
#elif V(3, 12)
	num("owner_skip", FRAME_OWNED_BY_CSTACK);
#else
	num("owner_skip", NONE);
#endif
	/* 3.11 marks an activation's first frame; 3.12+ push a C-stack
	 * owned entry frame under it instead (skipped above). */
#if V(3, 12)
	num("is_entry", NONE);
#else
	num("is_entry", OFF(_PyInterpreterFrame, is_entry));
#endif
	num("localsplus", OFF(_PyInterpreterFrame, localsplus));
#endif
	/* Where a suspended frame's value stack ends (its top is what a
	 * generator awaits / yields from). */
#if !V(3, 10)
	sym("stack_kind", "LAYOUT_STACK_TOP_PTR");
	num("stacktop", OFF(PyFrameObject, f_stacktop));
	num("valuestack", OFF(PyFrameObject, f_valuestack));
#elif !V(3, 11)
	sym("stack_kind", "LAYOUT_STACK_DEPTH");
	num("stacktop", OFF(PyFrameObject, f_stackdepth));
	num("valuestack", OFF(PyFrameObject, f_valuestack));
#elif !V(3, 14)
	sym("stack_kind", "LAYOUT_STACK_TOP_INDEX");
	num("stacktop", OFF(_PyInterpreterFrame, stacktop));
	num("valuestack", NONE);
#else
	sym("stack_kind", "LAYOUT_STACK_POINTER");
	num("stacktop", OFF(_PyInterpreterFrame, stackpointer));
	num("valuestack", NONE);
#endif
	/* <=3.10: the block stack (with / try blocks of the running code). */
#if !V(3, 11)
	num("iblock", OFF(PyFrameObject, f_iblock));
	num("blockstack", OFF(PyFrameObject, f_blockstack));
	num("block_size", SIZE(PyTryBlock));
	num("max_blocks", CO_MAXBLOCKS);
#else
	num("iblock", NONE);
	num("blockstack", NONE);
	num("block_size", NONE);
	num("max_blocks", NONE);
#endif
	close_sub();
}

/*
 * Generators, coroutines and async generators share the PyGenObject head.
 * "Suspended in await / yield from" is decided as CPython's _PyGen_yf does.
 */
static void print_gen(void)
{
	open_sub("gen");
#if !V(3, 11)
	num("frame", OFF(PyGenObject, gi_frame));
	num("iframe", NONE);
	num("frame_state", NONE);
	num("state_suspended", NONE);
#else
	num("frame", NONE);
	num("iframe", OFF(PyGenObject, gi_iframe));
	num("frame_state", OFF(PyGenObject, gi_frame_state));
	num("state_suspended", FRAME_SUSPENDED);
#endif
#if PY2
	num("qualname", NONE);
#else
	num("qualname", OFF(PyGenObject, gi_qualname));
#endif
#if PY2
	sym("yf_kind", "LAYOUT_YF_NONE");
	num("yf_opcode", NONE);
	num("yf_opcode_alt", NONE);
	num("yf_state", NONE);
	num("yf_state_alt", NONE);
#elif !V(3, 11)
	/* the instruction after f_lasti is YIELD_FROM */
	sym("yf_kind", "LAYOUT_YF_NEXT_OPCODE");
	num("yf_opcode", YIELD_FROM);
	num("yf_opcode_alt", NONE);
	num("yf_state", NONE);
	num("yf_state_alt", NONE);
#elif !V(3, 13)
	/* the instruction after prev_instr is RESUME with oparg >= 2 (its
	 * quickened / instrumented forms count too) */
	sym("yf_kind", "LAYOUT_YF_RESUME");
	num("yf_opcode", RESUME);
#if V(3, 12)
	num("yf_opcode_alt", INSTRUMENTED_RESUME);
#else
	num("yf_opcode_alt", RESUME_QUICK);
#endif
	num("yf_state", NONE);
	num("yf_state_alt", NONE);
#else
	sym("yf_kind", "LAYOUT_YF_STATE");
	num("yf_opcode", NONE);
	num("yf_opcode_alt", NONE);
	num("yf_state", FRAME_SUSPENDED_YIELD_FROM);
#if V(3, 15)
	num("yf_state_alt", FRAME_SUSPENDED_YIELD_FROM_LOCKED);
#else
	num("yf_state_alt", NONE);
#endif
#endif
	/* The awaited object is the top of the value stack; 3.15 pushes a
	 * NULL stackref above it. */
	num("yf_slot", V(3, 15) ? 2 : 1);
	/* PyAsyncGenASend (Objects/genobject.c, private):
	 * { PyObject_HEAD; PyAsyncGenObject *ags_gen; ... } */
	num("asend_gen", 16);
	close_sub();
}

static void print_containers(void)
{
	open_sub("container");
	num("list_items", OFF(PyListObject, ob_item));
	num("tuple_items", OFF(PyTupleObject, ob_item));
	num("set_used", OFF(PySetObject, used));
	num("set_mask", OFF(PySetObject, mask));
	num("set_table", OFF(PySetObject, table));
	num("set_entry_size", SIZE(setentry));
	num("set_entry_key", OFF(setentry, key));
	num("weakref_object", OFF(PyWeakReference, wr_object));
	num("float_value", OFF(PyFloatObject, ob_fval));
	num("cell_ref", OFF(PyCellObject, ob_ref));
	num("method_self", OFF(PyMethodObject, im_self));
	num("method_func", OFF(PyMethodObject, im_func));
	num("cfunction_self", OFF(PyCFunctionObject, m_self));
	num("function_closure", OFF(PyFunctionObject, func_closure));
	num("function_code", OFF(PyFunctionObject, func_code));
	num("function_name", OFF(PyFunctionObject, func_name));
#if PY2
	num("function_qualname", NONE);
#else
	num("function_qualname", OFF(PyFunctionObject, func_qualname));
#endif
	num("memberdescr_member", OFF(PyMemberDescrObject, d_member));
	num("memberdef_offset", OFF(PyMemberDef, offset));
	/* functools.partial (Modules/_functoolsmodule.c, private):
	 * { PyObject_HEAD; PyObject *fn; PyObject *args; ... } */
	num("partial_args", 24);
	close_sub();
}

/*
 * asyncio's FutureObj and TaskObj are private to Modules/_asynciomodule.c:
 * hand tables, measured on each version (CPYTHON_INTERNALS.md section 5,
 * [V]).  3.14+ targets also describe the task in their .AsyncioDebug
 * section, which overrides these when found.
 */
static void print_asyncio(void)
{
	long state = NONE, waiter = NONE, coro = NONE, name = NONE;
	long result = NONE, size = NONE;

#if V(3, 14)
	result = 64, state = 104, waiter = 120, coro = 128, name = 136, size = 168;
#elif V(3, 13)
	result = 64, state = 96, waiter = 112, coro = 120, name = 128, size = 144;
#elif V(3, 11)
	result = 64, state = 88, waiter = 128, coro = 136, name = 144, size = 176;
#elif V(3, 10)
	result = 64, state = 88, waiter = 152, coro = 160, name = 168, size = 192;
#elif V(3, 9)
	result = 56, state = 80, waiter = 144, coro = 152, name = 160, size = 184;
#elif V(3, 8)
	result = 56, state = 72, waiter = 104, coro = 112, name = 120, size = 144;
#endif
	open_sub("asyncio");
	num("fut_loop", size == NONE ? NONE : 16);
	num("fut_callback", size == NONE ? NONE : 24);
	num("fut_callbacks", size == NONE ? NONE : 40);
	num("fut_result", result);
	num("fut_state", state);
#if V(3, 14)
	num("fut_awaited_by", 96);
	num("fut_is_task", 108);
	num("fut_awaited_by_is_set", 109);
	num("task_node", 152);
#else
	num("fut_awaited_by", NONE);
	num("fut_is_task", NONE);
	num("fut_awaited_by_is_set", NONE);
	num("task_node", NONE);
#endif
	num("task_fut_waiter", waiter);
	num("task_coro", coro);
	num("task_name", name);
	num("task_size", size);
	/* FutureIter { PyObject_HEAD; FutureObj *future; } */
	num("futureiter_future", size == NONE ? NONE : 16);
	/* 3.8/3.9 TaskWakeupMethWrapper { PyObject_HEAD; TaskObj *ww_task; }
	 * (3.10+ wakes tasks through a bound builtin method) */
	num("wakeup_task", V(3, 8) && !V(3, 10) ? 16 : NONE);
#if V(3, 14)
	num("ts_running_loop", OFF(_PyThreadStateImpl, asyncio_running_loop));
	num("ts_running_task", OFF(_PyThreadStateImpl, asyncio_running_task));
	num("ts_tasks_head", OFF(_PyThreadStateImpl, asyncio_tasks_head));
	num("interp_tasks_head", OFF(PyInterpreterState, asyncio_tasks_head));
#else
	num("ts_running_loop", NONE);
	num("ts_running_task", NONE);
	num("ts_tasks_head", NONE);
	num("interp_tasks_head", NONE);
#endif
	close_sub();
}

/*
 * _thread.lock and _thread.RLock are private to Modules/_threadmodule.c
 * (Modules/threadmodule.c in 2.7): mirrored here from each version's
 * source, then measured with offsetof() like the rest.  <=3.13 lock the
 * object with a PyThread_type_lock (a sem_t * on Linux) that a blocked
 * thread's futex names; 3.14+ with a PyMutex (bit 0 locked, bit 1 has
 * parked waiters) and, for the RLock, a _PyRecursiveMutex whose level is
 * the count minus one.
 */
#if V(3, 14)
#include "internal/pycore_lock.h" /* PyMutex, _PyRecursiveMutex */
typedef struct {
	PyObject_HEAD
	PyMutex lock;
} gen_lockobject;
typedef struct {
	PyObject_HEAD
	_PyRecursiveMutex lock;
} gen_rlockobject;
#define GEN_LOCK_WORD OFF(gen_lockobject, lock)
#define GEN_LOCK_LOCKED OFF(gen_lockobject, lock)
#define GEN_RLOCK_OWNER OFF(gen_rlockobject, lock.thread)
#elif PY2
#include <pythread.h> /* PyThread_type_lock */
typedef struct {
	PyObject_HEAD
	PyThread_type_lock lock_lock;
	PyObject *in_weakreflist;
} gen_lockobject; /* no 'locked' flag; no C RLock (threading._RLock) */
#define GEN_LOCK_WORD OFF(gen_lockobject, lock_lock)
#define GEN_LOCK_LOCKED NONE
#define GEN_RLOCK_OWNER NONE
#else
#include <pythread.h> /* PyThread_type_lock (not in Python.h before 3.7) */
typedef struct {
	PyObject_HEAD
	PyThread_type_lock lock_lock;
	PyObject *in_weakreflist;
	char locked; /* for sanity checking */
} gen_lockobject;
typedef struct {
	PyObject_HEAD
	PyThread_type_lock rlock_lock;
	unsigned long rlock_owner;
	unsigned long rlock_count;
	PyObject *in_weakreflist;
} gen_rlockobject;
#define GEN_LOCK_WORD OFF(gen_lockobject, lock_lock)
#define GEN_LOCK_LOCKED OFF(gen_lockobject, locked)
#define GEN_RLOCK_OWNER OFF(gen_rlockobject, rlock_owner)
#endif

static void print_locks(void)
{
	open_sub("lock");
	num("mutex", V(3, 14) ? 1 : 0);
	num("word", GEN_LOCK_WORD);
	num("locked", GEN_LOCK_LOCKED);
	num("rlock_owner", GEN_RLOCK_OWNER);
	close_sub();
}

static void print_code(void)
{
	open_sub("code");
	num("size", SIZE(PyCodeObject));
#if V(3, 11)
	/* Py_SIZE(code) = number of code units in co_code_adaptive */
	num("ob_size", OFF(PyVarObject, ob_size));
#else
	num("ob_size", NONE);
#endif
	num("filename", OFF(PyCodeObject, co_filename));
	num("name", OFF(PyCodeObject, co_name));
#if V(3, 11)
	num("qualname", OFF(PyCodeObject, co_qualname));
#else
	num("qualname", NONE);
#endif
#if !V(3, 10)
	num("linetable", OFF(PyCodeObject, co_lnotab));
#else
	num("linetable", OFF(PyCodeObject, co_linetable));
#endif
	num("firstlineno", OFF(PyCodeObject, co_firstlineno));
#if !V(3, 11)
	num("code", OFF(PyCodeObject, co_code));
	num("code_adaptive", NONE);
#else
	num("code", NONE);
	num("code_adaptive", OFF(PyCodeObject, co_code_adaptive));
#endif
#if PY2
	sym("linetable_kind", "LAYOUT_LINES_LNOTAB27");
#elif !V(3, 10)
	sym("linetable_kind", "LAYOUT_LINES_LNOTAB");
#elif !V(3, 11)
	sym("linetable_kind", "LAYOUT_LINES_310");
#else
	sym("linetable_kind", "LAYOUT_LINES_LOCATIONS");
#endif
	num("argcount", OFF(PyCodeObject, co_argcount));
#if PY2
	num("kwonlyargcount", NONE);
#else
	num("kwonlyargcount", OFF(PyCodeObject, co_kwonlyargcount));
#endif
	num("flags", OFF(PyCodeObject, co_flags));
#if !V(3, 11)
	num("nlocals", OFF(PyCodeObject, co_nlocals));
	num("varnames", OFF(PyCodeObject, co_varnames));
	num("cellvars", OFF(PyCodeObject, co_cellvars));
	num("freevars", OFF(PyCodeObject, co_freevars));
	num("nlocalsplus", NONE);
	num("localsplusnames", NONE);
	num("localspluskinds", NONE);
	num("exceptiontable", NONE);
#else
	num("nlocals", NONE);
	num("varnames", NONE);
	num("cellvars", NONE);
	num("freevars", NONE);
	num("nlocalsplus", OFF(PyCodeObject, co_nlocalsplus));
	num("localsplusnames", OFF(PyCodeObject, co_localsplusnames));
	num("localspluskinds", OFF(PyCodeObject, co_localspluskinds));
	num("exceptiontable", OFF(PyCodeObject, co_exceptiontable));
#endif
	num("stacksize", OFF(PyCodeObject, co_stacksize));
	close_sub();
}

static void print_objects(void)
{
	open_sub("object");
	num("ob_type", OFF(PyObject, ob_type));
	num("ob_size", OFF(PyVarObject, ob_size));
	close_sub();

	open_sub("type");
	num("tp_name", OFF(PyTypeObject, tp_name));
	num("tp_basicsize", OFF(PyTypeObject, tp_basicsize));
	num("tp_dictoffset", OFF(PyTypeObject, tp_dictoffset));
	num("tp_flags", OFF(PyTypeObject, tp_flags));
	num("tp_base", OFF(PyTypeObject, tp_base));
	num("tp_dict", OFF(PyTypeObject, tp_dict));
#if PY2
	num("ht_cached_keys", NONE);
#else
	num("ht_cached_keys", OFF(PyHeapTypeObject, ht_cached_keys));
#endif
	close_sub();

	open_sub("unicode");
#if PY2
	/* 'str' is PyStringObject (see bytes below); 'unicode' is
	 * { PyObject_HEAD; Py_ssize_t length; Py_UNICODE *str; ... } */
	sym("kind", "LAYOUT_STR_PY2");
	num("length", OFF(PyUnicodeObject, length));
	num("state", NONE);
	num("ascii_data", NONE);
	num("compact_data", OFF(PyUnicodeObject, str));
	num("kind_shift", NONE);
	num("compact_bit", NONE);
	num("ascii_bit", NONE);
	num("char_size", SIZE(Py_UNICODE));
#else
	sym("kind", "LAYOUT_STR_PEP393");
	num("length", OFF(PyASCIIObject, length));
	num("state", OFF(PyASCIIObject, state));
	num("ascii_data", SIZE(PyASCIIObject));
	num("compact_data", SIZE(PyCompactUnicodeObject));
	num("kind_shift", state_bit_kind());
	num("compact_bit", state_bit_compact());
	num("ascii_bit", state_bit_ascii());
	num("char_size", NONE);
#endif
	close_sub();

	open_sub("bytes");
#if PY2
	num("size", OFF(PyStringObject, ob_size));
	num("data", OFF(PyStringObject, ob_sval));
#else
	num("size", OFF(PyBytesObject, ob_base.ob_size));
	num("data", OFF(PyBytesObject, ob_sval));
#endif
	close_sub();

	open_sub("pylong");
#if !V(3, 12)
	sym("kind", "LAYOUT_LONG_OB_SIZE");
	num("tag", OFF(PyVarObject, ob_size)); /* 2.7: no ob_base member */
	num("digits", OFF(PyLongObject, ob_digit));
#else
	sym("kind", "LAYOUT_LONG_LV_TAG");
	num("tag", OFF(PyLongObject, long_value.lv_tag));
	num("digits", OFF(PyLongObject, long_value.ob_digit));
#endif
	num("digit_bits", PyLong_SHIFT);
#if PY2
	num("int_value", OFF(PyIntObject, ob_ival));
#else
	num("int_value", NONE);
#endif
	close_sub();
}

static void print_dict(void)
{
	open_sub("dict");
	num("ma_used", OFF(PyDictObject, ma_used));
#if PY2
	sym("kind", "LAYOUT_DICT_27");
	num("ma_keys", NONE);
	num("ma_values", NONE);
	num("dk_size", NONE);
	num("dk_index_bytes", NONE);
	num("dk_kind", NONE);
	num("dk_nentries", NONE);
	num("dk_indices", NONE);
	num("values_header", NONE);
	num("ma_mask", OFF(PyDictObject, ma_mask));
	num("ma_table", OFF(PyDictObject, ma_table));
#elif !V(3, 11)
	sym("kind", "LAYOUT_DICT_36");
	num("ma_keys", OFF(PyDictObject, ma_keys));
	num("ma_values", OFF(PyDictObject, ma_values));
	/*
	 * struct _dictkeysobject lives in Objects/dict-common.h, which is not
	 * installed for <= 3.10.  It is { Py_ssize_t dk_refcnt; Py_ssize_t
	 * dk_size; dict_lookup_func dk_lookup; Py_ssize_t dk_usable;
	 * Py_ssize_t dk_nentries; char dk_indices[]; } in 3.6-3.10, i.e.
	 * dk_size @8, dk_nentries @32, dk_indices @40 (CPYTHON_INTERNALS.md
	 * section 5, [V]).
	 */
	num("dk_size", 8);
	num("dk_index_bytes", NONE);
	num("dk_kind", NONE);
	num("dk_nentries", 32);
	num("dk_indices", 40);
	num("values_header", 0);
	num("ma_mask", NONE);
	num("ma_table", NONE);
#else
	sym("kind", "LAYOUT_DICT_311");
	num("ma_keys", OFF(PyDictObject, ma_keys));
	num("ma_values", OFF(PyDictObject, ma_values));
	num("dk_size", OFF(PyDictKeysObject, dk_log2_size));
	num("dk_index_bytes", OFF(PyDictKeysObject, dk_log2_index_bytes));
	num("dk_kind", OFF(PyDictKeysObject, dk_kind));
	num("dk_nentries", OFF(PyDictKeysObject, dk_nentries));
	num("dk_indices", OFF(PyDictKeysObject, dk_indices));
#if V(3, 13)
	num("values_header", OFF(PyDictValues, values));
#else
	num("values_header", 0);
#endif
	num("ma_mask", NONE);
	num("ma_table", NONE);
#endif
	close_sub();
}

static void print_module(void)
{
	open_sub("module");
#if !V(3, 10)
	/*
	 * PyModuleObject is private to Objects/moduleobject.c before 3.10:
	 * { PyObject_HEAD; PyObject *md_dict; ... }, so md_dict @16
	 * (CPYTHON_INTERNALS.md section 5, [V]).
	 */
	num("dict", 16);
#else
	num("dict", OFF(PyModuleObject, md_dict));
#endif
	close_sub();

	open_sub("instdict");
#if !V(3, 11)
	sym("kind", "LAYOUT_INSTDICT_OFFSET");
#elif !V(3, 12)
	sym("kind", "LAYOUT_INSTDICT_311");
#elif !V(3, 13)
	sym("kind", "LAYOUT_INSTDICT_312");
#else
	sym("kind", "LAYOUT_INSTDICT_313");
#endif
	close_sub();
}

/* Opcodes that tell a with statement's block from other blocks. */
static void print_opcodes(void)
{
	open_sub("op");
#if !V(3, 11)
	num("setup_finally", SETUP_FINALLY);
	num("setup_with", SETUP_WITH);
#if PY2
	num("setup_async_with", NONE);
	num("have_argument", HAVE_ARGUMENT);
#else
	num("setup_async_with", SETUP_ASYNC_WITH);
	num("have_argument", NONE); /* 3.6+: every instruction is 2 bytes */
#endif
	num("extended_arg", EXTENDED_ARG);
	num("with_except_start", NONE);
#else
	num("setup_finally", NONE);
	num("setup_with", NONE);
	num("setup_async_with", NONE);
	num("have_argument", NONE);
	num("extended_arg", EXTENDED_ARG);
	/* the first instruction after PUSH_EXC_INFO in a with's cleanup */
	num("with_except_start", WITH_EXCEPT_START);
#endif
	close_sub();
}

int main(void)
{
	printf("/* CPython %s */\n", PY_VERSION);
	printf("static const struct py_layout layout_%d_%d = {\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION);
	num("major", PY_MAJOR_VERSION);
	num("minor", PY_MINOR_VERSION);
	print_runtime();
	print_interp();
	print_tstate();
	print_chunk();
	print_frame();
	print_code();
	print_objects();
	print_dict();
	print_module();
	print_gen();
	print_containers();
	print_asyncio();
	print_locks();
	print_opcodes();
	printf("};\n");
#if V(3, 13)
	printf("\n");
	print_debug_desc();
#endif
	return 0;
}
