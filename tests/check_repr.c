/*
 * check_repr.c - Python's repr() rules as snakescope reproduces them:
 * floats (shortest round trip), quoting and escaping of str and bytes,
 * big integers.  Expected strings were produced by CPython's own repr().
 */
#include <config.h>

#include <check.h>
#include <math.h>
#include <string.h>

#include "check_main.h"
#include "common/strbuf.h"
#include "pystructs/repr.h"

static const struct {
	double v;
	const char *want;
} floats[] = {
	{ 0.1, "0.1" },
	{ 1.5, "1.5" },
	{ -0.0, "-0.0" },
	{ 0.0, "0.0" },
	{ 1e+16, "1e+16" },
	{ 1000000000000000.0, "1000000000000000.0" },
	{ 1e-05, "1e-05" },
	{ 0.0001, "0.0001" },
	{ 123456789.123, "123456789.123" },
	{ 1e+300, "1e+300" },
	{ 2.5e-310, "2.5e-310" },
	{ 5e-324, "5e-324" },
	{ 1.7976931348623157e+308, "1.7976931348623157e+308" },
	{ 0.3, "0.3" },
	{ 0.6666666666666666, "0.6666666666666666" },
	{ -1234.5, "-1234.5" },
	{ 100.0, "100.0" },
	{ 1e+22, "1e+22" },
	{ 1.2345678901234568e+16, "1.2345678901234568e+16" },
	{ 0.001, "0.001" },
	{ 3.141592653589793, "3.141592653589793" },
};

START_TEST(test_float)
{
	struct strbuf sb;

	strbuf_init(&sb);
	repr_float(&sb, floats[_i].v);
	ck_assert_str_eq(sb.buf, floats[_i].want);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_float_special)
{
	struct strbuf sb;

	strbuf_init(&sb);
	repr_float(&sb, INFINITY);
	strbuf_addch(&sb, ' ');
	repr_float(&sb, -INFINITY);
	strbuf_addch(&sb, ' ');
	repr_float(&sb, NAN);
	ck_assert_str_eq(sb.buf, "inf -inf nan");
	strbuf_release(&sb);
}
END_TEST

struct quoted_case {
	uint32_t cps[24];
	size_t n;
	const char *want;
};

static const struct quoted_case strs[] = {
	{ { 0x61,0x62,0x63 }, 3, "'abc'" },
	{ { 0x69,0x74,0x27,0x73 }, 4, "\x22it's\x22" },
	{ { 0x73,0x61,0x79,0x20,0x22,0x68,0x69,0x22 }, 8, "'say \x22hi\x22'" },
	{ { 0x62,0x6f,0x74,0x68,0x20,0x27,0x20,0x61,0x6e,0x64,0x20,0x22 }, 12, "'both \x5c' and \x22'" },
	{ { 0x68,0xe9,0x6c,0x6c,0x6f,0x20,0x77,0xf6,0x72,0x6c,0x64,0x20,0x2713,0x20,0x65e5,0x672c,0x8a9e }, 17, "'h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e'" },
	{ { 0xa,0x9,0x1,0x7f,0x80,0xa0,0xad }, 7, "'\x5cn\x5ct\x5cx01\x5cx7f\x5cx80\x5cxa0\x5cxad'" },
	{ { 0 }, 0, "''" },
	{ { 0x62,0x61,0x63,0x6b,0x5c,0x73,0x6c,0x61,0x73,0x68 }, 10, "'back\x5c\x5cslash'" },
	{ { 0x200b,0x2028,0xd800,0xe000,0x1f600,0xe0001 }, 6, "'\x5cu200b\x5cu2028\x5cud800\x5cue000\xf0\x9f\x98\x80\x5cU000e0001'" },
};

static const struct quoted_case bytes[] = {
	{ { 0 }, 0, "b''" },
	{ { 0x61,0x62,0x63 }, 3, "b'abc'" },
	{ { 0x0,0xff,0x27,0x22 }, 4, "b'\x5cx00\x5cxff\x5c'\x22'" },
	{ { 0x69,0x74,0x27,0x73 }, 4, "b\x22it's\x22" },
	{ { 0x5c,0x9,0xa,0xd }, 4, "b'\x5c\x5c\x5ct\x5cn\x5cr'" },
};

START_TEST(test_str)
{
	struct strbuf sb;

	strbuf_init(&sb);
	repr_quoted(&sb, strs[_i].cps, strs[_i].n, REPR_STR);
	ck_assert_str_eq(sb.buf, strs[_i].want);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_bytes)
{
	struct strbuf sb;

	strbuf_init(&sb);
	repr_quoted(&sb, bytes[_i].cps, bytes[_i].n, REPR_BYTES);
	ck_assert_str_eq(sb.buf, bytes[_i].want);
	strbuf_release(&sb);
}
END_TEST

/* 2.7: unicode escapes every non-ASCII character, str is bytes. */
START_TEST(test_py2_styles)
{
	static const uint32_t u[] = { 0x68, 0xe9, 0x2713, 0x1f600, 0x27 };
	struct strbuf sb;

	strbuf_init(&sb);
	repr_quoted(&sb, u, 5, REPR_UNICODE27);
	ck_assert_str_eq(sb.buf, "u\"h\\xe9\\u2713\\U0001f600'\"");
	strbuf_reset(&sb);
	repr_quoted(&sb, u, 2, REPR_STR27);
	ck_assert_str_eq(sb.buf, "'h\\xe9'");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_digits)
{
	/* 10**40 and 2**64 in 30-bit digits, and 2**64 in 15-bit digits */
	static const uint32_t ten40[] = { 0, 0x27d58400, 0xa4bfabb, 0xa7c70d7,
					  0x1d63 };
	static const uint32_t two64[] = { 0, 0, 16 };
	static const uint32_t two64_15[] = { 0, 0, 0, 0, 16 };
	struct strbuf sb;

	strbuf_init(&sb);
	repr_digits(&sb, ten40, 5, 30);
	ck_assert_str_eq(sb.buf, "10000000000000000000000000000000000000000");
	strbuf_reset(&sb);
	repr_digits(&sb, two64, 3, 30);
	ck_assert_str_eq(sb.buf, "18446744073709551616");
	strbuf_reset(&sb);
	repr_digits(&sb, two64_15, 5, 15);
	ck_assert_str_eq(sb.buf, "18446744073709551616");
	strbuf_reset(&sb);
	repr_digits(&sb, two64, 0, 30);
	ck_assert_str_eq(sb.buf, "0");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_printable)
{
	ck_assert(repr_printable(0xe9));
	ck_assert(repr_printable(0x65e5));
	ck_assert(repr_printable(0x1f600));
	ck_assert(!repr_printable(0x85));
	ck_assert(!repr_printable(0xa0));
	ck_assert(!repr_printable(0x200b));
	ck_assert(!repr_printable(0xd800));
	ck_assert(!repr_printable(0xfeff));
	ck_assert(!repr_printable(0x110000));
}
END_TEST

static Suite *repr_suite(void)
{
	Suite *s = suite_create("repr");
	TCase *tc = tcase_create("repr");

	tcase_add_loop_test(tc, test_float, 0, sizeof(floats) / sizeof(floats[0]));
	tcase_add_test(tc, test_float_special);
	tcase_add_loop_test(tc, test_str, 0, sizeof(strs) / sizeof(strs[0]));
	tcase_add_loop_test(tc, test_bytes, 0, sizeof(bytes) / sizeof(bytes[0]));
	tcase_add_test(tc, test_py2_styles);
	tcase_add_test(tc, test_digits);
	tcase_add_test(tc, test_printable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(repr_suite());
}
