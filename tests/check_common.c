/*
 * Unit tests for common/: the JSON writer (commas, nesting, escaping of
 * strings read from the target, numbers, the compact and pretty
 * layouts, and the asserts that catch a caller's misuse).
 */
#include <config.h>

#include <check.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "common/json.h"
#include "common/jsonparse.h"
#include "common/strbuf.h"

START_TEST(test_json_compact)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key_int(&j, "a", 1);
	json_key(&j, "b");
	json_begin_array(&j);
	json_int(&j, -2);
	json_begin_object(&j);
	json_key_null(&j, "c");
	json_end_object(&j);
	json_begin_array(&j);
	json_end_array(&j);
	json_begin_object(&j);
	json_end_object(&j);
	json_end_array(&j);
	json_break(&j, 4); /* ignored: compact */
	json_key_bool(&j, "d", true);
	json_key_bool(&j, "e", false);
	json_key_string(&j, "f", "x");
	json_key_string(&j, "g", NULL);
	json_key_uint(&j, "h", UINT64_MAX);
	json_key_int(&j, "i", INT64_MIN);
	json_end_object(&j);
	json_finish(&j);
	ck_assert_str_eq(sb.buf, "{\"a\":1,\"b\":[-2,{\"c\":null},[],{}],"
			 "\"d\":true,\"e\":false,\"f\":\"x\",\"g\":null,"
			 "\"h\":18446744073709551615,"
			 "\"i\":-9223372036854775808}");
	strbuf_release(&sb);
}
END_TEST

/* Pretty: ", " and ": ", new lines only where asked, at the indentation
 * asked; a break pending when its container closes is dropped. */
START_TEST(test_json_pretty)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "keep:"); /* appended to, not replaced */
	json_init(&j, &sb, JSON_PRETTY);
	json_begin_object(&j);
	json_key_int(&j, "pid", 7);
	json_key_null(&j, "ns");
	json_break(&j, 1);
	json_key(&j, "list");
	json_begin_array(&j);
	for (int i = 0; i < 2; i++) {
		json_break(&j, 4);
		json_begin_object(&j);
		json_key_int(&j, "n", i);
		json_break(&j, 5);
		json_key(&j, "v");
		json_begin_array(&j);
		json_int(&j, 1);
		json_int(&j, 2);
		json_break(&j, 9); /* dropped */
		json_end_array(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_break(&j, 1);
	json_key(&j, "empty");
	json_begin_array(&j);
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	ck_assert_str_eq(sb.buf,
		"keep:{\"pid\": 7, \"ns\": null,\n"
		" \"list\": [\n"
		"    {\"n\": 0,\n"
		"     \"v\": [1, 2]},\n"
		"    {\"n\": 1,\n"
		"     \"v\": [1, 2]}],\n"
		" \"empty\": []}");
	strbuf_release(&sb);
}
END_TEST

static char *one_string(const char *s, enum json_style style)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, style);
	json_begin_object(&j);
	json_key_string(&j, s, s); /* keys are escaped too */
	json_end_object(&j);
	json_finish(&j);
	return strbuf_detach(&sb);
}

#define CHECK_STR(in, lit)                                               \
	do {                                                             \
		char *got_ = one_string(in, JSON_COMPACT);               \
		ck_assert_str_eq(got_, "{" lit ":" lit "}");             \
		free(got_);                                              \
		got_ = one_string(in, JSON_PRETTY);                      \
		ck_assert_str_eq(got_, "{" lit ": " lit "}");            \
		free(got_);                                              \
	} while (0)

START_TEST(test_json_strings)
{
	CHECK_STR("plain", "\"plain\"");
	CHECK_STR("q\"b\\/", "\"q\\\"b\\\\/\"");
	/* Every C0 control, DEL and the common short forms. */
	CHECK_STR("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	CHECK_STR("\b\f\n\r\t", "\"\\u0008\\u000c\\n\\r\\t\"");
	CHECK_STR("\033[2J\033]0;x\a", "\"\\u001b[2J\\u001b]0;x\\u0007\"");
	/* UTF-8 passes; invalid bytes, overlong forms, truncated sequences
	 * become U+FFFD, one per byte. */
	CHECK_STR("caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
	CHECK_STR("a\xff" "b", "\"a\\ufffdb\"");
	CHECK_STR("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	CHECK_STR("end\xe2\x82", "\"end\\ufffd\\ufffd\"");
	CHECK_STR("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* A NUL and a lone surrogate as py_str_read carries them. */
	CHECK_STR("n\xc0\x80" "b", "\"n\\u0000b\"");
	CHECK_STR("\xed\xa0\x80", "\"\\ud800\"");
	CHECK_STR("", "\"\"");
}
END_TEST

START_TEST(test_json_numbers)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_array(&j);
	json_double(&j, 0.02, 9);
	json_double(&j, 1.0 / 3, 9);
	json_double(&j, 3e-7, 9);
	json_double(&j, -0.0, 9);
	json_double(&j, 1e300, 17);
	json_fixed(&j, 3581.9445601, 6);
	json_fixed(&j, -0.25, 6);
	json_fixed(&j, 2.5, 0);
	/* JSON has no NaN or infinity */
	json_double(&j, NAN, 9);
	json_double(&j, INFINITY, 9);
	json_fixed(&j, -INFINITY, 6);
	json_end_array(&j);
	json_finish(&j);
	ck_assert_str_eq(sb.buf, "[0.02,0.333333333,3e-07,-0,1.0000000000000001e+300,"
			 "3581.944560,-0.250000,2,null,null,null]");
	strbuf_release(&sb);
}
END_TEST

/* A locale whose decimal point is ',': still '.' in JSON.  Only checks
 * something where such a locale is installed (`locale -a`). */
START_TEST(test_json_locale)
{
	static const char *const names[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
		"ru_RU.UTF-8", "nl_NL.UTF-8",
	};
	struct strbuf sb;
	struct json j;
	bool found = false;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !found; i++)
		found = setlocale(LC_NUMERIC, names[i]) != NULL;
	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_array(&j);
	json_fixed(&j, 1.5, 1);
	json_double(&j, 0.25, 9);
	json_end_array(&j);
	json_finish(&j);
	ck_assert_str_eq(sb.buf, "[1.5,0.25]");
	strbuf_release(&sb);
	setlocale(LC_NUMERIC, "C");
}
END_TEST

/* Scalars and containers alike may be the whole document. */
START_TEST(test_json_top_level)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_PRETTY);
	json_string(&j, "x\n");
	json_finish(&j);
	ck_assert_str_eq(sb.buf, "\"x\\n\"");
	strbuf_reset(&sb);
	json_init(&j, &sb, JSON_PRETTY);
	json_null(&j);
	json_finish(&j);
	ck_assert_str_eq(sb.buf, "null");
	strbuf_release(&sb);
}
END_TEST

/* JSON_MAX_DEPTH containers open at once is allowed (one more fails:
 * test_json_too_deep). */
START_TEST(test_json_depth)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_begin_array(&j);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_end_array(&j);
	json_finish(&j);
	ck_assert_uint_eq(sb.len, 2 * JSON_MAX_DEPTH);
	strbuf_release(&sb);
}
END_TEST

/* Misuse is a bug in the caller: each of these fails an assert. */
START_TEST(test_json_too_deep)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++) {
		json_begin_object(&j);
		json_key(&j, "k");
	}
}
END_TEST

START_TEST(test_json_value_without_key)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_object(&j);
	json_int(&j, 1);
}
END_TEST

START_TEST(test_json_key_in_array)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_array(&j);
	json_key(&j, "k");
}
END_TEST

START_TEST(test_json_wrong_end)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_array(&j);
	json_end_object(&j);
}
END_TEST

START_TEST(test_json_dangling_key)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key(&j, "k");
	json_end_object(&j);
}
END_TEST

START_TEST(test_json_two_documents)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_null(&j);
	json_null(&j);
}
END_TEST

START_TEST(test_json_unfinished)
{
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_array(&j);
	json_finish(&j);
}
END_TEST

static bool no_fork(void)
{
	const char *v = getenv("CK_FORK");

	return v && !strcmp(v, "no");
}

/* A parsed document's scalars, strings and lookups. */
START_TEST(test_jsonparse_values)
{
	const char *doc = "{\"a\": [1, -2, 3.5, 1e2, true, false, null],\n"
			  " \"s\": \"x\\u00e9\\ud83d\\ude00\\udcff\\n\\/\","
			  " \"big\": 18446744073709551616, \"min\": "
			  "-9223372036854775808, \"o\": {}, \"e\": [], "
			  "\"a\": 7}";
	struct jsonparse p;
	struct jv *v;
	const struct jv *a;
	struct err e;
	int64_t i;

	jsonparse_init(&p, doc, strlen(doc));
	ck_assert_int_eq(jsonparse_next(&p, &v, &e), 0);
	ck_assert(jsonparse_at_end(&p));
	a = jv_get(v, "a"); /* the first of two */
	ck_assert_int_eq(a->type, JV_ARRAY);
	ck_assert_uint_eq(a->len, 7);
	ck_assert(a->items[0].is_int && a->items[0].i == 1);
	ck_assert(a->items[1].is_int && a->items[1].i == -2);
	ck_assert(!a->items[2].is_int && a->items[2].num == 3.5);
	ck_assert(!a->items[3].is_int && a->items[3].num == 100);
	ck_assert(a->items[4].type == JV_BOOL && a->items[4].b);
	ck_assert(a->items[5].type == JV_BOOL && !a->items[5].b);
	ck_assert_int_eq(a->items[6].type, JV_NULL);
	ck_assert_str_eq(jv_get_str(v, "s"),
			 "x\xc3\xa9\xf0\x9f\x98\x80\xed\xb3\xbf\n/");
	ck_assert(!jv_get_int(v, "big", &i));
	ck_assert_int_eq(jv_get(v, "big")->type, JV_NUMBER);
	ck_assert(jv_get_int(v, "min", &i) && i == INT64_MIN);
	ck_assert_uint_eq(jv_get(v, "o")->len, 0);
	ck_assert_int_eq(jv_get(v, "e")->type, JV_ARRAY);
	ck_assert_ptr_null(jv_get(v, "nope"));
	ck_assert_ptr_null(jv_get_str(v, "o"));
	ck_assert_ptr_null(jv_get(jv_get(v, "a"), "x"));
	jv_free(v);

	/* Exponents far out of range end quickly. */
	jsonparse_init(&p, "[0e99999, 1e99999, 1e-99999]", 28);
	ck_assert_int_eq(jsonparse_next(&p, &v, &e), 0);
	ck_assert(v->items[0].num == 0 && v->items[1].num >= 1e308 &&
		  v->items[2].num == 0);
	jv_free(v);

	/* \u0000 stays inside: len counts it. */
	jsonparse_init(&p, "\"a\\u0000b\"", 10);
	ck_assert_int_eq(jsonparse_next(&p, &v, &e), 0);
	ck_assert_uint_eq(v->len, 3);
	ck_assert_int_eq(memcmp(v->s, "a\0b", 3), 0);
	jv_free(v);
}
END_TEST

/* Several documents in one buffer: lines, or concatenated; an error names
 * its line and column, and resync moves to the next document. */
START_TEST(test_jsonparse_stream)
{
	const char *buf = "{\"n\": 1}\n{\"n\": 2}{\"n\": 3}\n"
			  "{\"n\": 4,,}\n  {\"inner\": 1}\n[5]\n";
	struct jsonparse p;
	struct jv *v;
	struct err e;
	int64_t n;

	jsonparse_init(&p, buf, strlen(buf));
	for (int want = 1; want <= 3; want++) {
		ck_assert(!jsonparse_at_end(&p));
		ck_assert_int_eq(jsonparse_next(&p, &v, &e), 0);
		ck_assert(jv_get_int(v, "n", &n) && n == want);
		jv_free(v);
	}
	ck_assert(!jsonparse_at_end(&p));
	ck_assert_uint_eq(jsonparse_line(&p), 3);
	ck_assert_int_eq(jsonparse_next(&p, &v, &e), SS_EINVAL);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(e.msg, "line 3, column 9: expected an object key");
	jsonparse_resync(&p);
	/* Not the indented line: a document starts at column 1. */
	ck_assert(!jsonparse_at_end(&p));
	ck_assert_uint_eq(jsonparse_line(&p), 5);
	ck_assert_int_eq(jsonparse_next(&p, &v, &e), 0);
	ck_assert_int_eq(v->type, JV_ARRAY);
	jv_free(v);
	ck_assert(jsonparse_at_end(&p));
}
END_TEST

static int parse_one(const char *s, size_t len, struct err *e)
{
	struct jsonparse p;
	struct jv *v;
	int rc;

	jsonparse_init(&p, s, len);
	rc = jsonparse_next(&p, &v, e);
	jv_free(v);
	return rc;
}

/* The strict grammar: everything RFC 8259 refuses is refused, and the
 * bounds hold. */
START_TEST(test_jsonparse_bad)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01",
		"1.", ".5", "-", "1e", "+1", "tru", "nul", "NaN", "'x'",
		"\"a", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\tb\"",
		"\"\xff\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "[1 2]", "1x",
		"// c\n1", "{\"a\":1}]",
	};
	struct err e;
	struct strbuf sb;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_one(bad[i], strlen(bad[i]), &e);

		/* "{\"a\":1}]": the object is one document; what follows is
		 * the next (bad) one. */
		if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
			ck_assert_int_eq(rc, 0);
			continue;
		}
		ck_assert_msg(rc == SS_EINVAL, "accepted: %s", bad[i]);
		ck_assert(strncmp(e.msg, "line 1, column ", 15) == 0);
	}
	/* A NUL byte inside the input is not JSON. */
	ck_assert_int_eq(parse_one("\"a\0\"", 4, &e), SS_EINVAL);

	strbuf_init(&sb);
	for (int i = 0; i < JSONPARSE_MAX_DEPTH; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < JSONPARSE_MAX_DEPTH; i++)
		strbuf_addch(&sb, ']');
	ck_assert_int_eq(parse_one(sb.buf, sb.len, &e), 0);
	strbuf_reset(&sb);
	for (int i = 0; i <= JSONPARSE_MAX_DEPTH; i++)
		strbuf_addch(&sb, '[');
	ck_assert_int_eq(parse_one(sb.buf, sb.len, &e), SS_ELIMIT);
	ck_assert_ptr_nonnull(strstr(e.msg, "nested too deep"));
	strbuf_reset(&sb);
	strbuf_addch(&sb, '"');
	for (size_t i = 0; i <= JSONPARSE_MAX_STRING; i++)
		strbuf_addch(&sb, 'a');
	strbuf_addch(&sb, '"');
	ck_assert_int_eq(parse_one(sb.buf, sb.len, &e), SS_ELIMIT);
	strbuf_release(&sb);
}
END_TEST

static Suite *common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_json_compact);
	tcase_add_test(tc, test_json_pretty);
	tcase_add_test(tc, test_json_strings);
	tcase_add_test(tc, test_json_numbers);
	tcase_add_test(tc, test_json_locale);
	tcase_add_test(tc, test_json_top_level);
	tcase_add_test(tc, test_json_depth);
	tcase_add_test(tc, test_jsonparse_values);
	tcase_add_test(tc, test_jsonparse_stream);
	tcase_add_test(tc, test_jsonparse_bad);
	suite_add_tcase(s, tc);
#ifndef NDEBUG
	/* Each aborts (assert) in its own forked process; without fork
	 * (CK_FORK=no, as check-valgrind runs) they cannot run. */
	if (!no_fork()) {
		TCase *bad = tcase_create("json misuse");

		tcase_add_test_raise_signal(bad, test_json_too_deep, SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_value_without_key,
					    SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_key_in_array, SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_wrong_end, SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_dangling_key, SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_two_documents,
					    SIGABRT);
		tcase_add_test_raise_signal(bad, test_json_unfinished, SIGABRT);
		suite_add_tcase(s, bad);
	}
#endif
	return s;
}

int main(void)
{
	return check_run(common_suite());
}
