/*
 * jsonparse.h - read JSON documents into a tree (a DOM), strictly and
 * within bounds.
 *
 * The reader of `merge` (documents written by dump --json on other
 * machines), so everything it reads is untrusted: the grammar is RFC
 * 8259's with nothing added (no comments, no trailing commas, no NaN),
 * strings must be UTF-8, and the document's nesting, the length of a
 * string and the number of values are bounded (JSONPARSE_MAX_*): a
 * document over a bound is refused, not cut.
 *
 * One buffer may hold several documents, one after another (watch
 * --json's one per line, or concatenated pretty ones):
 *
 *   struct jsonparse p;
 *   struct jv *doc;
 *
 *   jsonparse_init(&p, buf, len);
 *   while (!jsonparse_at_end(&p)) {
 *           if (jsonparse_next(&p, &doc, &e)) {
 *                   report e.msg (it names the line and column);
 *                   jsonparse_resync(&p);
 *                   continue;
 *           }
 *           ... jv_get(doc, "pid") ...
 *           jv_free(doc);
 *   }
 *
 * Strings: \u escapes are decoded, a surrogate pair to its character and
 * a lone surrogate to its WTF-8 form (ED A0 80..ED BF BF), which is how
 * snakescope carries one (common/escape.h writes it back as \udcff); a
 * \u0000 is kept as a NUL byte inside the string (len counts it; as a C
 * string the value stops there).  Numbers keep their value as a double
 * and, when they are integers that fit, exactly as an int64.  Duplicate
 * keys are kept; jv_get() finds the first.
 */
#ifndef SNAKESCOPE_JSONPARSE_H
#define SNAKESCOPE_JSONPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define JSONPARSE_MAX_DEPTH 64          /* containers open at once */
#define JSONPARSE_MAX_STRING (1u << 20) /* bytes in one string, decoded */
#define JSONPARSE_MAX_VALUES (1u << 22) /* values in one document */

enum jv_type {
	JV_NULL,
	JV_BOOL,
	JV_NUMBER,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT,
};

struct jv_member;

/* One value.  Owned by the document it is in: free the top with
 * jv_free(). */
struct jv {
	enum jv_type type;
	bool b;                   /* JV_BOOL */
	bool is_int;              /* JV_NUMBER: an integer within int64 */
	int64_t i;                /* JV_NUMBER when is_int */
	double num;               /* JV_NUMBER */
	char *s;                  /* JV_STRING: NUL-terminated */
	size_t len;               /* JV_STRING: bytes; JV_ARRAY, JV_OBJECT:
				     items */
	struct jv *items;         /* JV_ARRAY */
	struct jv_member *members; /* JV_OBJECT, in the document's order */
};

struct jv_member {
	char *key;   /* decoded like a string value */
	struct jv value;
};

/* A reader over buf[0..len) (not owned; it must outlive p). */
struct jsonparse {
	const char *buf;
	size_t len;
	size_t off;      /* where the next document starts */
	size_t line;     /* 1-based line of buf[off] */
	size_t line_off; /* where that line starts */
	/* While parsing one document: */
	unsigned depth;
	size_t values;
};

void jsonparse_init(struct jsonparse *p, const char *buf, size_t len);

/* Skip white space; is nothing else left? */
bool jsonparse_at_end(struct jsonparse *p);

/* The 1-based line the reader is at (of the next document, or of the
 * error jsonparse_next() just reported). */
size_t jsonparse_line(const struct jsonparse *p);

/*
 * Read the next document.  0: *out is the document (owned by the
 * caller: jv_free()).  Else a negative SS_E* code (SS_EINVAL for bad
 * JSON, SS_ELIMIT for a bound), *out is NULL, e says what and where
 * ("line 3, column 7: expected ':' after an object key"), and the reader
 * stays at the error (jsonparse_resync() moves on).
 */
int jsonparse_next(struct jsonparse *p, struct jv **out, struct err *e);

/* After an error: move to the next line that starts with '{' or '[' (a
 * document's start in watch --json's lines and dump --json's pretty
 * layout), or to the end. */
void jsonparse_resync(struct jsonparse *p);

/* Free a document from jsonparse_next() (NULL: nothing). */
void jv_free(struct jv *v);

/* The first member 'key' of object o, or NULL (absent, or o NULL or not
 * an object). */
const struct jv *jv_get(const struct jv *o, const char *key);

/* o's member 'key' as a string: NULL when absent, null or not a
 * string. */
const char *jv_get_str(const struct jv *o, const char *key);

/* o's member 'key' as an integer into *v: false when absent or not an
 * integer. */
bool jv_get_int(const struct jv *o, const char *key, int64_t *v);

#endif
