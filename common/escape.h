/*
 * escape.h - make target-controlled strings safe to print.
 *
 * Names read from the target (thread, function, file names) may contain
 * terminal control sequences, newlines or invalid UTF-8.  Writers never
 * print them raw.  Two code points a Python str may hold are carried in
 * the C string outside UTF-8 (see py_str_read) and printed as Python
 * escapes them: a NUL as the overlong pair C0 80, printed \x00 (JSON:
 * \u0000), and a lone surrogate as its WTF-8 form ED A0 80..ED BF BF,
 * printed \udcff (JSON: \udcff, which JSON readers give back as the same
 * lone surrogate).
 */
#ifndef SNAKESCOPE_ESCAPE_H
#define SNAKESCOPE_ESCAPE_H

#include <stddef.h>

#include "common/strbuf.h"

/* Append s for a terminal: valid UTF-8 passes; C0/C1 controls, DEL and
 * invalid bytes become \xNN escapes, a carried surrogate its \u escape
 * (\udcff); backslash doubles. */
void escape_text(struct strbuf *sb, const char *s);

/* The same for a Python repr, already escaped by its own rules: its
 * backslashes pass as they are. */
void escape_repr(struct strbuf *sb, const char *s);

/* Append s as a JSON string literal, quotes included.  Invalid UTF-8
 * becomes U+FFFD, a carried surrogate its \u escape (\udcff); NULL
 * becomes null. */
void escape_json(struct strbuf *sb, const char *s);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s);

#endif
