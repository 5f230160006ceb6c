/*
 * layout.h - CPython struct layouts as data.
 *
 * One struct py_layout describes, for one CPython minor version, every size
 * and offset the readers in pystructs/ use, plus a few "kind" selectors for
 * behaviour that differs by version (frame model, line-table format, int and
 * dict representation).  Readers only ever use L->... offsets; there is no
 * #if PY_VERSION anywhere outside tools/gen-layouts.c.
 *
 * Tables for versions without _Py_DebugOffsets are generated from each
 * version's own headers by tools/gen-layouts.sh (see its header comment) into
 * pystructs/layouts_gen.c, which is committed.  For 3.13+ the layout is
 * overlaid with the target's own _Py_DebugOffsets (see debug_offsets.h).
 *
 * Offsets are in bytes, relative to the start of the named struct.  A field
 * that does not exist in a version is LAYOUT_NONE.
 */
#ifndef SNAKESCOPE_LAYOUT_H
#define SNAKESCOPE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define LAYOUT_NONE (-1)

/* Where the interpreter list and the current thread state are kept. */
enum layout_runtime_kind {
	LAYOUT_RUNTIME_STRUCT = 1,  /* 3.7+: fields of _PyRuntime */
	LAYOUT_RUNTIME_GLOBALS = 2, /* <=3.6: the globals interp_head and
				       _PyThreadState_Current */
};

/* How a thread's frames are represented. */
enum layout_frame_kind {
	LAYOUT_FRAME_OBJECT = 1, /* <=3.10: heap PyFrameObject, f_back chain */
	LAYOUT_FRAME_INTERP = 2, /* 3.11+: _PyInterpreterFrame, previous chain */
};

/* Which line-number table a code object carries. */
enum layout_linetable_kind {
	LAYOUT_LINES_LNOTAB = 1,    /* 3.6-3.9 co_lnotab, byte offsets */
	LAYOUT_LINES_310 = 2,       /* 3.10 co_linetable */
	LAYOUT_LINES_LOCATIONS = 3, /* 3.11+ co_linetable (location table) */
	LAYOUT_LINES_LNOTAB27 = 4,  /* 2.7 co_lnotab: unsigned line deltas */
};

/* How str objects are stored. */
enum layout_str_kind {
	LAYOUT_STR_PEP393 = 1, /* 3.3+: compact 1/2/4-byte kinds */
	LAYOUT_STR_PY2 = 2,    /* 2.7: 'str' is bytes (PyStringObject),
				  'unicode' points at Py_UNICODE data */
};

/* How an int stores its size and sign. */
enum layout_long_kind {
	LAYOUT_LONG_OB_SIZE = 1, /* <=3.11: signed ob_size = sign * ndigits */
	LAYOUT_LONG_LV_TAG = 2,  /* 3.12+: lv_tag = ndigits << 3 | sign bits */
};
/* (2.7 also has the machine-word 'int', PyIntObject: pylong.int_value.) */

/* Dict keys object format. */
enum layout_dict_kind {
	LAYOUT_DICT_36 = 1,  /* 3.6-3.10: dk_size, dk_nentries, dk_indices */
	LAYOUT_DICT_311 = 2, /* 3.11+: dk_log2_size, dk_log2_index_bytes, dk_kind */
	LAYOUT_DICT_27 = 3,  /* 2.7: open-addressed ma_table of ma_mask + 1 */
};

/* Where an ordinary instance keeps its attributes. */
enum layout_instdict_kind {
	LAYOUT_INSTDICT_OFFSET = 1, /* <=3.10: obj + tp_dictoffset */
	LAYOUT_INSTDICT_311 = 2,    /* values at obj-32, dict at obj-24 */
	LAYOUT_INSTDICT_312 = 3,    /* obj-24: dict, or values|1 */
	LAYOUT_INSTDICT_313 = 4,    /* dict at obj-24, else inline values */
};

/* Where a suspended frame's value stack ends. */
enum layout_stack_kind {
	LAYOUT_STACK_TOP_PTR = 1,   /* <=3.9: f_stacktop, a pointer */
	LAYOUT_STACK_DEPTH = 2,     /* 3.10: f_valuestack + f_stackdepth */
	LAYOUT_STACK_TOP_INDEX = 3, /* 3.11-3.13: stacktop, an index into
				       localsplus */
	LAYOUT_STACK_POINTER = 4,   /* 3.14+: stackpointer (stackrefs) */
};

/* How to tell that a generator is suspended in await / yield from. */
enum layout_yf_kind {
	LAYOUT_YF_NONE = 0,        /* 2.7: no yield from */
	LAYOUT_YF_NEXT_OPCODE = 1, /* <=3.10: next opcode is YIELD_FROM */
	LAYOUT_YF_RESUME = 2,      /* 3.11/3.12: next is RESUME, oparg >= 2 */
	LAYOUT_YF_STATE = 3,       /* 3.13+: gi_frame_state says so */
};

struct py_layout {
	unsigned major, minor;

	struct {
		int kind; /* enum layout_runtime_kind */
		/* offsets in _PyRuntime; for LAYOUT_RUNTIME_GLOBALS the
		 * "runtime" is the variable interp_head, so this is 0 */
		int interpreters_head;
		int tstate_current; /* 3.7-3.11 gilstate.tstate_current, else
				       NONE (<=3.6: its own global) */
		int ceval_gil;  /* 3.7-3.11: the embedded ceval.gil */
		int gc;         /* 3.7/3.8: the embedded gc state */
	} runtime;

	struct {
		int next;
		int id; /* 3.7+ */
		int threads_head;
		int modules;   /* sys.modules dict pointer */
		int sysdict;   /* sys.__dict__ */
		int ceval_gil; /* 3.12+: pointer to struct _gil_runtime_state */
		int gc;        /* 3.9+: the embedded gc state */
		int eval_frame; /* 3.6+: PEP 523 frame evaluation function */
		int eval_frame_default_null; /* 1: NULL means no hook (3.11+);
					       0: the default function is
					       stored (3.6-3.10) */
		int monitoring_tool_names; /* 3.12+: PyObject *[8] */
	} interp;

	struct { /* struct _gc_runtime_state (runtime.gc / interp.gc) */
		int collecting; /* int, nonzero while collecting */
	} gc;

	struct { /* struct _gil_runtime_state */
		int size;        /* 3.7+ */
		int last_holder; /* 3.12+ */
		int locked;      /* 3.12+ */
	} gil;

	struct {
		int size;
		int next;
		int interp;
		int frame;        /* frame / cframe / current_frame pointer */
		int cframe_frame; /* if not NONE: tstate.frame points at a
				     _PyCFrame whose current_frame is here */
		int thread_id;    /* pthread_t, == threading.get_ident() */
		int native_thread_id; /* TID, 3.11+ */
		int base_frame;   /* 3.15+: the sentinel frame every walk
				     ends at */
		/* 3.11+: the data stack frames live in: the current
		 * _PyStackChunk and the first free slot in it */
		int datastack_chunk, datastack_top;
		int c_tracefunc, c_traceobj;     /* sys.settrace */
		int c_profilefunc, c_profileobj; /* sys.setprofile */
	} tstate;

	struct { /* 3.11+ struct _PyStackChunk */
		int previous, size, data;
	} chunk;

	struct {
		int kind; /* enum layout_frame_kind */
		int size;
		int back;        /* f_back / previous */
		int code;        /* f_code / f_executable */
		int tag_bits;    /* low bits to clear in a _PyStackRef
				    (3.14+ f_executable), 0 before */
		int lasti;       /* <=3.10 f_lasti (int) */
		int lasti_scale; /* bytes per f_lasti unit: 1 (<=3.9), 2 (3.10) */
		int instr_ptr;   /* 3.11+: prev_instr / instr_ptr */
		int owner;       /* 3.11+: owner byte */
		int owner_skip;  /* skip frames with owner >= this (shim /
				    C-stack frames), NONE to keep all */
		int is_entry;    /* 3.11: the bool marking the first frame
				    an evaluation-loop activation ran */
		int localsplus;
		int stack_kind;  /* enum layout_stack_kind */
		int stacktop;    /* f_stacktop / f_stackdepth / stacktop /
				    stackpointer */
		int valuestack;  /* <=3.10: f_valuestack */
		/* <=3.10: f_iblock, f_blockstack[max_blocks] of PyTryBlock
		 * {int b_type, b_handler, b_level} (block_size bytes each) */
		int iblock, blockstack, block_size, max_blocks;
	} frame;

	struct {
		int size;          /* sizeof(PyCodeObject) */
		int ob_size;       /* 3.11+: code length in code units */
		int filename;
		int name;
		int qualname;      /* 3.11+ */
		int linetable;     /* co_lnotab / co_linetable */
		int firstlineno;
		int code;          /* <=3.10: co_code bytes object */
		int code_adaptive; /* 3.11+: inline bytecode */
		int linetable_kind; /* enum layout_linetable_kind */
		int argcount;       /* positional (incl. positional-only) */
		int kwonlyargcount; /* NONE on 2.7 */
		int flags;          /* co_flags (CO_VARARGS 4, CO_VARKEYWORDS 8) */
		int nlocals;        /* <=3.10: slots of co_varnames */
		int varnames, cellvars, freevars; /* <=3.10 name tuples */
		int nlocalsplus;    /* 3.11+ */
		int localsplusnames; /* 3.11+: tuple */
		int localspluskinds; /* 3.11+: bytes, CO_FAST_* per slot */
		int exceptiontable;  /* 3.11+: co_exceptiontable bytes */
		int stacksize;       /* co_stacksize: value stack slots */
	} code;

	struct {
		int ob_type;
		int ob_size; /* PyVarObject */
	} object;

	struct {
		int tp_name;
		int tp_basicsize;
		int tp_dictoffset;
		int tp_flags;
		int tp_base;
		int tp_dict;
		int ht_cached_keys;
	} type;

	struct {
		int kind;   /* enum layout_str_kind */
		int length;
		int state;
		int ascii_data;   /* sizeof(PyASCIIObject) */
		int compact_data; /* sizeof(PyCompactUnicodeObject) */
		int kind_shift;   /* bit position of 'kind' in state */
		int compact_bit;
		int ascii_bit;
		int char_size;    /* LAYOUT_STR_PY2: sizeof(Py_UNICODE); the
				     data pointer is at compact_data */
	} unicode;

	struct {
		int size;
		int data;
	} bytes;

	struct {
		int kind; /* enum layout_long_kind */
		int tag;  /* ob_size or lv_tag */
		int digits;
		int digit_bits;
		int int_value; /* 2.7 PyIntObject.ob_ival, else NONE */
	} pylong;

	struct {
		int kind; /* enum layout_dict_kind */
		int ma_used;
		int ma_keys;
		int ma_values;
		int dk_size;     /* dk_size (36) / dk_log2_size byte (311) */
		int dk_index_bytes; /* 311: dk_log2_index_bytes byte */
		int dk_kind;     /* 311: dk_kind byte */
		int dk_nentries;
		int dk_indices;
		int values_header; /* bytes before values[0] in PyDictValues */
		int ma_mask;  /* LAYOUT_DICT_27 */
		int ma_table; /* LAYOUT_DICT_27 */
	} dict;

	struct {
		int dict; /* PyModuleObject.md_dict */
	} module;

	struct {
		int kind; /* enum layout_instdict_kind */
	} instdict;

	struct { /* PyGenObject head: generators, coroutines, async gens */
		int frame;       /* <=3.10: gi_frame, a PyFrameObject pointer */
		int iframe;      /* 3.11+: the embedded _PyInterpreterFrame */
		int frame_state; /* 3.11+: gi_frame_state (int8) */
		int state_suspended; /* 3.11+: FRAME_SUSPENDED */
		int qualname;
		int yf_kind;     /* enum layout_yf_kind */
		int yf_opcode;   /* YIELD_FROM / RESUME */
		int yf_opcode_alt;  /* RESUME_QUICK / INSTRUMENTED_RESUME, or NONE */
		int yf_state;    /* FRAME_SUSPENDED_YIELD_FROM */
		int yf_state_alt;   /* 3.15: ..._LOCKED, or NONE */
		int yf_slot;     /* awaited object = stack top [-yf_slot] */
		int asend_gen;   /* async_generator_asend.ags_gen */
	} gen;

	struct {
		int list_items;  /* PyListObject.ob_item (array pointer) */
		int tuple_items; /* PyTupleObject.ob_item (inline) */
		int set_used, set_mask, set_table;
		int set_entry_size, set_entry_key;
		int weakref_object; /* wr_object */
		int float_value;    /* ob_fval */
		int cell_ref;       /* ob_ref */
		int method_self, method_func; /* bound method im_self/im_func */
		int cfunction_self; /* builtin method m_self */
		int function_closure;
		int function_code;
		int function_name;
		int function_qualname; /* NONE on 2.7 */
		int memberdescr_member; /* __slots__ descriptor d_member */
		int memberdef_offset;   /* PyMemberDef.offset */
		int partial_args;       /* functools.partial's args tuple */
	} container;

	struct { /* _asyncio FutureObj / TaskObj; NONE before 3.8 */
		int fut_loop, fut_callback, fut_callbacks, fut_result;
		int fut_state;   /* 0 pending, 1 cancelled, 2 finished */
		int fut_awaited_by, fut_is_task, fut_awaited_by_is_set; /* 3.14+ */
		int task_fut_waiter, task_coro, task_name;
		int task_node;   /* 3.14+: llist node linking native tasks */
		int task_size;
		int futureiter_future;
		int wakeup_task; /* 3.8/3.9 TaskWakeupMethWrapper.ww_task */
		/* 3.14+: in _PyThreadStateImpl / PyInterpreterState */
		int ts_running_loop, ts_running_task, ts_tasks_head;
		int interp_tasks_head;
	} asyncio;

	struct { /* _thread.lock / _thread.RLock (Modules/_threadmodule.c) */
		int mutex;       /* 1: the lock word is a PyMutex byte (3.14+),
				    0: a PyThread_type_lock (sem_t *) */
		int word;        /* the lock word, in both types */
		int locked;      /* Lock's 'locked' flag byte (3.14+: the
				    PyMutex itself), NONE: none (2.7) */
		int rlock_owner; /* RLock's owner (thread ident), NONE: no
				    C RLock (2.7) */
	} lock;

	struct { /* opcodes (NONE where the version has no such opcode) */
		int setup_finally;     /* <=3.10: the block a with pushes */
		int setup_with, setup_async_with; /* <=3.10 */
		int have_argument;     /* 2.7: opcodes >= this take 2 arg bytes */
		int extended_arg;
		int with_except_start; /* 3.11+: second instruction of a
					  with statement's cleanup handler */
	} op;
};

/*
 * Return the built-in layout for major.minor, or NULL when snakescope has no
 * table for that version.  The returned pointer is static; do not free.
 */
const struct py_layout *layout_builtin(unsigned major, unsigned minor);

/* All built-in layouts, oldest first (*n of them). */
const struct py_layout *const *layout_builtin_all(size_t *n);

/*
 * The shape of one version's _Py_DebugOffsets (3.13+), generated from that
 * version's pycore_debug_offsets.h: for each field snakescope takes from
 * it, the u64 index of the value, the index of its section's 'size' word,
 * and the member of struct py_layout it sets.
 */
struct layout_dbg_field {
	unsigned short index;
	unsigned short size_index;
	unsigned short layout_off; /* offsetof(struct py_layout, ...) */
};

struct layout_dbg_desc {
	unsigned major, minor;
	unsigned size; /* sizeof(_Py_DebugOffsets) in bytes */
	const struct layout_dbg_field *fields;
	size_t nfields;
	/* indices of interpreter_state.{size, gil_runtime_state,
	 * gil_runtime_state_locked, gil_runtime_state_holder} */
	unsigned short interp_size, gil_base, gil_locked, gil_holder;
};

/* The debug-offsets shape of major.minor, or NULL. */
const struct layout_dbg_desc *layout_debug_desc(unsigned major,
						unsigned minor);

/* The newest known debug-offsets shape (for targets newer than that). */
const struct layout_dbg_desc *layout_debug_desc_newest(void);

#endif
