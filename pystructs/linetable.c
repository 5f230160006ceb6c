#include <config.h>

#include "pystructs/linetable.h"

#include <limits.h>
#include <stdbool.h>

/*
 * Line arithmetic is done in uint32_t so that garbage deltas wrap instead of
 * overflowing a signed int; this converts the result back without relying
 * on implementation-defined behaviour.
 */
static int u32_to_int(uint32_t v)
{
	if (v <= (uint32_t)INT_MAX)
		return (int)v;
	return -(int)(~v) - 1;
}

/* A signed byte as a wrapping uint32_t delta. */
static uint32_t s8_delta(uint8_t b)
{
	return b < 128 ? (uint32_t)b : (uint32_t)b - 256u;
}

/*
 * <=3.9: PyCode_Addr2Line.  Walk (addr_delta, line_delta) pairs, adding the
 * line delta of every pair whose running address is still <= the offset.
 * An odd trailing byte is ignored (CPython uses size / 2 pairs).  Line
 * deltas are signed from 3.6 on, unsigned before.
 */
static int lnotab_line(const uint8_t *tab, size_t len, int firstlineno,
		       int byte_offset, bool signed_deltas)
{
	uint32_t line = (uint32_t)firstlineno;
	uint64_t addr = 0;
	size_t i;

	if (!tab || byte_offset < 0)
		return firstlineno;
	for (i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > (uint64_t)byte_offset)
			break;
		line += signed_deltas ? s8_delta(tab[i + 1]) : tab[i + 1];
	}
	return u32_to_int(line);
}

int linetable_lnotab_line(const uint8_t *tab, size_t len, int firstlineno,
			  int byte_offset)
{
	return lnotab_line(tab, len, firstlineno, byte_offset, true);
}

int linetable_lnotab27_line(const uint8_t *tab, size_t len, int firstlineno,
			    int byte_offset)
{
	return lnotab_line(tab, len, firstlineno, byte_offset, false);
}

/*
 * 3.10: PyCode_Addr2Line / _PyCode_CheckLineNumber.  Entries are
 * contiguous ranges [start, start + delta) from offset 0; a line delta of
 * -128 means "no line" and does not move the running line.  Zero-length
 * entries still contribute their line delta.  A negative offset gives
 * firstlineno, like CPython.
 */
int linetable_310_line(const uint8_t *tab, size_t len, int firstlineno,
		       int byte_offset)
{
	uint32_t line = (uint32_t)firstlineno;
	uint64_t start, end = 0;
	size_t i;

	if (byte_offset < 0)
		return firstlineno;
	if (!tab)
		return -1;
	for (i = 0; i + 1 < len; i += 2) {
		int ar_line = -1;

		start = end;
		end += tab[i];
		if (tab[i + 1] != 0x80) {	/* -128: no line */
			line += s8_delta(tab[i + 1]);
			ar_line = u32_to_int(line);
		}
		if ((uint64_t)byte_offset >= start &&
		    (uint64_t)byte_offset < end)
			return ar_line;
	}
	return -1;
}

/* 3.11+ location-table entry codes (the cccc bits of 1ccccLLL). */
enum {
	LOC_ONE_LINE0 = 10,
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

/* A cursor over the bytes of one entry, after its header byte. */
struct loc_reader {
	const uint8_t *p;
	size_t pos;
	size_t end;
	int truncated;
};

static unsigned int loc_read_byte(struct loc_reader *r)
{
	if (r->pos >= r->end) {
		r->truncated = 1;
		return 0;
	}
	return r->p[r->pos++];
}

/* 6-bit chunks, least significant first, 0x40 = more follows. */
static uint32_t loc_read_varint(struct loc_reader *r)
{
	unsigned int b = loc_read_byte(r);
	uint32_t val = b & 63;
	unsigned int shift = 0;

	while ((b & 64) && !r->truncated) {
		b = loc_read_byte(r);
		shift += 6;
		if (shift <= 30)
			val |= (uint32_t)(b & 63) << shift;
	}
	return val;
}

/* Zig-zag with the sign in bit 0; returned as a wrapping uint32_t delta. */
static uint32_t loc_read_signed_varint(struct loc_reader *r)
{
	uint32_t uval = loc_read_varint(r);

	if (uval & 1)
		return 0u - (uval >> 1);
	return uval >> 1;
}

/* Column stored as col+1, 0 meaning unknown. */
static int loc_column(uint32_t v)
{
	if (v == 0 || v - 1 > (uint32_t)INT_MAX)
		return -1;
	return (int)(v - 1);
}

static void loc_set_none(struct py_location *loc)
{
	loc->line = -1;
	loc->end_line = -1;
	loc->col = -1;
	loc->end_col = -1;
}

/*
 * 3.11+: walk the entries like codeobject.c's advance(): the running line
 * moves by each entry's line delta (0 for "none" and the short forms), and
 * the next entry starts at the next byte with bit 7 set.  Field decoding
 * follows advance_with_locations() (what co_positions() reports).
 */
int linetable_locations(const uint8_t *tab, size_t len, int firstlineno,
			int unit_index, struct py_location *loc)
{
	uint32_t line = (uint32_t)firstlineno;
	uint64_t start, end = 0;
	size_t i = 0;

	loc_set_none(loc);
	if (!tab || unit_index < 0)
		return -1;
	while (i < len) {
		struct loc_reader r;
		unsigned int hdr = tab[i];
		unsigned int code = (hdr >> 3) & 15;
		size_t next = i + 1;
		uint32_t end_line;
		int col = -1, end_col = -1;
		int hit;

		while (next < len && !(tab[next] & 0x80))
			next++;
		r.p = tab;
		r.pos = i + 1;
		r.end = next;
		r.truncated = 0;

		start = end;
		end += (hdr & 7) + 1;
		hit = (uint64_t)unit_index >= start &&
		      (uint64_t)unit_index < end;

		if (code == LOC_NONE) {
			if (hit)
				return -1;
			i = next;
			continue;
		}
		if (code == LOC_LONG) {
			uint32_t dline = loc_read_signed_varint(&r);
			uint32_t dend;

			if (!r.truncated)
				line += dline;
			dend = loc_read_varint(&r);
			end_line = line + dend;
			col = loc_column(loc_read_varint(&r));
			end_col = loc_column(loc_read_varint(&r));
		} else if (code == LOC_NO_COLUMNS) {
			uint32_t dline = loc_read_signed_varint(&r);

			if (!r.truncated)
				line += dline;
			end_line = line;
		} else if (code >= LOC_ONE_LINE0 && code <= LOC_ONE_LINE2) {
			line += code - LOC_ONE_LINE0;
			end_line = line;
			col = (int)loc_read_byte(&r);
			end_col = (int)loc_read_byte(&r);
		} else {
			unsigned int b = loc_read_byte(&r);

			end_line = line;
			col = (int)(code * 8 + (b >> 4));
			end_col = col + (int)(b & 15);
		}
		if (hit) {
			if (r.truncated)
				return -1;
			loc->line = u32_to_int(line);
			loc->end_line = u32_to_int(end_line);
			loc->col = col;
			loc->end_col = end_col;
			return 0;
		}
		i = next;
	}
	return -1;
}
