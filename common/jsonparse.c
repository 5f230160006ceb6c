#include <config.h>

#include "common/jsonparse.h"

#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

void jsonparse_init(struct jsonparse *p, const char *buf, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	p->line = 1;
}

static void skip_ws(struct jsonparse *p)
{
	while (p->off < p->len) {
		char c = p->buf[p->off];

		if (c == '\n') {
			p->line++;
			p->line_off = p->off + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			break;
		}
		p->off++;
	}
}

bool jsonparse_at_end(struct jsonparse *p)
{
	skip_ws(p);
	return p->off >= p->len;
}

size_t jsonparse_line(const struct jsonparse *p)
{
	return p->line;
}

void jsonparse_resync(struct jsonparse *p)
{
	/* Past the line the error is on, then to a line starting a
	 * document. */
	while (p->off < p->len) {
		if (p->buf[p->off++] != '\n')
			continue;
		p->line++;
		p->line_off = p->off;
		if (p->off < p->len &&
		    (p->buf[p->off] == '{' || p->buf[p->off] == '['))
			return;
	}
}

static int fail(struct jsonparse *p, struct err *e, int code,
		const char *what)
{
	return err_set(e, code, "line %zu, column %zu: %s", p->line,
		       p->off - p->line_off + 1, what);
}

static int parse_value(struct jsonparse *p, struct jv *v, struct err *e);

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (char)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (char)(0xc0 | (cp >> 6)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (char)(0xe0 | (cp >> 12)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (char)(0xf0 | (cp >> 18)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at p->off (its opening quote): decoded into *out (owned by
 * the caller), its length in *len. */
static int parse_string(struct jsonparse *p, char **out, size_t *len,
			struct err *e)
{
	struct strbuf sb;
	int rc = 0;

	p->off++; /* the quote */
	strbuf_init(&sb);
	for (;;) {
		unsigned char c;

		if (sb.len > JSONPARSE_MAX_STRING) {
			rc = fail(p, e, SS_ELIMIT, "string too long");
			break;
		}
		if (p->off >= p->len) {
			rc = fail(p, e, SS_EINVAL, "unterminated string");
			break;
		}
		c = (unsigned char)p->buf[p->off];
		if (c == '"') {
			p->off++;
			break;
		}
		if (c < 0x20) {
			rc = fail(p, e, SS_EINVAL,
				  "control character in a string");
			break;
		}
		if (c >= 0x80) {
			/* utf8_seq_len() reads up to a NUL: the buffer
			 * may have none, so check the sequence's room
			 * first (at most 4 bytes). */
			char tmp[5] = {0};
			size_t room = p->len - p->off, n;

			memcpy(tmp, p->buf + p->off, room < 4 ? room : 4);
			n = utf8_seq_len((const unsigned char *)tmp);
			if (n == 0 || n > room) {
				rc = fail(p, e, SS_EINVAL,
					  "invalid UTF-8 in a string");
				break;
			}
			strbuf_add(&sb, p->buf + p->off, n);
			p->off += n;
			continue;
		}
		if (c != '\\') {
			strbuf_addch(&sb, (char)c);
			p->off++;
			continue;
		}
		if (p->off + 1 >= p->len) {
			rc = fail(p, e, SS_EINVAL, "unterminated string");
			break;
		}
		c = (unsigned char)p->buf[p->off + 1];
		p->off += 2;
		switch (c) {
		case '"': strbuf_addch(&sb, '"'); continue;
		case '\\': strbuf_addch(&sb, '\\'); continue;
		case '/': strbuf_addch(&sb, '/'); continue;
		case 'b': strbuf_addch(&sb, '\b'); continue;
		case 'f': strbuf_addch(&sb, '\f'); continue;
		case 'n': strbuf_addch(&sb, '\n'); continue;
		case 'r': strbuf_addch(&sb, '\r'); continue;
		case 't': strbuf_addch(&sb, '\t'); continue;
		case 'u': break;
		default:
			p->off -= 2;
			rc = fail(p, e, SS_EINVAL, "bad escape in a string");
			goto out;
		}
		unsigned cp, lo;

		if (p->len - p->off < 4 || hex4(p->buf + p->off, &cp)) {
			rc = fail(p, e, SS_EINVAL, "bad \\u escape");
			break;
		}
		p->off += 4;
		if (cp >= 0xd800 && cp < 0xdc00 && p->len - p->off >= 6 &&
		    p->buf[p->off] == '\\' && p->buf[p->off + 1] == 'u' &&
		    hex4(p->buf + p->off + 2, &lo) == 0 &&
		    lo >= 0xdc00 && lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p->off += 6;
		}
		/* A lone surrogate goes through put_utf8 as its 3-byte
		 * (WTF-8) form, as the header says. */
		put_utf8(&sb, cp);
	}
out:
	if (rc) {
		strbuf_release(&sb);
		return rc;
	}
	*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct jsonparse *p, struct jv *v, struct err *e)
{
	const char *b = p->buf;
	size_t i = p->off, n = p->len;
	bool neg = false, is_int = true, overflow = false;
	uint64_t mag = 0;
	double num = 0, frac_scale = 1;
	long exp10 = 0;

	if (b[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || !is_digit(b[i]))
		return fail(p, e, SS_EINVAL, "bad number");
	if (b[i] == '0' && i + 1 < n && is_digit(b[i + 1]))
		return fail(p, e, SS_EINVAL, "leading zero in a number");
	for (; i < n && is_digit(b[i]); i++) {
		unsigned d = (unsigned)(b[i] - '0');

		num = num * 10 + d;
		if (mag > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			mag = mag * 10 + d;
	}
	if (i < n && b[i] == '.') {
		i++;
		is_int = false;
		if (i >= n || !is_digit(b[i]))
			return fail(p, e, SS_EINVAL, "bad number");
		for (; i < n && is_digit(b[i]); i++) {
			frac_scale /= 10;
			num += (b[i] - '0') * frac_scale;
		}
	}
	if (i < n && (b[i] == 'e' || b[i] == 'E')) {
		bool eneg = false;

		i++;
		is_int = false;
		if (i < n && (b[i] == '+' || b[i] == '-'))
			eneg = b[i++] == '-';
		if (i >= n || !is_digit(b[i]))
			return fail(p, e, SS_EINVAL, "bad number");
		for (; i < n && is_digit(b[i]); i++)
			if (exp10 < 100000)
				exp10 = exp10 * 10 + (b[i] - '0');
		if (eneg)
			exp10 = -exp10;
	}
	/* Not strtod(): it follows LC_NUMERIC, and an exact double is not
	 * needed here (integers are kept exactly). */
	for (; exp10 > 0 && num > 0 && num < 1e308; exp10--)
		num *= 10; /* 0e99999: no loop; a huge exponent: ~308 */
	for (; exp10 < 0 && num > 0; exp10++)
		num /= 10;
	v->type = JV_NUMBER;
	v->num = neg ? -num : num;
	if (is_int && !overflow &&
	    mag <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
		v->is_int = true;
		v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	}
	p->off = i;
	return 0;
}

static int parse_literal(struct jsonparse *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->off < n || memcmp(p->buf + p->off, word, n))
		return -1;
	p->off += n;
	return 0;
}

static int parse_array(struct jsonparse *p, struct jv *v, struct err *e)
{
	size_t cap = 0;
	int rc;

	v->type = JV_ARRAY;
	p->off++;
	skip_ws(p);
	if (p->off < p->len && p->buf[p->off] == ']') {
		p->off++;
		return 0;
	}
	for (;;) {
		if (v->len == cap) {
			cap = cap ? cap * 2 : 4;
			v->items = xrealloc(v->items, cap * sizeof(*v->items));
		}
		memset(&v->items[v->len], 0, sizeof(*v->items));
		rc = parse_value(p, &v->items[v->len], e);
		v->len++; /* freed with the array, even half-built */
		if (rc)
			return rc;
		skip_ws(p);
		if (p->off < p->len && p->buf[p->off] == ',') {
			p->off++;
			continue;
		}
		if (p->off < p->len && p->buf[p->off] == ']') {
			p->off++;
			return 0;
		}
		return fail(p, e, SS_EINVAL, "expected ',' or ']' in an array");
	}
}

static int parse_object(struct jsonparse *p, struct jv *v, struct err *e)
{
	size_t cap = 0, klen;
	int rc;

	v->type = JV_OBJECT;
	p->off++;
	skip_ws(p);
	if (p->off < p->len && p->buf[p->off] == '}') {
		p->off++;
		return 0;
	}
	for (;;) {
		struct jv_member *m;

		skip_ws(p);
		if (p->off >= p->len || p->buf[p->off] != '"')
			return fail(p, e, SS_EINVAL, "expected an object key");
		if (v->len == cap) {
			cap = cap ? cap * 2 : 4;
			v->members = xrealloc(v->members,
					      cap * sizeof(*v->members));
		}
		m = &v->members[v->len];
		memset(m, 0, sizeof(*m));
		v->len++;
		rc = parse_string(p, &m->key, &klen, e);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->off >= p->len || p->buf[p->off] != ':')
			return fail(p, e, SS_EINVAL,
				    "expected ':' after an object key");
		p->off++;
		rc = parse_value(p, &m->value, e);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->off < p->len && p->buf[p->off] == ',') {
			p->off++;
			continue;
		}
		if (p->off < p->len && p->buf[p->off] == '}') {
			p->off++;
			return 0;
		}
		return fail(p, e, SS_EINVAL, "expected ',' or '}' in an object");
	}
}

static int parse_value(struct jsonparse *p, struct jv *v, struct err *e)
{
	int rc;

	skip_ws(p);
	if (++p->values > JSONPARSE_MAX_VALUES)
		return fail(p, e, SS_ELIMIT, "too many values");
	if (p->off >= p->len)
		return fail(p, e, SS_EINVAL, "unexpected end of input");
	switch (p->buf[p->off]) {
	case '{':
	case '[':
		if (p->depth >= JSONPARSE_MAX_DEPTH)
			return fail(p, e, SS_ELIMIT, "nested too deep");
		p->depth++;
		rc = p->buf[p->off] == '{' ? parse_object(p, v, e)
					    : parse_array(p, v, e);
		p->depth--;
		return rc;
	case '"':
		v->type = JV_STRING;
		return parse_string(p, &v->s, &v->len, e);
	case 't':
		v->type = JV_BOOL;
		v->b = true;
		if (parse_literal(p, "true") == 0)
			return 0;
		break;
	case 'f':
		v->type = JV_BOOL;
		if (parse_literal(p, "false") == 0)
			return 0;
		break;
	case 'n':
		v->type = JV_NULL;
		if (parse_literal(p, "null") == 0)
			return 0;
		break;
	default:
		if (p->buf[p->off] == '-' || is_digit(p->buf[p->off]))
			return parse_number(p, v, e);
		break;
	}
	v->type = JV_NULL;
	return fail(p, e, SS_EINVAL, "expected a value");
}

static void jv_release(struct jv *v)
{
	switch (v->type) {
	case JV_STRING:
		free(v->s);
		break;
	case JV_ARRAY:
		for (size_t i = 0; i < v->len; i++)
			jv_release(&v->items[i]);
		free(v->items);
		break;
	case JV_OBJECT:
		for (size_t i = 0; i < v->len; i++) {
			free(v->members[i].key);
			jv_release(&v->members[i].value);
		}
		free(v->members);
		break;
	default:
		break;
	}
}

void jv_free(struct jv *v)
{
	if (!v)
		return;
	jv_release(v);
	free(v);
}

int jsonparse_next(struct jsonparse *p, struct jv **out, struct err *e)
{
	struct jv *v = xcalloc(1, sizeof(*v));
	int rc;

	*out = NULL;
	p->depth = 0;
	p->values = 0;
	rc = parse_value(p, v, e);
	if (rc == 0) {
		/* Documents are separated by white space or follow one
		 * another directly ({..}{..}); a scalar needs white space
		 * after it, or "12" "3" would read as 123. */
		if (p->off < p->len && !strchr(" \t\r\n{[", p->buf[p->off]) &&
		    v->type != JV_OBJECT && v->type != JV_ARRAY)
			rc = fail(p, e, SS_EINVAL, "junk after a value");
	}
	if (rc) {
		jv_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

const struct jv *jv_get(const struct jv *o, const char *key)
{
	if (!o || o->type != JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < o->len; i++)
		if (strcmp(o->members[i].key, key) == 0)
			return &o->members[i].value;
	return NULL;
}

const char *jv_get_str(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->type == JV_STRING ? v->s : NULL;
}

bool jv_get_int(const struct jv *o, const char *key, int64_t *v)
{
	const struct jv *m = jv_get(o, key);

	if (!m || m->type != JV_NUMBER || !m->is_int)
		return false;
	*v = m->i;
	return true;
}
