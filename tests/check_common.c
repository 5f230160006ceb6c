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
