#include <config.h>

#include "common/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

size_t utf8_seq_len(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

static void add_hex(struct strbuf *sb, unsigned char c)
{
	strbuf_addf(sb, "\\x%02x", c);
}

/* A NUL carried inside a C string (see escape.h). */
static bool is_nul_pair(const unsigned char *s)
{
	return s[0] == 0xc0 && s[1] == 0x80;
}

/* A lone surrogate carried inside a C string (see escape.h): its code
 * point, or 0. */
static unsigned surrogate_at(const unsigned char *s)
{
	if (s[0] != 0xed || s[1] < 0xa0 || s[1] > 0xbf || (s[2] & 0xc0) != 0x80)
		return 0;
	return 0xd000u | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
}

static void escape(struct strbuf *sb, const char *str, bool double_bs)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n = utf8_seq_len(s);

		if (is_nul_pair(s)) {
			strbuf_addstr(sb, "\\x00");
			s += 2;
		} else if (n == 0 && surrogate_at(s)) {
			strbuf_addf(sb, "\\u%04x", surrogate_at(s));
			s += 3;
		} else if (n == 0) {
			add_hex(sb, *s++);
		} else if (n == 1) {
			if (*s < 0x20 || *s == 0x7f)
				add_hex(sb, *s);
			else if (*s == '\\' && double_bs)
				strbuf_addstr(sb, "\\\\");
			else
				strbuf_addch(sb, (char)*s);
			s++;
		} else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 controls U+0080..U+009F (e.g. CSI). */
			add_hex(sb, s[0]);
			add_hex(sb, s[1]);
			s += 2;
		} else {
			strbuf_add(sb, s, n);
			s += n;
		}
	}
}

void escape_text(struct strbuf *sb, const char *s)
{
	escape(sb, s, true);
}

void escape_repr(struct strbuf *sb, const char *s)
{
	escape(sb, s, false);
}

void escape_json(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (!s) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addch(sb, '"');
	while (*s) {
		size_t n = utf8_seq_len(s);

		if (is_nul_pair(s)) {
			strbuf_addstr(sb, "\\u0000");
			s += 2;
			continue;
		}
		if (n == 0 && surrogate_at(s)) {
			strbuf_addf(sb, "\\u%04x", surrogate_at(s));
			s += 3;
			continue;
		}
		if (n == 0) {
			strbuf_addstr(sb, "\\ufffd");
			s++;
			continue;
		}
		if (n > 1) {
			strbuf_add(sb, s, n);
			s += n;
			continue;
		}
		switch (*s) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if (*s < 0x20 || *s == 0x7f)
				strbuf_addf(sb, "\\u%04x", *s);
			else
				strbuf_addch(sb, (char)*s);
		}
		s++;
	}
	strbuf_addch(sb, '"');
}
