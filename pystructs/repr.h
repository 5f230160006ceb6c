/*
 * repr.h - Python's repr() of an object, computed from the target's
 * memory (never by running code in it), bounded in width.
 *
 * None, bool, int (any size), float, str, bytes (2.7: int, long, str,
 * unicode) and tuple, list, dict, set, frozenset of them come out exactly
 * as repr() gives them; anything else, subclasses included, as
 * "<TypeName at 0xADDR>".  A repr longer than the width is cut to the width:
 * a prefix, "...", and for a sized object " (len N)".
 */
#ifndef SNAKESCOPE_REPR_H
#define SNAKESCOPE_REPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "pystructs/pyproc.h"

#define PY_REPR_WIDTH_DEFAULT 100
#define PY_REPR_WIDTH_MIN 16
#define PY_REPR_WIDTH_MAX 1000000

/* The repr of obj in at most 'width' code points (malloc'ed, UTF-8). */
char *py_repr(struct py_proc *p, uint64_t obj, size_t width);

/* ---- pure formatting, exported for the unit tests ----------------- */

/* repr(float) of v: the shortest string that reads back as v, laid out
 * the way Python does (1e+16, 1e-05, 0.0001, 1.0, -0.0, inf, nan). */
void repr_float(struct strbuf *sb, double v);

enum repr_quote_style {
	REPR_STR,       /* 3.x str: 'x', printable non-ASCII kept */
	REPR_BYTES,     /* 3.x bytes: b'x' */
	REPR_STR27,     /* 2.7 str (bytes): 'x' */
	REPR_UNICODE27, /* 2.7 unicode: u'x', every non-ASCII escaped */
};

/* Quote and escape n code points (bytes for the byte styles). */
void repr_quoted(struct strbuf *sb, const uint32_t *cps, size_t n,
		 int style);

/* Python's str.isprintable() for one non-ASCII code point (by ranges of
 * the Unicode categories Cc, Cf, Cs, Co, Zl, Zp, Zs and the largest
 * unassigned blocks). */
bool repr_printable(uint32_t cp);

/* Decimal digits of a non-negative integer given as 'n' little-endian
 * digits of 'bits' bits each (bits <= 32). */
void repr_digits(struct strbuf *sb, const uint32_t *digits, size_t n,
		 unsigned bits);

#endif
