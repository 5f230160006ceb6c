#include <config.h>

#include "pystructs/debug_offsets.h"

#include <stddef.h>
#include <string.h>

/* Largest struct size we believe (PyInterpreterState is ~230 KB in 3.15,
 * _PyRuntimeState ~350 KB). */
#define SECTION_SIZE_MAX (1u << 20)
/* Smallest: PyObject (16 bytes) has a section of its own. */
#define SECTION_SIZE_MIN 16
/* The most bytes of a frame header the frame walkers copy (threads.c,
 * sampler.c): the fields they read must lie within. */
#define FRAME_HDR_MAX 512
/* The GIL fields sit near the start of struct _gil_runtime_state. */
#define GIL_FIELD_MAX 256

/* A field of 'width' bytes at off (or absent) inside the first 'end'
 * bytes of its struct. */
static bool inside(int off, int width, int end)
{
	return off == LAYOUT_NONE || (off >= 0 && off + width <= end);
}

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

bool debug_offsets_free_threaded(const uint8_t *hdr)
{
	return word(hdr, 2) != 0;
}

const struct layout_dbg_desc *debug_offsets_desc(const uint8_t *hdr,
						 bool *guess)
{
	uint32_t version = debug_offsets_version(hdr);
	unsigned major = version >> 24, minor = (version >> 16) & 0xff;
	const struct layout_dbg_desc *d, *newest = layout_debug_desc_newest();

	*guess = false;
	if (!version)
		return NULL;
	d = layout_debug_desc(major, minor);
	if (!d && major == newest->major && minor > newest->minor)
		d = newest;
	/* A pre-release (release level not 0xf) may have had another
	 * shape: 3.15 alphas had 840- and 880-byte tables. */
	if (d && (d != layout_debug_desc(major, minor) ||
		  (version & 0xf0) != 0xf0))
		*guess = true;
	return d;
}

int debug_offsets_apply(struct py_layout *L, const struct layout_dbg_desc *d,
			const uint8_t *buf, size_t len, bool strict,
			struct err *e)
{
	uint64_t gil_base, locked, holder;

	if (!debug_offsets_version(buf))
		return err_set(e, SS_EBADBUILD, "no _Py_DebugOffsets cookie");
	if (len < d->size || L->major != d->major || L->minor != d->minor)
		return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets of %zu bytes "
			       "cannot be read as 3.%u's", len, d->minor);
	if (debug_offsets_free_threaded(buf))
		return err_set(e, SS_EBADBUILD, "free-threaded CPython builds "
			       "(Py_GIL_DISABLED) are not supported");
	for (size_t i = 0; i < d->nfields; i++) {
		const struct layout_dbg_field *f = &d->fields[i];
		uint64_t size = word(buf, f->size_index);
		uint64_t off = word(buf, f->index);

		/* A struct's size word is its own entry: any plausible size.
		 * Any other field (8 bytes at most) must fit inside the
		 * struct: readers take it from a copy of the struct's first
		 * 'size' bytes. */
		if (size == 0 || size > SECTION_SIZE_MAX ||
		    (strict && (size < SECTION_SIZE_MIN || size % 8)) ||
		    (f->index != f->size_index && (size < 8 || off > size - 8)))
			return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets entry "
				       "%u (%llu) is out of bounds (%llu)",
				       f->index, (unsigned long long)off,
				       (unsigned long long)size);
		*(int *)((char *)L + f->layout_off) = (int)off;
	}
	/* Readers copy a frame's first localsplus bytes (at most
	 * FRAME_HDR_MAX) and take its fields from the copy. */
	if (L->frame.localsplus > FRAME_HDR_MAX ||
	    !inside(L->frame.back, 8, L->frame.localsplus) ||
	    !inside(L->frame.code, 8, L->frame.localsplus) ||
	    !inside(L->frame.instr_ptr, 8, L->frame.localsplus) ||
	    !inside(L->frame.stacktop, 8, L->frame.localsplus) ||
	    !inside(L->frame.owner, 1, L->frame.localsplus))
		return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets frame fields "
			       "are out of bounds");
	/* The GIL fields are given relative to the interpreter; we want them
	 * relative to the _gil_runtime_state that ceval.gil points at. */
	gil_base = word(buf, d->gil_base);
	locked = word(buf, d->gil_locked);
	holder = word(buf, d->gil_holder);
	if (gil_base >= word(buf, d->interp_size) || locked < gil_base ||
	    holder < gil_base || locked - gil_base > GIL_FIELD_MAX ||
	    holder - gil_base > GIL_FIELD_MAX)
		return err_set(e, SS_EBADBUILD, "_Py_DebugOffsets GIL offsets "
			       "are out of bounds");
	L->gil.locked = (int)(locked - gil_base);
	L->gil.last_holder = (int)(holder - gil_base);
	return 0;
}
