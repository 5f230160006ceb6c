/*
 * strbuf.h - a growable, always NUL-terminated string (git's strbuf).
 */
#ifndef SNAKESCOPE_STRBUF_H
#define SNAKESCOPE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* never NULL after strbuf_init */
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the buffer to the caller (free() it); sb is left released and
 * needs strbuf_init() before reuse. */
char *strbuf_detach(struct strbuf *sb);

/* Does the C string s (NULL: never) end with suffix? */
bool str_ends_with(const char *s, const char *suffix);

#endif
