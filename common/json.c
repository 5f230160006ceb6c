#include <config.h>

#include "common/json.h"
#include "common/escape.h"

#include <assert.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <string.h>

void json_init(struct json *j, struct strbuf *sb, enum json_style style)
{
	memset(j, 0, sizeof(*j));
	j->sb = sb;
	j->compact = style == JSON_COMPACT;
	j->brk = -1;
}

void json_finish(const struct json *j)
{
	assert(j->done && !j->depth && !j->after_key);
}

/* The separator and the pending break before an item of the open
 * container (a key, or an array's value). */
static void item_start(struct json *j)
{
	if (j->depth) {
		bool *nonempty = &j->nonempty[j->depth - 1];

		if (*nonempty)
			strbuf_addstr(j->sb, j->compact || j->brk >= 0 ? "," : ", ");
		*nonempty = true;
	}
	if (j->brk >= 0) {
		strbuf_addch(j->sb, '\n');
		for (int i = 0; i < j->brk; i++)
			strbuf_addch(j->sb, ' ');
		j->brk = -1;
	}
}

static void value_start(struct json *j)
{
	assert(!j->done);
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	assert(!j->depth || !j->object[j->depth - 1]); /* a key is due */
	item_start(j);
}

static void value_end(struct json *j)
{
	if (!j->depth)
		j->done = true;
}

static void begin(struct json *j, bool object)
{
	value_start(j);
	assert(j->depth < JSON_MAX_DEPTH);
	j->object[j->depth] = object;
	j->nonempty[j->depth] = false;
	j->depth++;
	strbuf_addch(j->sb, object ? '{' : '[');
}

static void end(struct json *j, bool object)
{
	assert(j->depth && j->object[j->depth - 1] == object && !j->after_key);
	j->brk = -1;
	j->depth--;
	strbuf_addch(j->sb, object ? '}' : ']');
	value_end(j);
}

void json_begin_object(struct json *j)
{
	begin(j, true);
}

void json_end_object(struct json *j)
{
	end(j, true);
}

void json_begin_array(struct json *j)
{
	begin(j, false);
}

void json_end_array(struct json *j)
{
	end(j, false);
}

void json_key(struct json *j, const char *key)
{
	assert(key && j->depth && j->object[j->depth - 1] && !j->after_key);
	item_start(j);
	escape_json(j->sb, key);
	strbuf_addstr(j->sb, j->compact ? ":" : ": ");
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	value_start(j);
	escape_json(j->sb, s);
	value_end(j);
}

void json_int(struct json *j, int64_t v)
{
	value_start(j);
	strbuf_addf(j->sb, "%" PRId64, v);
	value_end(j);
}

void json_uint(struct json *j, uint64_t v)
{
	value_start(j);
	strbuf_addf(j->sb, "%" PRIu64, v);
	value_end(j);
}

void json_bool(struct json *j, bool v)
{
	value_start(j);
	strbuf_addstr(j->sb, v ? "true" : "false");
	value_end(j);
}

void json_null(struct json *j)
{
	value_start(j);
	strbuf_addstr(j->sb, "null");
	value_end(j);
}

/* printf writes the locale's decimal point ("," under de_DE once a
 * program called setlocale, as top does): JSON wants '.'.  It may be
 * more than one byte (ps_AF's U+066B). */
static void c_decimal_point(struct strbuf *sb, size_t start)
{
	const char *dp = localeconv()->decimal_point;
	size_t n = dp ? strlen(dp) : 0;
	char *p;

	if (!n || !strcmp(dp, "."))
		return;
	p = strstr(sb->buf + start, dp);
	if (!p)
		return;
	*p = '.';
	memmove(p + 1, p + n, sb->len - (size_t)(p + n - sb->buf) + 1);
	sb->len -= n - 1;
}

void json_double(struct json *j, double v, int digits)
{
	size_t start;

	assert(digits > 0 && digits <= 17);
	value_start(j);
	if (!isfinite(v)) {
		strbuf_addstr(j->sb, "null");
	} else {
		start = j->sb->len;
		strbuf_addf(j->sb, "%.*g", digits, v);
		c_decimal_point(j->sb, start);
	}
	value_end(j);
}

void json_fixed(struct json *j, double v, int decimals)
{
	size_t start;

	assert(decimals >= 0 && decimals <= 17);
	value_start(j);
	if (!isfinite(v)) {
		strbuf_addstr(j->sb, "null");
	} else {
		start = j->sb->len;
		strbuf_addf(j->sb, "%.*f", decimals, v);
		c_decimal_point(j->sb, start);
	}
	value_end(j);
}

void json_break(struct json *j, unsigned indent)
{
	assert(j->depth && indent < 256);
	if (!j->compact)
		j->brk = (int)indent;
}
