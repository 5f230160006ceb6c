#include <config.h>

#include "pystructs/object.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on what a dict may claim, well above anything real. */
#define DICT_MAX_LOG2 20
#define ATTR_MAX_ENTRIES 4096
#define TPNAME_MAX 128

/* Py_TPFLAGS_MANAGED_DICT (3.11+): attributes live before the object. */
#define TPFLAGS_MANAGED_DICT (1UL << 4)

static uint32_t rd32(const uint8_t *buf, int off)
{
	uint32_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static int read_ptr(struct py_proc *p, uint64_t addr, uint64_t *out,
		    struct err *e)
{
	return mem_read_u64(p->mem, addr, out, e);
}

int py_type_of(struct py_proc *p, uint64_t obj, uint64_t *type, struct err *e)
{
	int rc;

	if (!py_ptr_ok(obj))
		return err_set(e, SS_ECORRUPT, "bad object pointer 0x%llx",
			       (unsigned long long)obj);
	rc = read_ptr(p, obj + (uint64_t)p->L.object.ob_type, type, e);
	if (!rc && !py_ptr_ok(*type))
		return err_set(e, SS_ECORRUPT, "object at 0x%llx has a bad "
			       "type pointer", (unsigned long long)obj);
	return rc;
}

int py_type_name(struct py_proc *p, uint64_t obj, char *buf, size_t size,
		 struct err *e)
{
	uint64_t type;
	int rc;

	rc = py_type_of(p, obj, &type, e);
	return rc ? rc : py_type_name_at(p, type, buf, size, e);
}

int py_type_name_at(struct py_proc *p, uint64_t type, char *buf, size_t size,
		    struct err *e)
{
	uint64_t name;
	char tmp[TPNAME_MAX];
	size_t n = size < sizeof(tmp) ? size : sizeof(tmp);
	size_t slot = (size_t)(type >> 4) % PY_TNAME_CACHE;
	int rc;

	if (size == 0)
		return err_set(e, SS_ELIMIT, "no room for a type name");
	if (p->tname[slot].type == type) {
		snprintf(buf, size, "%s", p->tname[slot].name);
		return 0;
	}
	if (!py_ptr_ok(type))
		return err_set(e, SS_ECORRUPT, "bad type pointer 0x%llx",
			       (unsigned long long)type);
	rc = read_ptr(p, type + (uint64_t)p->L.type.tp_name, &name, e);
	if (rc)
		return rc;
	/* tp_name is a C string, possibly near the end of a mapping: read
	 * byte ranges that shrink until one succeeds. */
	for (; n > 1; n /= 2)
		if (!mem_read(p->mem, name, tmp, n - 1, NULL))
			break;
	if (n <= 1)
		return err_set(e, SS_EREAD, "cannot read type name at 0x%llx",
			       (unsigned long long)name);
	tmp[n - 1] = '\0';
	snprintf(buf, size, "%s", tmp);
	/* Cache only names read whole (their NUL was inside the read). */
	if (strlen(tmp) < n - 1 && strlen(tmp) < PY_TNAME_CACHED) {
		p->tname[slot].type = type;
		memcpy(p->tname[slot].name, tmp, strlen(tmp) + 1);
	}
	return 0;
}

int py_check_type(struct py_proc *p, uint64_t obj, const char *want,
		      uint64_t *cache, struct err *e)
{
	uint64_t type;
	char name[TPNAME_MAX];
	int rc;

	rc = py_type_of(p, obj, &type, e);
	if (rc)
		return rc;
	if (*cache)
		return type == *cache ? 0 :
		       err_set(e, SS_ECORRUPT, "object at 0x%llx is not a %s",
			       (unsigned long long)obj, want);
	rc = py_type_name(p, obj, name, sizeof(name), e);
	if (rc)
		return rc;
	if (strcmp(name, want))
		return err_set(e, SS_ECORRUPT, "object at 0x%llx is a %s, "
			       "not a %s", (unsigned long long)obj, name, want);
	*cache = type;
	return 0;
}

/* ---- str ---------------------------------------------------------- */

struct str_view {
	uint64_t data;
	size_t length;
	unsigned kind; /* bytes per character */
	bool raw;      /* 2.7 'str': bytes, copied as they are */
};

/* 2.7: 'str' is a byte string; 'unicode' points at Py_UNICODE data. */
static int str_view_py2(struct py_proc *p, uint64_t obj, struct str_view *v,
			struct err *e)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[64];
	char name[16];
	int64_t length;
	int rc;

	rc = py_check_type(p, obj, "str", &p->type_str, NULL);
	if (!rc) {
		rc = mem_read_u64(p->mem, obj + (uint64_t)L->bytes.size,
				  (uint64_t *)&length, e);
		v->data = obj + (uint64_t)L->bytes.data;
		v->kind = 1;
		v->raw = true;
	} else if (!(rc = py_type_name(p, obj, name, sizeof(name), e)) &&
		   !strcmp(name, "unicode")) {
		rc = mem_read(p->mem, obj, hdr, (size_t)L->unicode.compact_data + 8,
			      e);
		if (rc)
			return rc;
		memcpy(&length, hdr + L->unicode.length, sizeof(length));
		v->data = py_rd64(hdr, L->unicode.compact_data);
		v->kind = (unsigned)L->unicode.char_size;
		v->raw = false;
	} else if (!rc) {
		return err_set(e, SS_ECORRUPT, "object at 0x%llx is a %s, not "
			       "a str", (unsigned long long)obj, name);
	}
	if (rc)
		return rc;
	if (length < 0 || length > (1LL << 31))
		return err_set(e, SS_ECORRUPT, "str at 0x%llx has length %lld",
			       (unsigned long long)obj, (long long)length);
	v->length = (size_t)length;
	return 0;
}

static int str_view(struct py_proc *p, uint64_t obj, struct str_view *v,
		    struct err *e)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[128];
	size_t hlen = (size_t)L->unicode.compact_data + 8;
	uint64_t length;
	uint32_t state;
	bool compact, ascii;
	int rc;

	if (L->unicode.kind == LAYOUT_STR_PY2)
		return str_view_py2(p, obj, v, e);
	v->raw = false;
	rc = py_check_type(p, obj, "str", &p->type_str, e);
	if (rc)
		return rc;
	/* Offsets can come from the target (_Py_DebugOffsets): each field
	 * must lie in the bytes read for it. */
	if (hlen > sizeof(hdr) || L->unicode.ascii_data < 0 ||
	    L->unicode.ascii_data > L->unicode.compact_data ||
	    L->unicode.length < 0 || L->unicode.length + 8 >
	    L->unicode.ascii_data || L->unicode.state < 0 ||
	    L->unicode.state + 4 > L->unicode.ascii_data)
		return err_set(e, SS_EBADBUILD, "bad unicode layout");
	/* A short ASCII string can end before hlen: read what we need. */
	rc = mem_read(p->mem, obj, hdr, (size_t)L->unicode.ascii_data, e);
	if (rc)
		return rc;
	length = py_rd64(hdr, L->unicode.length);
	state = rd32(hdr, L->unicode.state);
	if (length > (1ULL << 31))
		return err_set(e, SS_ECORRUPT, "str at 0x%llx has length %llu",
			       (unsigned long long)obj,
			       (unsigned long long)length);
	v->length = (size_t)length;
	v->kind = (state >> L->unicode.kind_shift) & 7;
	compact = (state >> L->unicode.compact_bit) & 1;
	ascii = (state >> L->unicode.ascii_bit) & 1;
	if (v->kind != 1 && v->kind != 2 && v->kind != 4)
		return err_set(e, SS_ECORRUPT, "str at 0x%llx has kind %u",
			       (unsigned long long)obj, v->kind);
	if (compact && ascii) {
		v->data = obj + (uint64_t)L->unicode.ascii_data;
		return 0;
	}
	rc = mem_read(p->mem, obj, hdr, hlen, e);
	if (rc)
		return rc;
	if (compact)
		v->data = obj + (uint64_t)L->unicode.compact_data;
	else
		v->data = py_rd64(hdr, L->unicode.compact_data);
	return 0;
}

/* The end of a string cut at its maximum length. */
#define STR_CUT "..."

static void put_utf8(char *out, size_t *pos, uint32_t c)
{
	/* A lone surrogate (U+D800..U+DFFF) takes the three-byte branch:
	 * its WTF-8 form (see py_str_read). */
	if (c > 0x10ffff)
		c = 0xfffd;
	if (c == 0) {
		/* NUL inside a C string: the overlong pair (see py_str_read) */
		out[(*pos)++] = (char)0xc0;
		out[(*pos)++] = (char)0x80;
	} else if (c < 0x80) {
		out[(*pos)++] = (char)c;
	} else if (c < 0x800) {
		out[(*pos)++] = (char)(0xc0 | (c >> 6));
		out[(*pos)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*pos)++] = (char)(0xe0 | (c >> 12));
		out[(*pos)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*pos)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*pos)++] = (char)(0xf0 | (c >> 18));
		out[(*pos)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[(*pos)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*pos)++] = (char)(0x80 | (c & 0x3f));
	}
}

int py_str_read(struct py_proc *p, uint64_t obj, size_t max_chars,
		char **out, size_t *len, struct err *e)
{
	struct str_view v;
	size_t n, pos = 0;
	uint8_t *raw;
	char *s;
	int rc;

	*out = NULL;
	rc = str_view(p, obj, &v, e);
	if (rc)
		return rc;
	if (max_chars > PY_STR_MAX)
		max_chars = PY_STR_MAX;
	n = v.length < max_chars ? v.length : max_chars;
	raw = xmalloc(n * v.kind + 1);
	rc = mem_read(p->mem, v.data, raw, n * v.kind, e);
	if (rc) {
		free(raw);
		return rc;
	}
	s = xmalloc(n * 4 + sizeof(STR_CUT));
	for (size_t i = 0; i < n; i++) {
		uint32_t c;

		if (v.raw && raw[i]) {
			/* 2.7's str: bytes as they are (the writers escape
			 * what is not UTF-8). */
			s[pos++] = (char)raw[i];
			continue;
		}
		if (v.raw || v.kind == 1) {
			c = raw[i];
		} else if (v.kind == 2) {
			uint16_t u;

			memcpy(&u, raw + 2 * i, 2);
			c = u;
		} else {
			memcpy(&c, raw + 4 * i, 4);
		}
		put_utf8(s, &pos, c);
	}
	free(raw);
	if (n < v.length) {
		memcpy(s + pos, STR_CUT, strlen(STR_CUT));
		pos += strlen(STR_CUT);
	}
	s[pos] = '\0';
	*out = s;
	if (len)
		*len = pos;
	return 0;
}

int py_str_data(struct py_proc *p, uint64_t obj, uint64_t *data,
		size_t *nbytes, unsigned *kind, struct err *e)
{
	struct str_view v;
	int rc = str_view(p, obj, &v, e);

	if (rc)
		return rc;
	*data = v.data;
	*nbytes = v.length * v.kind;
	*kind = v.kind;
	return 0;
}

int py_str_codepoints(struct py_proc *p, uint64_t obj, size_t max,
		      uint32_t **cps, size_t *n, size_t *length,
		      struct err *e)
{
	struct str_view v;
	uint8_t *raw;
	int rc;

	*cps = NULL;
	rc = str_view(p, obj, &v, e);
	if (rc)
		return rc;
	if (max > PY_STR_MAX)
		max = PY_STR_MAX;
	*length = v.length;
	*n = v.length < max ? v.length : max;
	raw = xmalloc(*n * v.kind + 1);
	rc = mem_read(p->mem, v.data, raw, *n * v.kind, e);
	if (rc) {
		free(raw);
		return rc;
	}
	*cps = xmalloc((*n + 1) * sizeof(**cps));
	for (size_t i = 0; i < *n; i++) {
		if (v.kind == 1) {
			(*cps)[i] = raw[i];
		} else if (v.kind == 2) {
			uint16_t u;

			memcpy(&u, raw + 2 * i, 2);
			(*cps)[i] = u;
		} else {
			memcpy(&(*cps)[i], raw + 4 * i, 4);
		}
	}
	free(raw);
	return 0;
}

/* Is the str object equal to the UTF-8 string 'want'?  Only ASCII 'want'
 * is ever asked for (attribute and module names), so compare code points
 * without decoding the whole string. */
static bool str_equals(struct py_proc *p, uint64_t obj, const char *want)
{
	struct str_view v;
	size_t n = strlen(want);
	uint8_t raw[256 * 4];

	if (n > 256 || str_view(p, obj, &v, NULL) || v.length != n)
		return false;
	if (mem_read(p->mem, v.data, raw, n * v.kind, NULL))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = 0;

		memcpy(&c, raw + i * v.kind, v.kind); /* little-endian */
		if (c != (unsigned char)want[i])
			return false;
	}
	return true;
}

/* ---- bytes, int --------------------------------------------------- */

int py_bytes_read(struct py_proc *p, uint64_t obj, size_t max,
		  uint8_t **out, size_t *len, struct err *e)
{
	uint64_t size;
	int rc;

	*out = NULL;
	/* 2.7's bytes type is called str */
	rc = py_check_type(p, obj, p->L.unicode.kind == LAYOUT_STR_PY2 ?
			   "str" : "bytes", &p->type_bytes, e);
	if (!rc)
		rc = mem_read_u64(p->mem, obj + (uint64_t)p->L.bytes.size,
				  &size, e);
	if (rc)
		return rc;
	if (size > max)
		return err_set(e, SS_ELIMIT, "bytes at 0x%llx too long (%llu)",
			       (unsigned long long)obj,
			       (unsigned long long)size);
	*out = xmalloc(size ? size : 1);
	*len = (size_t)size;
	rc = mem_read(p->mem, obj + (uint64_t)p->L.bytes.data, *out, size, e);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int py_long_read_u64(struct py_proc *p, uint64_t obj, uint64_t *out,
		     struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t tag, ndigits, v = 0;
	uint32_t digit[4];
	bool negative;
	int rc;

	if (L->pylong.int_value != LAYOUT_NONE &&
	    !py_check_type(p, obj, "int", &p->type_int27, NULL)) {
		int64_t ival; /* 2.7 PyIntObject: a C long */

		rc = mem_read_u64(p->mem, obj + (uint64_t)L->pylong.int_value,
				  (uint64_t *)&ival, e);
		if (!rc && ival < 0)
			rc = err_set(e, SS_ELIMIT, "int at 0x%llx is negative",
				     (unsigned long long)obj);
		if (!rc)
			*out = (uint64_t)ival;
		return rc;
	}
	rc = py_check_type(p, obj, L->pylong.int_value != LAYOUT_NONE ?
			   "long" : "int", &p->type_int, e);
	if (!rc)
		rc = mem_read_u64(p->mem, obj + (uint64_t)L->pylong.tag, &tag, e);
	if (rc)
		return rc;
	if (L->pylong.kind == LAYOUT_LONG_LV_TAG) {
		ndigits = tag >> 3;
		negative = (tag & 3) == 2;
	} else {
		int64_t size = (int64_t)tag;

		negative = size < 0;
		ndigits = negative ? (uint64_t)0 - tag : tag;
	}
	if (negative || ndigits > 3)
		return err_set(e, SS_ELIMIT, "int at 0x%llx does not fit in "
			       "64 bits", (unsigned long long)obj);
	rc = mem_read(p->mem, obj + (uint64_t)L->pylong.digits, digit,
		      ndigits * 4, e);
	if (rc)
		return rc;
	for (uint64_t i = ndigits; i-- > 0;) {
		unsigned shift = (unsigned)L->pylong.digit_bits;

		if (v >> (64 - shift))
			return err_set(e, SS_ELIMIT, "int at 0x%llx does not "
				       "fit in 64 bits",
				       (unsigned long long)obj);
		v = (v << shift) | digit[i];
	}
	*out = v;
	return 0;
}

/* ---- dict --------------------------------------------------------- */

/* Where a keys object's entries are and how to read them. */
struct keys_view {
	uint64_t entries;
	size_t n;      /* entries in use (dk_nentries) */
	size_t esize;  /* bytes per entry */
	int key_off, value_off;
};

static int keys_view(struct py_proc *p, uint64_t keys, struct keys_view *kv,
		     struct err *e)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[64];
	uint64_t nentries;
	int rc;

	if (!py_ptr_ok(keys))
		return err_set(e, SS_ECORRUPT, "bad dict keys pointer");
	rc = mem_read(p->mem, keys, hdr, (size_t)L->dict.dk_indices, e);
	if (rc)
		return rc;
	nentries = py_rd64(hdr, L->dict.dk_nentries);
	if (L->dict.kind == LAYOUT_DICT_311) {
		unsigned log2_size = hdr[L->dict.dk_size];
		unsigned log2_index = hdr[L->dict.dk_index_bytes];
		unsigned kind = hdr[L->dict.dk_kind];

		if (log2_size > DICT_MAX_LOG2 || log2_index > DICT_MAX_LOG2 + 3 ||
		    nentries > (1ULL << log2_size))
			return err_set(e, SS_ECORRUPT, "implausible dict keys");
		kv->entries = keys + (uint64_t)L->dict.dk_indices +
			      (1ULL << log2_index);
		kv->esize = kind == 0 ? 24 : 16;
		kv->key_off = kind == 0 ? 8 : 0;
		kv->value_off = kind == 0 ? 16 : 8;
	} else {
		uint64_t size = py_rd64(hdr, L->dict.dk_size);
		unsigned ib;

		if (size < 8 || size > (1ULL << DICT_MAX_LOG2) ||
		    (size & (size - 1)) || nentries > size)
			return err_set(e, SS_ECORRUPT, "implausible dict keys");
		ib = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		kv->entries = keys + (uint64_t)L->dict.dk_indices + size * ib;
		kv->esize = 24;
		kv->key_off = 8;
		kv->value_off = 16;
	}
	kv->n = (size_t)nentries;
	return 0;
}

/* Read up to 'limit' entries of a keys object: fills keys[] and vals[]
 * (the in-entry values; NULL for split tables). */
static int keys_entries(struct py_proc *p, const struct keys_view *kv,
			size_t limit, uint64_t **keys, uint64_t **vals,
			size_t *n, struct err *e)
{
	size_t cnt = kv->n < limit ? kv->n : limit;
	uint8_t *buf = xmalloc(cnt * kv->esize + 1);
	int rc;

	rc = mem_read(p->mem, kv->entries, buf, cnt * kv->esize, e);
	if (rc) {
		free(buf);
		return rc;
	}
	*keys = xmalloc((cnt + 1) * sizeof(uint64_t));
	*vals = xmalloc((cnt + 1) * sizeof(uint64_t));
	for (size_t i = 0; i < cnt; i++) {
		(*keys)[i] = py_rd64(buf, (int)(i * kv->esize) + kv->key_off);
		(*vals)[i] = py_rd64(buf, (int)(i * kv->esize) + kv->value_off);
	}
	free(buf);
	*n = cnt;
	return 0;
}

/* 2.7: the dict itself holds an open-addressed table of mask + 1 entries
 * { hash, key, value }; unused and deleted slots have no value. */
static int keys_view_27(struct py_proc *p, uint64_t dict, struct keys_view *kv,
			struct err *e)
{
	uint64_t mask, table;
	int rc;

	rc = read_ptr(p, dict + (uint64_t)p->L.dict.ma_mask, &mask, e);
	if (!rc)
		rc = read_ptr(p, dict + (uint64_t)p->L.dict.ma_table, &table, e);
	if (rc)
		return rc;
	if (mask < 7 || mask >= (1ULL << DICT_MAX_LOG2) || (mask & (mask + 1)) ||
	    !py_ptr_ok(table))
		return err_set(e, SS_ECORRUPT, "implausible dict at 0x%llx",
			       (unsigned long long)dict);
	kv->entries = table;
	kv->n = (size_t)mask + 1;
	kv->esize = 24;
	kv->key_off = 8;
	kv->value_off = 16;
	return 0;
}

int py_dict_each(struct py_proc *p, uint64_t dict, size_t limit,
		 py_dict_fn fn, void *arg, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t ma_keys, ma_values = 0, *keys = NULL, *vals = NULL;
	struct keys_view kv;
	size_t n = 0;
	int rc;

	if (L->dict.kind == LAYOUT_DICT_27) {
		rc = keys_view_27(p, dict, &kv, e);
	} else {
		rc = read_ptr(p, dict + (uint64_t)L->dict.ma_keys, &ma_keys, e);
		if (!rc)
			rc = read_ptr(p, dict + (uint64_t)L->dict.ma_values,
				      &ma_values, e);
		if (!rc)
			rc = keys_view(p, ma_keys, &kv, e);
	}
	if (!rc)
		rc = keys_entries(p, &kv, limit, &keys, &vals, &n, e);
	if (!rc && ma_values && n > 0)
		/* Split table: values live in a separate array. */
		rc = mem_read(p->mem, ma_values + (uint64_t)L->dict.values_header,
			      vals, n * sizeof(uint64_t), e);
	for (size_t i = 0; !rc && i < n; i++)
		if (keys[i] && vals[i])
			rc = fn(p, keys[i], vals[i], arg);
	free(keys);
	free(vals);
	return rc;
}

struct find_str {
	const char *name;
	uint64_t value;
};

static int find_str_cb(struct py_proc *p, uint64_t key, uint64_t value,
		       void *arg)
{
	struct find_str *f = arg;

	if (!str_equals(p, key, f->name))
		return 0;
	f->value = value;
	return 1;
}

static int shared_key_index(struct py_proc *p, uint64_t keys,
			    const char *name, size_t *idx, struct err *e);

/* A split dict (instance dicts before 3.11): keys shared by all instances
 * of a class, values in ma_values. */
static int split_dict_get(struct py_proc *p, uint64_t dict, const char *name,
			  uint64_t *value, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t ma_keys, ma_values;
	size_t idx;
	int rc;

	if (L->dict.kind == LAYOUT_DICT_27)
		return 1; /* no split tables */
	rc = mem_read_u64(p->mem, dict + (uint64_t)L->dict.ma_keys, &ma_keys, e);
	if (!rc)
		rc = mem_read_u64(p->mem, dict + (uint64_t)L->dict.ma_values,
				  &ma_values, e);
	if (rc)
		return rc;
	if (!ma_values)
		return 1; /* combined table: search it */
	rc = shared_key_index(p, ma_keys, name, &idx, e);
	if (!rc)
		rc = mem_read_u64(p->mem, ma_values +
				  (uint64_t)L->dict.values_header + 8 * idx,
				  value, e);
	if (!rc && !*value)
		rc = err_set(e, SS_ECORRUPT, "no key '%s'", name);
	return rc;
}

int py_dict_get_str(struct py_proc *p, uint64_t dict, const char *name,
		    uint64_t *value, struct err *e)
{
	struct find_str f = { name, 0 };
	int rc;

	if (!py_ptr_ok(dict))
		return err_set(e, SS_ECORRUPT, "bad dict pointer looking up "
			       "'%s'", name);
	rc = split_dict_get(p, dict, name, value, e);
	if (rc <= 0)
		return rc;
	rc = py_dict_each(p, dict, 1u << 16, find_str_cb, &f, e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return err_set(e, SS_ECORRUPT, "no key '%s'", name);
	*value = f.value;
	return 0;
}

/* Index of str key 'name' in a shared-keys object, for split values. */
static int shared_key_index(struct py_proc *p, uint64_t keys,
			    const char *name, size_t *idx, struct err *e)
{
	struct keys_view kv;
	uint64_t *k = NULL, *v = NULL;
	size_t n = 0;
	int rc;

	/* Instances of one class share one keys object: cache by (keys,
	 * name), slot chosen by both. */
	size_t slot = (size_t)((keys >> 4) ^ (uintptr_t)name) % PY_ATTR_CACHE;

	if (p->attr_index[slot].keys == keys &&
	    p->attr_index[slot].name == name) {
		*idx = p->attr_index[slot].index;
		return 0;
	}
	rc = keys_view(p, keys, &kv, e);
	if (!rc)
		rc = keys_entries(p, &kv, ATTR_MAX_ENTRIES, &k, &v, &n, e);
	if (!rc) {
		rc = err_set(e, SS_ECORRUPT, "no attribute '%s'", name);
		for (size_t i = 0; i < n; i++) {
			if (k[i] && str_equals(p, k[i], name)) {
				*idx = i;
				p->attr_index[slot].keys = keys;
				p->attr_index[slot].name = name;
				p->attr_index[slot].index = i;
				rc = 0;
				break;
			}
		}
	}
	free(k);
	free(v);
	return rc;
}

static int values_get(struct py_proc *p, uint64_t type, uint64_t values,
		      const char *name, uint64_t *value, struct err *e)
{
	uint64_t keys;
	size_t idx = 0;
	int rc;

	rc = read_ptr(p, type + (uint64_t)p->L.type.ht_cached_keys, &keys, e);
	if (!rc)
		rc = shared_key_index(p, keys, name, &idx, e);
	if (!rc)
		rc = read_ptr(p, values + idx * 8, value, e);
	if (!rc && !*value)
		rc = err_set(e, SS_ECORRUPT, "attribute '%s' is unset", name);
	return rc;
}

int py_getattr_str(struct py_proc *p, uint64_t obj, const char *name,
		   uint64_t *value, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t type, flags = 0, word, dict = 0;
	int64_t dictoffset;
	int kind = L->instdict.kind;
	int rc;

	rc = py_type_of(p, obj, &type, e);
	if (!rc && L->type.tp_flags != LAYOUT_NONE)
		rc = mem_read_u64(p->mem, type + (uint64_t)L->type.tp_flags,
				  &flags, e);
	if (rc)
		return rc;
	if (kind != LAYOUT_INSTDICT_OFFSET && !(flags & TPFLAGS_MANAGED_DICT))
		kind = LAYOUT_INSTDICT_OFFSET;

	switch (kind) {
	case LAYOUT_INSTDICT_311:
		rc = read_ptr(p, obj - 32, &word, e);
		if (!rc && word)
			return values_get(p, type, word, name, value, e);
		if (!rc)
			rc = read_ptr(p, obj - 24, &dict, e);
		break;
	case LAYOUT_INSTDICT_312:
		rc = read_ptr(p, obj - 24, &word, e);
		if (!rc && (word & 1))
			return values_get(p, type, word + 1, name, value, e);
		dict = word;
		break;
	case LAYOUT_INSTDICT_313:
		rc = read_ptr(p, obj - 24, &dict, e);
		if (!rc && !dict) {
			uint64_t basic;

			rc = mem_read_u64(p->mem, type +
					  (uint64_t)L->type.tp_basicsize,
					  &basic, e);
			if (rc)
				return rc;
			if (basic > (1u << 20))
				return err_set(e, SS_ECORRUPT, "bad basicsize");
			return values_get(p, type, obj + basic +
					  (uint64_t)L->dict.values_header,
					  name, value, e);
		}
		break;
	default:
		rc = mem_read_u64(p->mem, type + (uint64_t)L->type.tp_dictoffset,
				  (uint64_t *)&dictoffset, e);
		if (!rc && (dictoffset <= 0 || dictoffset > (1 << 20)))
			return err_set(e, SS_ECORRUPT, "object at 0x%llx has "
				       "no instance dict",
				       (unsigned long long)obj);
		if (!rc)
			rc = read_ptr(p, obj + (uint64_t)dictoffset, &dict, e);
		break;
	}
	if (rc)
		return rc;
	if (!dict)
		return err_set(e, SS_ECORRUPT, "object at 0x%llx has no "
			       "attributes", (unsigned long long)obj);
	return py_dict_get_str(p, dict, name, value, e);
}

int py_module_get(struct py_proc *p, uint64_t interp, const char *name,
		  uint64_t *module, struct err *e)
{
	uint64_t modules;
	int rc;

	rc = read_ptr(p, interp + (uint64_t)p->L.interp.modules, &modules, e);
	if (!rc)
		rc = py_dict_get_str(p, modules, name, module, e);
	return rc;
}

int py_module_attr(struct py_proc *p, uint64_t module, const char *name,
		   uint64_t *value, struct err *e)
{
	uint64_t dict;
	int rc;

	rc = read_ptr(p, module + (uint64_t)p->L.module.dict, &dict, e);
	if (!rc)
		rc = py_dict_get_str(p, dict, name, value, e);
	return rc;
}
