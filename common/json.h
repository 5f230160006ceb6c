/*
 * json.h - write one JSON document into a struct strbuf.
 *
 * Every JSON writer (dump --json, watch --json, record's JSON lines and
 * speedscope files) goes through this writer, so that commas, escaping,
 * numbers and the two layouts are decided in one place:
 *
 *   struct json j;
 *
 *   json_init(&j, &sb, JSON_COMPACT);
 *   json_begin_object(&j);
 *   json_key(&j, "name");
 *   json_string(&j, name);            (NULL: null)
 *   json_key(&j, "frames");
 *   json_begin_array(&j);
 *   ...
 *   json_end_array(&j);
 *   json_end_object(&j);
 *   json_finish(&j);
 *
 * Commas between items are automatic.  JSON_COMPACT writes no whitespace
 * at all ({"a":1,"b":[1,2]}); JSON_PRETTY separates items with ", " and
 * keys from values with ": ", and starts an item on a new line where the
 * caller asked for it with json_break(), at the indentation it gives
 * (a compact writer ignores json_break).  No newline is written after
 * the document; the caller adds one where its format wants it.
 *
 * The writer only appends to sb and keeps its state in struct json, so
 * a long document may be written out in pieces: the caller may write
 * sb's contents and reset it between calls.
 *
 * Strings go through escape_json() (common/escape.h): controls become
 * \u escapes, invalid UTF-8 U+FFFD, so any C string read from the target
 * may be passed as it is.
 *
 * Misuse (a value where a key is due, a key outside an object, closing
 * what is not open, nesting deeper than JSON_MAX_DEPTH, a second
 * top-level value) is a bug in the caller and fails an assert.
 */
#ifndef SNAKESCOPE_JSON_H
#define SNAKESCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

/* Containers open at once, at most. */
#define JSON_MAX_DEPTH 32

enum json_style {
	JSON_PRETTY = 0, /* ", " and ": ", new lines at json_break() */
	JSON_COMPACT,    /* no whitespace: one line */
};

struct json {
	struct strbuf *sb;    /* not owned */
	bool compact;
	unsigned depth;       /* containers open */
	bool after_key;       /* a key was written, its value is due */
	bool done;            /* the top-level value is complete */
	int brk;              /* indentation of a pending break, or -1 */
	/* Per open container: an object?  holding an item already? */
	bool object[JSON_MAX_DEPTH];
	bool nonempty[JSON_MAX_DEPTH];
};

/* Start a document appended to sb (not owned; it must outlive j).
 * There is nothing to release. */
void json_init(struct json *j, struct strbuf *sb, enum json_style style);

/* Assert that the document is complete: one top-level value written and
 * every container closed. */
void json_finish(const struct json *j);

/* Open and close a container.  A begin is a value: in an object it
 * follows json_key(). */
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);

/* The key of the next object member (escaped like any string); its
 * value must follow. */
void json_key(struct json *j, const char *key);

/* Values. */
void json_string(struct json *j, const char *s); /* NULL: null */
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/*
 * A double with 'digits' significant digits (printf's %.*g: 0.02, 1e-07)
 * or, json_fixed, with 'decimals' digits after the point (%.*f:
 * 3581.944560).  JSON has no NaN or infinity: those are written null.
 * The decimal point is '.' whatever the locale's LC_NUMERIC.
 */
void json_double(struct json *j, double v, int digits);
void json_fixed(struct json *j, double v, int decimals);

/* Pretty only: the next item (a key, or a value in an array) starts on a
 * new line indented by 'indent' spaces.  Dropped if the container closes
 * first; ignored by a compact writer. */
void json_break(struct json *j, unsigned indent);

/* A member in one call: json_key() then the value. */
static inline void json_key_string(struct json *j, const char *key,
				   const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

static inline void json_key_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

static inline void json_key_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

static inline void json_key_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

static inline void json_key_null(struct json *j, const char *key)
{
	json_key(j, key);
	json_null(j);
}

#endif
