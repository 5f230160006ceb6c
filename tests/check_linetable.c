/*
 * check_linetable.c - unit tests for pystructs/linetable.c.
 *
 * The fixtures in $SNAKESCOPE_TESTDATA/linetables/py3*.txt (default
 * tests/data) were written by tests/data/linetables/record.py: for every
 * code object of a sample module, the raw line table and the interpreter's
 * own answer for every instruction.  Every answer must match.
 */
#include <config.h>

#include "tests/check_main.h"
#include "pystructs/linetable.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TABLE 65536

struct fixture_file {
	const char *name;
	const char *kind;
};

static const struct fixture_file fixtures[] = {
	{ "py38.txt", "lnotab" },
	{ "py39.txt", "lnotab" },
	{ "py310.txt", "310" },
	{ "py311.txt", "loc" },
	{ "py312.txt", "loc" },
	{ "py313.txt", "loc" },
};

#define N_FIXTURES ((int)(sizeof(fixtures) / sizeof(fixtures[0])))

static const char *testdata_dir(void)
{
	const char *dir = getenv("SNAKESCOPE_TESTDATA");

	return dir && *dir ? dir : "tests/data";
}

static int hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse "<hex>" into tab; returns the byte count or -1. */
static long parse_hex(const char *s, uint8_t *tab, size_t cap)
{
	size_t n = 0;

	while (s[0] && s[0] != '\n') {
		int hi = hex_nibble((unsigned char)s[0]);
		int lo = s[1] ? hex_nibble((unsigned char)s[1]) : -1;

		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		tab[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (long)n;
}

struct code_block {
	char name[128];
	int first;
	char kind[16];
	uint8_t tab[MAX_TABLE];
	size_t len;
};

struct fixture_stats {
	int codes;
	int offsets;
	int mismatches;
};

static void check_row(const struct code_block *cb, const char *line,
		      struct fixture_stats *st)
{
	int at, want[4], n;
	struct py_location loc;

	n = sscanf(line, "at %d %d %d %d %d", &at, &want[0], &want[1],
		   &want[2], &want[3]);
	st->offsets++;
	if (!strcmp(cb->kind, "loc")) {
		int rc;

		ck_assert_msg(n == 5, "bad loc row: %s", line);
		rc = linetable_locations(cb->tab, cb->len, cb->first, at, &loc);
		if (rc != (want[0] == -1 ? -1 : 0) || loc.line != want[0] ||
		    (want[0] != -1 && (loc.end_line != want[1] ||
				       loc.col != want[2] ||
				       loc.end_col != want[3]))) {
			if (st->mismatches++ < 10)
				fprintf(stderr,
					"%s unit %d: got rc %d (%d %d %d %d), want (%d %d %d %d)\n",
					cb->name, at, rc, loc.line,
					loc.end_line, loc.col, loc.end_col,
					want[0], want[1], want[2], want[3]);
		}
	} else {
		int got;

		ck_assert_msg(n == 2, "bad row: %s", line);
		if (!strcmp(cb->kind, "lnotab"))
			got = linetable_lnotab_line(cb->tab, cb->len, cb->first,
						    at);
		else
			got = linetable_310_line(cb->tab, cb->len, cb->first,
						 at);
		if (got != want[0] && st->mismatches++ < 10)
			fprintf(stderr, "%s offset %d: got %d, want %d\n",
				cb->name, at, got, want[0]);
	}
}

START_TEST(test_fixture)
{
	const struct fixture_file *fx = &fixtures[_i];
	static struct code_block cb;
	struct fixture_stats st = { 0, 0, 0 };
	char path[4096], line[1 << 18];
	int in_code = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/linetables/%s", testdata_dir(),
		 fx->name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open fixture %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "code ", 5)) {
			ck_assert_msg(!in_code, "%s: nested code block", path);
			ck_assert_msg(sscanf(line, "code %127s first %d kind %15s",
					     cb.name, &cb.first, cb.kind) == 3,
				      "%s: bad line %s", path, line);
			ck_assert_str_eq(cb.kind, fx->kind);
			cb.len = 0;
			in_code = 1;
			st.codes++;
		} else if (!strncmp(line, "table ", 6)) {
			long n = parse_hex(line + 6, cb.tab, sizeof(cb.tab));

			ck_assert_msg(in_code && n >= 0, "%s: bad table", path);
			cb.len = (size_t)n;
		} else if (!strncmp(line, "at ", 3)) {
			ck_assert_msg(in_code, "%s: row outside code", path);
			check_row(&cb, line, &st);
		} else if (!strncmp(line, "end", 3)) {
			in_code = 0;
		} else {
			ck_abort_msg("%s: unexpected line %s", path, line);
		}
	}
	fclose(f);
	printf("%s: %d code objects, %d offsets, %d mismatches\n", fx->name,
	       st.codes, st.offsets, st.mismatches);
	fflush(stdout);
	ck_assert_int_gt(st.codes, 0);
	ck_assert_int_eq(st.mismatches, 0);
}
END_TEST

START_TEST(test_empty)
{
	static const uint8_t none[1] = { 0 };
	struct py_location loc;

	ck_assert_int_eq(linetable_lnotab_line(NULL, 0, 7, 0), 7);
	ck_assert_int_eq(linetable_lnotab_line(none, 0, 7, 100), 7);
	ck_assert_int_eq(linetable_310_line(NULL, 0, 7, 0), -1);
	ck_assert_int_eq(linetable_310_line(none, 0, 7, 0), -1);
	ck_assert_int_eq(linetable_locations(NULL, 0, 7, 0, &loc), -1);
	ck_assert_int_eq(loc.line, -1);
	ck_assert_int_eq(linetable_locations(none, 0, 7, 0, &loc), -1);
	ck_assert_int_eq(loc.line, -1);
}
END_TEST

START_TEST(test_known_values)
{
	/* lnotab: +2 lines at 4, -1 at 10, odd trailing byte ignored. */
	static const uint8_t lnotab[] = { 4, 2, 6, 0xff, 8 };
	/* 3.10: [0,4) +1, [4,6) no line, [6,6) +127, [6,10) +1. */
	static const uint8_t t310[] = { 4, 1, 2, 0x80, 0, 127, 4, 1 };
	/*
	 * 3.11+: short form code 1, b=0x23 (col 10, end 13), 2 units;
	 * one-line +2 col 5..9, 1 unit; none, 3 units; line-only -3, 1 unit;
	 * long: dline +300 (zigzag 600 = 0x58 | 0x40, 9), dend 2, col+1 0,
	 * endcol+1 200 (8 | 0x40, 3), 1 unit.
	 */
	static const uint8_t loc311[] = {
		0x80 | 1 << 3 | 1, 0x23,
		0x80 | 12 << 3 | 0, 5, 9,
		0x80 | 15 << 3 | 2,
		0x80 | 13 << 3 | 0, 7,
		0x80 | 14 << 3 | 0, 0x58, 9, 2, 0, 0x48, 3,
	};
	struct py_location loc;

	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, 0), 10);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, 3), 10);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, 4), 12);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, 10), 11);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, 1000), 11);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, sizeof(lnotab), 10, -2), 10);
	/* 2.7: the same pairs, but 0xff is +255 lines. */
	ck_assert_int_eq(linetable_lnotab27_line(lnotab, sizeof(lnotab), 10, 4), 12);
	ck_assert_int_eq(linetable_lnotab27_line(lnotab, sizeof(lnotab), 10, 10),
			 267);

	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 0), 11);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 2), 11);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 4), -1);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 6), 139);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 9), 139);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, 10), -1);
	ck_assert_int_eq(linetable_310_line(t310, sizeof(t310), 10, -2), 10);

	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 1, &loc), 0);
	ck_assert_int_eq(loc.line, 50);
	ck_assert_int_eq(loc.end_line, 50);
	ck_assert_int_eq(loc.col, 10);
	ck_assert_int_eq(loc.end_col, 13);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 2, &loc), 0);
	ck_assert_int_eq(loc.line, 52);
	ck_assert_int_eq(loc.end_line, 52);
	ck_assert_int_eq(loc.col, 5);
	ck_assert_int_eq(loc.end_col, 9);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 5, &loc), -1);
	ck_assert_int_eq(loc.line, -1);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 6, &loc), 0);
	ck_assert_int_eq(loc.line, 49);
	ck_assert_int_eq(loc.end_line, 49);
	ck_assert_int_eq(loc.col, -1);
	ck_assert_int_eq(loc.end_col, -1);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 7, &loc), 0);
	ck_assert_int_eq(loc.line, 349);
	ck_assert_int_eq(loc.end_line, 351);
	ck_assert_int_eq(loc.col, -1);
	ck_assert_int_eq(loc.end_col, 199);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, 8, &loc), -1);
	ck_assert_int_eq(loc.line, -1);
	ck_assert_int_eq(linetable_locations(loc311, sizeof(loc311), 50, -1, &loc), -1);
}
END_TEST

START_TEST(test_truncated)
{
	/* Long form cut inside its varints; one-line form missing endcol. */
	static const uint8_t longcut[] = { 0x80 | 14 << 3 | 1, 0x42 };
	static const uint8_t onecut[] = { 0x80 | 0 << 3, 0x01, 0x80 | 11 << 3, 3 };
	static const uint8_t lnotab[] = { 2 };
	struct py_location loc;
	size_t n;

	for (n = 0; n <= sizeof(longcut); n++) {
		ck_assert_int_eq(linetable_locations(longcut, n, 1, 0, &loc), -1);
		ck_assert_int_eq(loc.line, -1);
	}
	ck_assert_int_eq(linetable_locations(onecut, sizeof(onecut), 1, 0, &loc), 0);
	ck_assert_int_eq(loc.line, 1);
	ck_assert_int_eq(linetable_locations(onecut, sizeof(onecut), 1, 1, &loc), -1);
	ck_assert_int_eq(linetable_lnotab_line(lnotab, 1, 3, 4), 3);
	ck_assert_int_eq(linetable_310_line(lnotab, 1, 3, 0), -1);
}
END_TEST

START_TEST(test_all_ff)
{
	uint8_t tab[64];
	struct py_location loc;
	int i;

	memset(tab, 0xff, sizeof(tab));
	/* 32 pairs of (+255 bytes, -1 line). */
	ck_assert_int_eq(linetable_lnotab_line(tab, sizeof(tab), 100, 0), 100);
	ck_assert_int_eq(linetable_lnotab_line(tab, sizeof(tab), 100, 255), 99);
	ck_assert_int_eq(linetable_lnotab_line(tab, sizeof(tab), 100, 1 << 20), 68);
	ck_assert_int_eq(linetable_310_line(tab, sizeof(tab), 100, 0), 99);
	ck_assert_int_eq(linetable_310_line(tab, sizeof(tab), 100, 255), 98);
	ck_assert_int_eq(linetable_310_line(tab, sizeof(tab), 100, 32 * 255), -1);
	/* 64 "no location" entries of 8 units each. */
	for (i = 0; i < 64 * 8 + 4; i++) {
		ck_assert_int_eq(linetable_locations(tab, sizeof(tab), 100, i, &loc), -1);
		ck_assert_int_eq(loc.line, -1);
	}
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 32);
}

START_TEST(test_fuzz)
{
	int iter;

	for (iter = 0; iter < 10000; iter++) {
		size_t len = rng_next() % 96, k;
		uint8_t *tab = malloc(len ? len : 1);
		int mode = (int)(rng_next() % 4);
		int first = (int)rng_next();
		struct py_location loc;
		int probe;

		ck_assert_ptr_nonnull(tab);
		for (k = 0; k < len; k++) {
			uint8_t b = (uint8_t)rng_next();

			if (mode == 1)	/* long-form headers, runaway varints */
				b = (k % 7 == 0) ? (uint8_t)(0xf0 | (b & 7)) :
						   (uint8_t)(0x40 | (b & 0x3f));
			else if (mode == 2)	/* mostly headers */
				b |= 0x80;
			tab[k] = b;
		}
		for (probe = 0; probe < 8; probe++) {
			int off;

			switch (probe) {
			case 0:
				off = 0;
				break;
			case 1:
				off = -1;
				break;
			case 2:
				off = 0x7fffffff;
				break;
			case 3:
				off = (int)-0x7fffffff - 1;
				break;
			default:
				off = (int)(rng_next() % 2048);
				break;
			}
			(void)linetable_lnotab_line(tab, len, first, off);
			(void)linetable_310_line(tab, len, first, off);
			if (linetable_locations(tab, len, first, off, &loc) < 0)
				ck_assert_int_eq(loc.line, -1);
		}
		free(tab);
	}
}
END_TEST

static Suite *linetable_suite(void)
{
	Suite *s = suite_create("linetable");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_fixture, 0, N_FIXTURES);
	suite_add_tcase(s, tc);

	tc = tcase_create("handwritten");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_known_values);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_all_ff);
	tcase_add_test(tc, test_fuzz);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(linetable_suite());
}
