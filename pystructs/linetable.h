/*
 * linetable.h - decode CPython line-number tables.
 *
 * Pure functions over a byte buffer copied out of the target; they never
 * read memory themselves.  Every loop is bounded by the buffer length, so
 * garbage input gives a wrong answer or -1, never a crash.
 */
#ifndef SNAKESCOPE_LINETABLE_H
#define SNAKESCOPE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* A source position.  Columns are 0-based UTF-8 byte offsets, -1 when the
 * table has none (always before 3.11). */
struct py_location {
	int line;
	int end_line;
	int col;
	int end_col;
};

/*
 * 3.6-3.9 co_lnotab: pairs (addr_delta u8, line_delta s8).  'byte_offset' is
 * f_lasti in bytes.  Returns the line number, firstlineno when the table is
 * empty.
 */
int linetable_lnotab_line(const uint8_t *tab, size_t len, int firstlineno,
			  int byte_offset);

/* 2.7 co_lnotab: the same pairs with unsigned line deltas. */
int linetable_lnotab27_line(const uint8_t *tab, size_t len, int firstlineno,
			    int byte_offset);

/*
 * 3.10 co_linetable: pairs (start_delta u8, line_delta s8), -128 = no line.
 * 'byte_offset' is f_lasti * 2.  Returns the line, or -1 when the
 * instruction has no line.
 */
int linetable_310_line(const uint8_t *tab, size_t len, int firstlineno,
		       int byte_offset);

/*
 * 3.11+ location table.  'unit_index' is the instruction index in 2-byte code
 * units.  Fills *loc and returns 0, or returns -1 when the index is past the
 * table or the instruction has no location (then loc->line is -1).
 */
int linetable_locations(const uint8_t *tab, size_t len, int firstlineno,
			int unit_index, struct py_location *loc);

#endif
