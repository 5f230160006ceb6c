#include <config.h>

#include "pystructs/repr.h"
#include "common/xalloc.h"
#include "pystructs/object.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPR_DEPTH 16          /* nesting shown; deeper is "..." */
#define LONG_DIGITS_MAX 4096   /* ~37,000 decimal digits */
#define TPFLAGS_HEAPTYPE (1UL << 9)

/* ---- pure formatting ---------------------------------------------- */

void repr_float(struct strbuf *sb, double v)
{
	char buf[64], digits[32];
	int prec, exp10, nd = 0, decpt;
	const char *p;

	if (isnan(v)) {
		strbuf_addstr(sb, "nan");
		return;
	}
	if (isinf(v)) {
		strbuf_addstr(sb, v < 0 ? "-inf" : "inf");
		return;
	}
	if (signbit(v))
		strbuf_addch(sb, '-');
	v = fabs(v);
	if (v == 0) {
		strbuf_addstr(sb, "0.0");
		return;
	}
	/* The shortest correctly rounded digit string that reads back. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	for (p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	exp10 = atoi(p + 1);
	decpt = exp10 + 1; /* digits[0] sits before the decimal point */
	if (decpt <= -4 || decpt > 16) {
		strbuf_addch(sb, digits[0]);
		if (nd > 1)
			strbuf_addf(sb, ".%s", digits + 1);
		strbuf_addf(sb, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (decpt <= 0) {
		strbuf_addstr(sb, "0.");
		for (int i = 0; i < -decpt; i++)
			strbuf_addch(sb, '0');
		strbuf_addstr(sb, digits);
	} else if (decpt >= nd) {
		strbuf_addstr(sb, digits);
		for (int i = nd; i < decpt; i++)
			strbuf_addch(sb, '0');
		strbuf_addstr(sb, ".0");
	} else {
		strbuf_add(sb, digits, (size_t)decpt);
		strbuf_addf(sb, ".%s", digits + decpt);
	}
}

/* Not printable: Cc, Cf, Cs, Co, Zl, Zp, Zs (but ' ') and the big
 * unassigned ranges, as Python's unicodedata knows them. */
static const struct {
	uint32_t lo, hi;
} unprintable[] = {
	{ 0x7f, 0xa0 }, { 0xad, 0xad }, { 0x378, 0x379 }, { 0x380, 0x383 },
	{ 0x38b, 0x38b }, { 0x38d, 0x38d }, { 0x3a2, 0x3a2 },
	{ 0x600, 0x605 }, { 0x61c, 0x61c }, { 0x6dd, 0x6dd }, { 0x70f, 0x70f },
	{ 0x890, 0x891 }, { 0x8e2, 0x8e2 }, { 0x1680, 0x1680 },
	{ 0x180e, 0x180e }, { 0x2000, 0x200f }, { 0x2028, 0x202f },
	{ 0x205f, 0x206f }, { 0x3000, 0x3000 }, { 0xd800, 0xf8ff },
	{ 0xfeff, 0xfeff }, { 0xfff0, 0xfffb }, { 0xfffe, 0xffff },
	{ 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0000, 0xe00ff },
	{ 0xe01f0, 0x10ffff },
};

bool repr_printable(uint32_t cp)
{
	if (cp < 0x7f)
		return cp >= 0x20;
	for (size_t i = 0; i < sizeof(unprintable) / sizeof(unprintable[0]); i++)
		if (cp >= unprintable[i].lo && cp <= unprintable[i].hi)
			return false;
	return cp <= 0x10ffff;
}

static void put_utf8(struct strbuf *sb, uint32_t c)
{
	char b[4];

	if (c < 0x80) {
		strbuf_addch(sb, (char)c);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		strbuf_add(sb, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		strbuf_add(sb, b, 3);
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		strbuf_add(sb, b, 4);
	}
}

void repr_quoted(struct strbuf *sb, const uint32_t *cps, size_t n, int style)
{
	bool bytes = style == REPR_BYTES || style == REPR_STR27;
	bool single = false, dbl = false;
	char quote;

	for (size_t i = 0; i < n; i++) {
		single |= cps[i] == '\'';
		dbl |= cps[i] == '"';
	}
	quote = single && !dbl ? '"' : '\'';
	if (style == REPR_BYTES)
		strbuf_addch(sb, 'b');
	else if (style == REPR_UNICODE27)
		strbuf_addch(sb, 'u');
	strbuf_addch(sb, quote);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cps[i];

		if (c == (uint32_t)quote || c == '\\')
			strbuf_addf(sb, "\\%c", (char)c);
		else if (c == '\t')
			strbuf_addstr(sb, "\\t");
		else if (c == '\n')
			strbuf_addstr(sb, "\\n");
		else if (c == '\r')
			strbuf_addstr(sb, "\\r");
		else if (c >= 0x20 && c < 0x7f)
			strbuf_addch(sb, (char)c);
		else if (bytes)
			strbuf_addf(sb, "\\x%02x", (unsigned)c & 0xff);
		else if (style == REPR_STR && repr_printable(c))
			put_utf8(sb, c);
		else if (c < 0x100)
			strbuf_addf(sb, "\\x%02x", (unsigned)c);
		else if (c < 0x10000)
			strbuf_addf(sb, "\\u%04x", (unsigned)c);
		else
			strbuf_addf(sb, "\\U%08x", (unsigned)c);
	}
	strbuf_addch(sb, quote);
}

void repr_digits(struct strbuf *sb, const uint32_t *digits, size_t n,
		 unsigned bits)
{
	uint32_t *limb = xmalloc((n + 1) * sizeof(*limb));
	uint32_t *chunk = xmalloc((n * bits / 29 + 2) * sizeof(*chunk));
	size_t nchunks = 0;

	memcpy(limb, digits, n * sizeof(*limb));
	while (n && !limb[n - 1])
		n--;
	while (n) {
		uint64_t rem = 0;

		for (size_t i = n; i-- > 0;) {
			uint64_t cur = rem << bits | limb[i];

			limb[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		chunk[nchunks++] = (uint32_t)rem;
		while (n && !limb[n - 1])
			n--;
	}
	if (!nchunks)
		strbuf_addch(sb, '0');
	for (size_t i = nchunks; i-- > 0;)
		strbuf_addf(sb, i == nchunks - 1 ? "%" PRIu32 : "%09" PRIu32,
			    chunk[i]);
	free(limb);
	free(chunk);
}

/* ---- reading objects ---------------------------------------------- */

struct repr_ctx {
	struct py_proc *p;
	struct strbuf sb;
	size_t limit;  /* stop once more than this many code points */
	size_t cps;    /* code points in sb */
	int64_t top_len; /* length of the outermost object, -1 unsized */
	uint64_t stack[REPR_DEPTH];
	size_t depth;
};

static bool full(const struct repr_ctx *c)
{
	return c->cps > c->limit;
}

static void count_from(struct repr_ctx *c, size_t old_len)
{
	for (size_t i = old_len; i < c->sb.len; i++)
		if (((unsigned char)c->sb.buf[i] & 0xc0) != 0x80)
			c->cps++;
}

static void emit(struct repr_ctx *c, const char *s)
{
	size_t old = c->sb.len;

	strbuf_addstr(&c->sb, s);
	count_from(c, old);
}

static void emit_other(struct repr_ctx *c, uint64_t obj, const char *type)
{
	size_t old = c->sb.len;

	strbuf_addf(&c->sb, "<%s at 0x%" PRIx64 ">", type, obj);
	count_from(c, old);
}

static void set_len(struct repr_ctx *c, int64_t n)
{
	if (c->depth == 0)
		c->top_len = n;
}

static bool read_ssize(struct py_proc *p, uint64_t obj, int off, int64_t *v)
{
	return off != LAYOUT_NONE &&
	       !mem_read(p->mem, obj + (uint64_t)off, v, sizeof(*v), NULL) &&
	       *v >= 0 && *v < (1LL << 40);
}

static void repr_obj(struct repr_ctx *c, uint64_t obj);

static void repr_long(struct repr_ctx *c, uint64_t obj, bool suffix_l)
{
	const struct py_layout *L = &c->p->L;
	uint64_t tag, ndigits;
	unsigned bits = (unsigned)L->pylong.digit_bits;
	size_t dsize = bits > 16 ? 4 : 2;
	uint32_t *digits;
	uint8_t *raw;
	bool negative;
	size_t old = c->sb.len;

	if (mem_read_u64(c->p->mem, obj + (uint64_t)L->pylong.tag, &tag, NULL)) {
		emit_other(c, obj, "int");
		return;
	}
	if (L->pylong.kind == LAYOUT_LONG_LV_TAG) {
		ndigits = tag >> 3;
		negative = (tag & 3) == 2;
	} else {
		negative = (int64_t)tag < 0;
		ndigits = negative ? (uint64_t)0 - tag : tag;
	}
	if (ndigits > LONG_DIGITS_MAX) {
		strbuf_addf(&c->sb, "<int of %" PRIu64 " bits>", ndigits * bits);
		count_from(c, old);
		return;
	}
	raw = xmalloc(ndigits * dsize + 1);
	digits = xmalloc((ndigits + 1) * sizeof(*digits));
	if (mem_read(c->p->mem, obj + (uint64_t)L->pylong.digits, raw,
		     ndigits * dsize, NULL)) {
		emit_other(c, obj, "int");
	} else {
		for (size_t i = 0; i < ndigits; i++) {
			uint16_t d16;

			if (dsize == 4) {
				memcpy(&digits[i], raw + 4 * i, 4);
			} else {
				memcpy(&d16, raw + 2 * i, 2);
				digits[i] = d16;
			}
			digits[i] &= (uint32_t)((1ULL << bits) - 1);
		}
		if (negative && ndigits)
			strbuf_addch(&c->sb, '-');
		repr_digits(&c->sb, digits, ndigits, bits);
		if (suffix_l)
			strbuf_addch(&c->sb, 'L');
		count_from(c, old);
	}
	free(raw);
	free(digits);
}

static bool long_is_zero(struct py_proc *p, uint64_t obj)
{
	const struct py_layout *L = &p->L;
	uint64_t tag = 0;

	mem_read_u64(p->mem, obj + (uint64_t)L->pylong.tag, &tag, NULL);
	return L->pylong.kind == LAYOUT_LONG_LV_TAG ? (tag >> 3) == 0 : tag == 0;
}

static void repr_text(struct repr_ctx *c, uint64_t obj, int style)
{
	size_t n, length, old = c->sb.len;
	uint32_t *cps;

	if (py_str_codepoints(c->p, obj, c->limit + 1, &cps, &n, &length,
			      NULL)) {
		emit_other(c, obj, "str");
		return;
	}
	set_len(c, (int64_t)length);
	repr_quoted(&c->sb, cps, n, style);
	free(cps);
	count_from(c, old);
}

static void repr_bytes(struct repr_ctx *c, uint64_t obj, int style)
{
	const struct py_layout *L = &c->p->L;
	int64_t size;
	size_t n, old = c->sb.len;
	uint8_t *raw;
	uint32_t *cps;

	if (!read_ssize(c->p, obj, L->bytes.size, &size)) {
		emit_other(c, obj, "bytes");
		return;
	}
	set_len(c, size);
	n = (size_t)size < c->limit + 1 ? (size_t)size : c->limit + 1;
	raw = xmalloc(n + 1);
	cps = xmalloc((n + 1) * sizeof(*cps));
	if (mem_read(c->p->mem, obj + (uint64_t)L->bytes.data, raw, n, NULL)) {
		emit_other(c, obj, "bytes");
	} else {
		for (size_t i = 0; i < n; i++)
			cps[i] = raw[i];
		repr_quoted(&c->sb, cps, n, style);
		count_from(c, old);
	}
	free(raw);
	free(cps);
}

/* Items that can fit in the width: each takes at least 1 + ", ". */
static size_t item_cap(const struct repr_ctx *c)
{
	return c->limit / 3 + 2;
}

static void repr_items(struct repr_ctx *c, const uint64_t *items, size_t n)
{
	for (size_t i = 0; i < n && !full(c); i++) {
		if (i)
			emit(c, ", ");
		repr_obj(c, items[i]);
	}
}

enum seq_kind { SEQ_TUPLE, SEQ_LIST, SEQ_SET, SEQ_FROZENSET };

static void repr_seq(struct repr_ctx *c, uint64_t obj, int kind,
		     const char *type)
{
	const struct py_layout *L = &c->p->L;
	uint64_t *items = NULL;
	size_t n = 0;
	int64_t len = -1;
	int rc;

	if (kind == SEQ_TUPLE) {
		rc = py_tuple_items(c->p, obj, item_cap(c), &items, &n, NULL);
		read_ssize(c->p, obj, L->object.ob_size, &len);
	} else if (kind == SEQ_LIST) {
		rc = py_list_items(c->p, obj, item_cap(c), &items, &n, NULL);
		read_ssize(c->p, obj, L->object.ob_size, &len);
	} else {
		rc = py_set_items(c->p, obj, item_cap(c), &items, &n, NULL);
		read_ssize(c->p, obj, L->container.set_used, &len);
	}
	if (rc) {
		emit_other(c, obj, type);
		return;
	}
	set_len(c, len);
	switch (kind) {
	case SEQ_TUPLE:
		emit(c, "(");
		repr_items(c, items, n);
		emit(c, n == 1 && len == 1 ? ",)" : ")");
		break;
	case SEQ_LIST:
		emit(c, "[");
		repr_items(c, items, n);
		emit(c, "]");
		break;
	default:
		if (c->p->L.unicode.kind == LAYOUT_STR_PY2) {
			/* 2.7: set([1, 2]), frozenset([]) */
			emit(c, kind == SEQ_SET ? "set([" : "frozenset([");
			repr_items(c, items, n);
			emit(c, "])");
		} else if (!n) {
			emit(c, kind == SEQ_SET ? "set()" : "frozenset()");
		} else {
			emit(c, kind == SEQ_SET ? "{" : "frozenset({");
			repr_items(c, items, n);
			emit(c, kind == SEQ_SET ? "}" : "})");
		}
		break;
	}
	free(items);
}

struct dict_walk {
	struct repr_ctx *c;
	size_t n;
};

static int dict_item(struct py_proc *p, uint64_t key, uint64_t value,
		     void *arg)
{
	struct dict_walk *w = arg;

	(void)p;
	if (w->n++)
		emit(w->c, ", ");
	repr_obj(w->c, key);
	emit(w->c, ": ");
	repr_obj(w->c, value);
	return full(w->c);
}

static void repr_dict(struct repr_ctx *c, uint64_t obj)
{
	struct dict_walk w = { c, 0 };
	int64_t len = -1;

	read_ssize(c->p, obj, c->p->L.dict.ma_used, &len);
	set_len(c, len);
	emit(c, "{");
	/* (An empty dict may share a static empty keys object.) */
	if (len != 0 &&
	    py_dict_each(c->p, obj, item_cap(c), dict_item, &w, NULL) < 0)
		emit(c, "...");
	emit(c, "}");
}

static bool on_stack(const struct repr_ctx *c, uint64_t obj)
{
	for (size_t i = 0; i < c->depth; i++)
		if (c->stack[i] == obj)
			return true;
	return false;
}

static void repr_container(struct repr_ctx *c, uint64_t obj,
			   const char *type)
{
	if (on_stack(c, obj)) { /* what Python prints for recursion */
		emit(c, !strcmp(type, "list") ? "[...]" :
		     !strcmp(type, "dict") ? "{...}" : "...");
		return;
	}
	if (c->depth >= REPR_DEPTH) {
		emit(c, "...");
		return;
	}
	c->stack[c->depth++] = obj;
	if (!strcmp(type, "tuple"))
		repr_seq(c, obj, SEQ_TUPLE, type);
	else if (!strcmp(type, "list"))
		repr_seq(c, obj, SEQ_LIST, type);
	else if (!strcmp(type, "set"))
		repr_seq(c, obj, SEQ_SET, type);
	else if (!strcmp(type, "frozenset"))
		repr_seq(c, obj, SEQ_FROZENSET, type);
	else
		repr_dict(c, obj);
	c->depth--;
}

static void repr_obj(struct repr_ctx *c, uint64_t obj)
{
	struct py_proc *p = c->p;
	const struct py_layout *L = &p->L;
	bool py2 = L->unicode.kind == LAYOUT_STR_PY2;
	char type[PY_TNAME_CACHED];
	uint64_t tp, flags = 0;
	double d;

	if (full(c))
		return;
	if (!py_ptr_ok(obj) || py_type_of(p, obj, &tp, NULL) ||
	    py_type_name_at(p, tp, type, sizeof(type), NULL)) {
		emit_other(c, obj, "unreadable");
		return;
	}
	/* Only the built-in types themselves: a subclass (or a class that
	 * happens to be called "int") may repr itself differently. */
	if (mem_read_u64(p->mem, tp + (uint64_t)L->type.tp_flags, &flags, NULL) ||
	    (flags & TPFLAGS_HEAPTYPE)) {
		emit_other(c, obj, type);
		return;
	}
	if (!strcmp(type, "NoneType")) {
		emit(c, "None");
	} else if (!strcmp(type, "bool")) {
		int64_t ival = 0;

		if (py2)
			mem_read(p->mem, obj + (uint64_t)L->pylong.int_value,
				 &ival, sizeof(ival), NULL);
		else
			ival = !long_is_zero(p, obj);
		emit(c, ival ? "True" : "False");
	} else if (!strcmp(type, "int") && py2) {
		int64_t ival;
		char buf[32];

		if (mem_read(p->mem, obj + (uint64_t)L->pylong.int_value, &ival,
			     sizeof(ival), NULL)) {
			emit_other(c, obj, type);
			return;
		}
		snprintf(buf, sizeof(buf), "%" PRId64, ival);
		emit(c, buf);
	} else if (!strcmp(type, "int") || (py2 && !strcmp(type, "long"))) {
		repr_long(c, obj, py2);
	} else if (!strcmp(type, "float")) {
		struct strbuf fb;

		if (py_float_read(p, obj, &d, NULL)) {
			emit_other(c, obj, type);
			return;
		}
		strbuf_init(&fb);
		repr_float(&fb, d);
		emit(c, fb.buf);
		strbuf_release(&fb);
	} else if (!strcmp(type, "str")) {
		if (py2)
			repr_bytes(c, obj, REPR_STR27);
		else
			repr_text(c, obj, REPR_STR);
	} else if (py2 && !strcmp(type, "unicode")) {
		repr_text(c, obj, REPR_UNICODE27);
	} else if (!py2 && !strcmp(type, "bytes")) {
		repr_bytes(c, obj, REPR_BYTES);
	} else if (!strcmp(type, "tuple") || !strcmp(type, "list") ||
		   !strcmp(type, "set") || !strcmp(type, "frozenset") ||
		   !strcmp(type, "dict")) {
		repr_container(c, obj, type);
	} else {
		emit_other(c, obj, type);
	}
}

/* Byte offset of the first 'n' code points of s. */
static size_t cp_prefix(const char *s, size_t len, size_t n)
{
	size_t i = 0;

	for (; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == 0)
				break;
			n--;
		}
	}
	return i;
}

char *py_repr(struct py_proc *p, uint64_t obj, size_t width)
{
	struct repr_ctx c = { .p = p, .top_len = -1 };
	char suffix[40] = "";
	size_t keep, slen;

	if (width < PY_REPR_WIDTH_MIN)
		width = PY_REPR_WIDTH_MIN;
	if (width > PY_REPR_WIDTH_MAX)
		width = PY_REPR_WIDTH_MAX;
	c.limit = width;
	strbuf_init(&c.sb);
	repr_obj(&c, obj);
	if (c.cps <= width)
		return strbuf_detach(&c.sb);
	if (c.top_len >= 0)
		snprintf(suffix, sizeof(suffix), " (len %" PRId64 ")", c.top_len);
	slen = strlen(suffix);
	if (slen + 3 + 8 > width) {
		suffix[0] = 0;
		slen = 0;
	}
	keep = cp_prefix(c.sb.buf, c.sb.len, width - 3 - slen);
	c.sb.len = keep;
	c.sb.buf[keep] = 0;
	strbuf_addf(&c.sb, "...%s", suffix);
	return strbuf_detach(&c.sb);
}
