#include <config.h>

#include "pystructs/debug_offsets.h"

#include <stddef.h>
#include <string.h>

/* Largest struct size we believe (PyInterpreterState is ~230 KB in 3.15,
 * _PyRuntimeState ~350 KB). */
#define SECTION_SIZE_MAX (1u << 20)

/* One field: the u64 index of its offset in the table, the index of its
 * section's size word, and where it goes in struct py_layout. */
struct dbg_field {
	unsigned index;
	unsigned size_index;
	size_t layout_off;
};

struct dbg_desc {
	unsigned minor;
	size_t size; /* bytes in the whole table */
	const struct dbg_field *fields;
	size_t nfields;
	/* interpreter_state.{gil_runtime_state, _locked, _holder} */
	unsigned gil_base, gil_locked, gil_holder, interp_size;
};

#define F(idx, sec, member) { idx, sec, offsetof(struct py_layout, member) }

/* 3.13: Include/internal/pycore_runtime.h, 73 words. */
static const struct dbg_field fields_313[] = {
	F(5, 3, runtime.interpreters_head),
	F(7, 6, interp.id),
	F(8, 6, interp.next),
	F(9, 6, interp.threads_head),
	F(11, 6, interp.modules),
	F(12, 6, interp.sysdict),
	F(14, 6, interp.ceval_gil),
	F(19, 19, tstate.size),
	F(21, 19, tstate.next),
	F(22, 19, tstate.interp),
	F(23, 19, tstate.frame),
	F(24, 19, tstate.thread_id),
	F(25, 19, tstate.native_thread_id),
	F(28, 28, frame.size),
	F(29, 28, frame.back),
	F(30, 28, frame.code),
	F(31, 28, frame.instr_ptr),
	F(32, 28, frame.localsplus),
	F(33, 28, frame.owner),
	F(34, 34, code.size),
	F(35, 34, code.filename),
	F(36, 34, code.name),
	F(37, 34, code.qualname),
	F(38, 34, code.linetable),
	F(39, 34, code.firstlineno),
	F(43, 34, code.code_adaptive),
	F(45, 44, object.ob_type),
	F(47, 46, type.tp_name),
	F(49, 46, type.tp_flags),
	F(57, 56, dict.ma_keys),
	F(58, 56, dict.ma_values),
	F(62, 61, pylong.tag),
	F(63, 61, pylong.digits),
	F(65, 64, bytes.size),
	F(66, 64, bytes.data),
	F(68, 67, unicode.state),
	F(69, 67, unicode.length),
	F(70, 67, unicode.ascii_data),
};

static const struct dbg_desc descs[] = {
	{ 13, 73 * 8, fields_313, sizeof(fields_313) / sizeof(fields_313[0]),
	  15, 17, 18, 6 },
};

static uint64_t word(const uint8_t *buf, unsigned index)
{
	uint64_t v;

	memcpy(&v, buf + 8 * (size_t)index, sizeof(v));
	return v;
}

uint32_t debug_offsets_version(const uint8_t *hdr)
{
	if (memcmp(hdr, DEBUG_OFFSETS_COOKIE, 8))
		return 0;
	return (uint32_t)word(hdr, 1);
}

static const struct dbg_desc *find_desc(uint32_t version)
{
	if ((version >> 24) != 3)
		return NULL;
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		if (descs[i].minor == ((version >> 16) & 0xff))
			return &descs[i];
	return NULL;
}

size_t debug_offsets_size(const uint8_t *hdr)
{
	const struct dbg_desc *d = find_desc(debug_offsets_version(hdr));

	return d ? d->size : 0;
}

int debug_offsets_apply(struct py_layout *L, const uint8_t *buf, size_t len,
			struct err *e)
{
	uint32_t version = debug_offsets_version(buf);
	const struct dbg_desc *d = find_desc(version);
	uint64_t gil_base;

	if (!version)
		return err_set(e, SS_EBADBUILD, "no _Py_DebugOffsets cookie");
	if (!d || len < d->size || d->minor != L->minor)
		return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets version "
			       "0x%08x does not match the expected 3.%u",
			       version, L->minor);
	if (word(buf, 2))
		return err_set(e, SS_EBADBUILD, "free-threaded CPython builds "
			       "are not supported");
	for (size_t i = 0; i < d->nfields; i++) {
		const struct dbg_field *f = &d->fields[i];
		uint64_t size = word(buf, f->size_index);
		uint64_t off = word(buf, f->index);

		/* A struct's size word is its own entry: any plausible size.
		 * Any other offset must fall inside the struct. */
		if (size == 0 || size > SECTION_SIZE_MAX ||
		    (f->index != f->size_index && off >= size))
			return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets entry "
				       "%u (%llu) is out of bounds (%llu)",
				       f->index, (unsigned long long)off,
				       (unsigned long long)size);
		*(int *)((char *)L + f->layout_off) = (int)off;
	}
	/* The GIL fields are given relative to the interpreter; we want them
	 * relative to the _gil_runtime_state that ceval.gil points at. */
	gil_base = word(buf, d->gil_base);
	if (gil_base >= word(buf, d->interp_size) ||
	    word(buf, d->gil_locked) < gil_base ||
	    word(buf, d->gil_holder) < gil_base ||
	    word(buf, d->gil_locked) - gil_base > 256 ||
	    word(buf, d->gil_holder) - gil_base > 256)
		return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets GIL offsets "
			       "are out of bounds");
	L->gil.locked = (int)(word(buf, d->gil_locked) - gil_base);
	L->gil.last_holder = (int)(word(buf, d->gil_holder) - gil_base);
	return 0;
}
