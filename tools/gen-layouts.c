/*
 * gen-layouts.c - print one struct py_layout initializer for the CPython
 * whose headers this file is compiled against.
 *
 * Helper for tools/gen-layouts.sh, which compiles it once per version with
 *   -DPy_BUILD_CORE -I$prefix/include/python3.X -I.../python3.X/internal
 * runs it, and pastes the output into pystructs/layouts_gen.c.  Every value
 * comes from offsetof()/sizeof() against that version's own headers, except
 * for the few structs no installed header defines; those are hardcoded below
 * with the source they come from.
 *
 * This is the only place in snakescope that may test PY_VERSION.  Supported:
 * 3.8 through 3.13 (3.13+ is additionally overlaid at run time with the
 * target's _Py_DebugOffsets).
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

#if PY_MAJOR_VERSION != 3 || PY_MINOR_VERSION < 8 || PY_MINOR_VERSION > 13
#error "gen-layouts supports CPython 3.8 to 3.13"
#endif

#if PY_MINOR_VERSION == 8
#include <frameobject.h>
#include <longintrepr.h>
#include "internal/pycore_pystate.h" /* _PyRuntimeState, struct _is */
#elif PY_MINOR_VERSION <= 10
#include <frameobject.h>
#include <longintrepr.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#if PY_MINOR_VERSION == 10
#include "internal/pycore_moduleobject.h"
#endif
#else /* 3.11+ */
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#if PY_MINOR_VERSION >= 12
#include "internal/pycore_gil.h"
#endif
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

int main(void)
{
	printf("/* CPython %s */\n", PY_VERSION);
	printf("static const struct py_layout layout_%d_%d = {\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION);
	num("major", PY_MAJOR_VERSION);
	num("minor", PY_MINOR_VERSION);

	/* ---- _PyRuntimeState */
	open_sub("runtime");
	num("interpreters_head", OFF(_PyRuntimeState, interpreters.head));
#if PY_MINOR_VERSION <= 11
	num("tstate_current", OFF(_PyRuntimeState, gilstate.tstate_current));
#else
	num("tstate_current", NONE);
#endif
	close_sub();

	/* ---- PyInterpreterState */
	open_sub("interp");
	num("next", OFF(PyInterpreterState, next));
	num("id", OFF(PyInterpreterState, id));
#if PY_MINOR_VERSION <= 10
	num("threads_head", OFF(PyInterpreterState, tstate_head));
#else
	num("threads_head", OFF(PyInterpreterState, threads.head));
#endif
#if PY_MINOR_VERSION <= 11
	num("modules", OFF(PyInterpreterState, modules));
	num("sysdict", OFF(PyInterpreterState, sysdict));
#else
	num("modules", OFF(PyInterpreterState, imports.modules));
	num("sysdict", OFF(PyInterpreterState, sysdict));
#endif
#if PY_MINOR_VERSION >= 12
	num("ceval_gil", OFF(PyInterpreterState, ceval.gil));
#else
	num("ceval_gil", NONE);
#endif
	close_sub();

	/* ---- struct _gil_runtime_state (reached through interp.ceval_gil) */
	open_sub("gil");
#if PY_MINOR_VERSION >= 12
	num("last_holder", OFF(struct _gil_runtime_state, last_holder));
	num("locked", OFF(struct _gil_runtime_state, locked));
#else
	num("last_holder", NONE);
	num("locked", NONE);
#endif
	close_sub();

	/* ---- PyThreadState */
	open_sub("tstate");
	num("size", SIZE(PyThreadState));
	num("next", OFF(PyThreadState, next));
	num("interp", OFF(PyThreadState, interp));
#if PY_MINOR_VERSION <= 10
	num("frame", OFF(PyThreadState, frame));
	num("cframe_frame", NONE);
#elif PY_MINOR_VERSION <= 12
	num("frame", OFF(PyThreadState, cframe));
	num("cframe_frame", OFF(_PyCFrame, current_frame));
#else
	num("frame", OFF(PyThreadState, current_frame));
	num("cframe_frame", NONE);
#endif
	num("thread_id", OFF(PyThreadState, thread_id));
#if PY_MINOR_VERSION >= 11
	num("native_thread_id", OFF(PyThreadState, native_thread_id));
#else
	num("native_thread_id", NONE);
#endif
	close_sub();

	/* ---- frames */
	open_sub("frame");
#if PY_MINOR_VERSION <= 10
	sym("kind", "LAYOUT_FRAME_OBJECT");
	num("size", SIZE(PyFrameObject));
	num("back", OFF(PyFrameObject, f_back));
	num("code", OFF(PyFrameObject, f_code));
	num("lasti", OFF(PyFrameObject, f_lasti));
	/* f_lasti counts bytes up to 3.9, 2-byte code units in 3.10 */
	num("lasti_scale", PY_MINOR_VERSION <= 9 ? 1 : 2);
	num("instr_ptr", NONE);
	num("owner", NONE);
	num("owner_skip", NONE);
	num("localsplus", OFF(PyFrameObject, f_localsplus));
#else
	sym("kind", "LAYOUT_FRAME_INTERP");
	num("size", SIZE(_PyInterpreterFrame));
	num("back", OFF(_PyInterpreterFrame, previous));
#if PY_MINOR_VERSION <= 12
	num("code", OFF(_PyInterpreterFrame, f_code));
#else
	num("code", OFF(_PyInterpreterFrame, f_executable));
#endif
	num("lasti", NONE);
	num("lasti_scale", NONE);
#if PY_MINOR_VERSION <= 12
	num("instr_ptr", OFF(_PyInterpreterFrame, prev_instr));
#else
	num("instr_ptr", OFF(_PyInterpreterFrame, instr_ptr));
#endif
	num("owner", OFF(_PyInterpreterFrame, owner));
#if PY_MINOR_VERSION >= 12
	/* entry/shim frames owned by the C stack: skip them */
	num("owner_skip", FRAME_OWNED_BY_CSTACK);
#else
	num("owner_skip", NONE);
#endif
	num("localsplus", OFF(_PyInterpreterFrame, localsplus));
#endif
	close_sub();

	/* ---- PyCodeObject */
	open_sub("code");
	num("size", SIZE(PyCodeObject));
#if PY_MINOR_VERSION >= 11
	/* Py_SIZE(code) = number of code units in co_code_adaptive */
	num("ob_size", OFF(PyVarObject, ob_size));
#else
	num("ob_size", NONE);
#endif
	num("filename", OFF(PyCodeObject, co_filename));
	num("name", OFF(PyCodeObject, co_name));
#if PY_MINOR_VERSION >= 11
	num("qualname", OFF(PyCodeObject, co_qualname));
#else
	num("qualname", NONE);
#endif
#if PY_MINOR_VERSION <= 9
	num("linetable", OFF(PyCodeObject, co_lnotab));
#else
	num("linetable", OFF(PyCodeObject, co_linetable));
#endif
	num("firstlineno", OFF(PyCodeObject, co_firstlineno));
#if PY_MINOR_VERSION <= 10
	num("code", OFF(PyCodeObject, co_code));
	num("code_adaptive", NONE);
#else
	num("code", NONE);
	num("code_adaptive", OFF(PyCodeObject, co_code_adaptive));
#endif
#if PY_MINOR_VERSION <= 9
	sym("linetable_kind", "LAYOUT_LINES_LNOTAB");
#elif PY_MINOR_VERSION == 10
	sym("linetable_kind", "LAYOUT_LINES_310");
#else
	sym("linetable_kind", "LAYOUT_LINES_LOCATIONS");
#endif
	close_sub();

	/* ---- PyObject / PyVarObject */
	open_sub("object");
	num("ob_type", OFF(PyObject, ob_type));
	num("ob_size", OFF(PyVarObject, ob_size));
	close_sub();

	/* ---- PyTypeObject / PyHeapTypeObject */
	open_sub("type");
	num("tp_name", OFF(PyTypeObject, tp_name));
	num("tp_basicsize", OFF(PyTypeObject, tp_basicsize));
	num("tp_dictoffset", OFF(PyTypeObject, tp_dictoffset));
	num("tp_flags", OFF(PyTypeObject, tp_flags));
	num("ht_cached_keys", OFF(PyHeapTypeObject, ht_cached_keys));
	close_sub();

	/* ---- str */
	open_sub("unicode");
	num("length", OFF(PyASCIIObject, length));
	num("state", OFF(PyASCIIObject, state));
	num("ascii_data", SIZE(PyASCIIObject));
	num("compact_data", SIZE(PyCompactUnicodeObject));
	num("kind_shift", state_bit_kind());
	num("compact_bit", state_bit_compact());
	num("ascii_bit", state_bit_ascii());
	close_sub();

	/* ---- bytes */
	open_sub("bytes");
	num("size", OFF(PyBytesObject, ob_base.ob_size));
	num("data", OFF(PyBytesObject, ob_sval));
	close_sub();

	/* ---- int */
	open_sub("pylong");
#if PY_MINOR_VERSION <= 11
	sym("kind", "LAYOUT_LONG_OB_SIZE");
	num("tag", OFF(PyLongObject, ob_base.ob_size));
	num("digits", OFF(PyLongObject, ob_digit));
#else
	sym("kind", "LAYOUT_LONG_LV_TAG");
	num("tag", OFF(PyLongObject, long_value.lv_tag));
	num("digits", OFF(PyLongObject, long_value.ob_digit));
#endif
	num("digit_bits", PyLong_SHIFT);
	close_sub();

	/* ---- dict */
	open_sub("dict");
#if PY_MINOR_VERSION <= 10
	sym("kind", "LAYOUT_DICT_36");
	num("ma_keys", OFF(PyDictObject, ma_keys));
	num("ma_values", OFF(PyDictObject, ma_values));
	/*
	 * struct _dictkeysobject lives in Objects/dict-common.h, which is not
	 * installed for <= 3.10.  It is { Py_ssize_t dk_refcnt; Py_ssize_t
	 * dk_size; dict_lookup_func dk_lookup; Py_ssize_t dk_usable;
	 * Py_ssize_t dk_nentries; char dk_indices[]; } in 3.8-3.10, i.e.
	 * dk_size @8, dk_nentries @32, dk_indices @40 (CPYTHON_INTERNALS.md
	 * section 5, [V]).
	 */
	num("dk_size", 8);
	num("dk_index_bytes", NONE);
	num("dk_kind", NONE);
	num("dk_nentries", 32);
	num("dk_indices", 40);
	num("values_header", 0);
#else
	sym("kind", "LAYOUT_DICT_311");
	num("ma_keys", OFF(PyDictObject, ma_keys));
	num("ma_values", OFF(PyDictObject, ma_values));
	num("dk_size", OFF(PyDictKeysObject, dk_log2_size));
	num("dk_index_bytes", OFF(PyDictKeysObject, dk_log2_index_bytes));
	num("dk_kind", OFF(PyDictKeysObject, dk_kind));
	num("dk_nentries", OFF(PyDictKeysObject, dk_nentries));
	num("dk_indices", OFF(PyDictKeysObject, dk_indices));
#if PY_MINOR_VERSION >= 13
	num("values_header", OFF(PyDictValues, values));
#else
	num("values_header", 0);
#endif
#endif
	close_sub();

	/* ---- module */
	open_sub("module");
#if PY_MINOR_VERSION <= 9
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

	/* ---- instance __dict__ placement */
	open_sub("instdict");
#if PY_MINOR_VERSION <= 10
	sym("kind", "LAYOUT_INSTDICT_OFFSET");
#elif PY_MINOR_VERSION == 11
	sym("kind", "LAYOUT_INSTDICT_311");
#elif PY_MINOR_VERSION == 12
	sym("kind", "LAYOUT_INSTDICT_312");
#else
	sym("kind", "LAYOUT_INSTDICT_313");
#endif
	close_sub();

	printf("};\n");
	return 0;
}
