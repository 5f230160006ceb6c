/*
 * Unit tests for the asyncio side of pystructs/: the general container
 * decoders it rests on (over fake memory images) and the await-cycle
 * finder (over hand-made snapshots).
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "pystructs/asyncio.h"
#include "pystructs/layout.h"
#include "pystructs/object.h"
#include "pystructs/reader.h"
#include "tests/image.h"

/* ---- containers --------------------------------------------------- */

static uint64_t obj(struct image *im, uint64_t type, size_t size)
{
	uint64_t o = image_alloc(im, size);

	image_put64(im, o + (uint64_t)im->L->object.ob_type, type);
	return o;
}

static bool has(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

START_TEST(test_containers)
{
	static const unsigned minors[] = { 8, 12, 14 };
	const struct py_layout *L = layout_builtin(3, minors[_i]);
	const struct py_layout *L27 = layout_builtin(2, 7);
	struct image im;
	struct py_proc p;
	struct mem_reader *r;
	uint64_t t_set, t_list, t_tuple, t_wr, t_float, t_none;
	uint64_t set, table, list, items, tuple, wr, dead, none, fl;
	uint64_t a, b, c, *v = NULL, target;
	size_t n = 0, es;
	double d = 1.5, got;
	struct err e;

	ck_assert_ptr_nonnull(L);
	ck_assert_ptr_nonnull(L27);
	/* 2.7 keeps { hash, key } entries, 3.x { key, hash } */
	ck_assert_int_eq(L27->container.set_entry_key, 8);
	ck_assert_int_eq(L->container.set_entry_key, 0);
	image_init(&im, L);
	t_set = image_type(&im, "set");
	t_list = image_type(&im, "list");
	t_tuple = image_type(&im, "tuple");
	t_wr = image_type(&im, "weakref.ReferenceType");
	t_float = image_type(&im, "float");
	t_none = image_type(&im, "NoneType");
	a = image_str(&im, "a");
	b = image_str(&im, "b");
	c = image_str(&im, "c");

	/* a set of 8 slots: a, a deleted slot (dummy key, hash -1), c */
	es = (size_t)L->container.set_entry_size;
	set = obj(&im, t_set, 256);
	table = image_alloc(&im, 8 * es);
	image_put64(&im, set + (uint64_t)L->container.set_mask, 7);
	image_put64(&im, set + (uint64_t)L->container.set_used, 2);
	image_put64(&im, set + (uint64_t)L->container.set_table, table);
	image_put64(&im, table + 1 * es, a);
	image_put64(&im, table + 1 * es + 8, 12345);
	image_put64(&im, table + 3 * es, b);
	image_put64(&im, table + 3 * es + 8, (uint64_t)-1);
	image_put64(&im, table + 6 * es, c);
	image_put64(&im, table + 6 * es + 8, 777);

	list = obj(&im, t_list, 64);
	items = image_alloc(&im, 3 * 8);
	image_put64(&im, list + (uint64_t)L->object.ob_size, 3);
	image_put64(&im, list + (uint64_t)L->container.list_items, items);
	image_put64(&im, items, a);
	image_put64(&im, items + 8, b);
	image_put64(&im, items + 16, c);

	tuple = obj(&im, t_tuple, 64);
	image_put64(&im, tuple + (uint64_t)L->object.ob_size, 2);
	image_put64(&im, tuple + (uint64_t)L->container.tuple_items, b);
	image_put64(&im, tuple + (uint64_t)L->container.tuple_items + 8, a);

	none = obj(&im, t_none, 16);
	wr = obj(&im, t_wr, 64);
	image_put64(&im, wr + (uint64_t)L->container.weakref_object, c);
	dead = obj(&im, t_wr, 64);
	image_put64(&im, dead + (uint64_t)L->container.weakref_object, none);
	fl = obj(&im, t_float, 32);
	image_putbytes(&im, fl + (uint64_t)L->container.float_value, &d,
		       sizeof(d));

	r = image_reader(&im);
	memset(&p, 0, sizeof(p));
	p.mem = r;
	p.L = *L;
	p.pthread_tid_offset = -1;

	ck_assert_int_eq(py_set_items(&p, set, 100, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(has(v, n, a) && has(v, n, c) && !has(v, n, b));
	free(v);
	ck_assert_int_eq(py_set_items(&p, set, 1, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1); /* limit */
	free(v);
	ck_assert_int_eq(py_list_items(&p, list, 100, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(v[0] == a && v[1] == b && v[2] == c);
	free(v);
	ck_assert_int_eq(py_tuple_items(&p, tuple, 100, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(v[0] == b && v[1] == a);
	free(v);
	ck_assert_int_eq(py_weakref_target(&p, wr, &target, &e), 0);
	ck_assert_uint_eq(target, c);
	ck_assert_int_eq(py_weakref_target(&p, dead, &target, &e), 0);
	ck_assert_uint_eq(target, 0);
	ck_assert_int_eq(py_float_read(&p, fl, &got, &e), 0);
	ck_assert(got == 1.5);
	ck_assert_int_eq(py_float_read(&p, a, &got, &e), SS_ECORRUPT);

	/* Hostile sizes: a list claiming 2^62 items, a set with a bad mask. */
	image_put64(&im, list + (uint64_t)L->object.ob_size, 1ULL << 62);
	image_put64(&im, set + (uint64_t)L->container.set_mask, 6);
	mem_reader_free(r);
	r = image_reader(&im);
	p.mem = r;
	ck_assert_int_eq(py_list_items(&p, list, 100, &v, &n, &e), SS_ECORRUPT);
	ck_assert_int_eq(py_set_items(&p, set, 100, &v, &n, &e), SS_ECORRUPT);
	py_proc_release(&p);
	mem_reader_free(r);
	image_release(&im);
}
END_TEST

/* ---- await cycles ------------------------------------------------- */

/* A snapshot of n tasks with ids 1..n; edges "a awaits b" as pairs. */
static struct snapshot *graph(size_t n, const int (*edges)[2], size_t ne)
{
	struct snapshot *s = snap_new();

	for (size_t i = 0; i < n; i++) {
		struct snap_task *t = snap_add_task(s);

		t->id = i + 1;
		t->name = strdup("t");
	}
	for (size_t k = 0; k < ne; k++) {
		struct snap_task *t = &s->tasks[edges[k][1] - 1];

		t->awaited_by = realloc(t->awaited_by, (t->nawaited_by + 1) *
					sizeof(uint64_t));
		t->awaited_by[t->nawaited_by++] = (uint64_t)edges[k][0];
	}
	return s;
}

/* Is c the cycle want[] up to rotation? */
static bool same_cycle(const struct snap_cycle *c, const uint64_t *want,
		       size_t n)
{
	if (c->n != n)
		return false;
	for (size_t r = 0; r < n; r++) {
		size_t k = 0;

		while (k < n && c->tasks[(r + k) % n] == want[k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

START_TEST(test_cycles)
{
	/* 1 <-> 2; 3 awaits 1 (not in the cycle); 4 -> 5 -> 6 -> 4;
	 * 7 awaits itself; 8 -> 9 a plain chain */
	static const int edges[][2] = {
		{ 1, 2 }, { 2, 1 }, { 3, 1 }, { 4, 5 }, { 5, 6 }, { 6, 4 },
		{ 7, 7 }, { 8, 9 },
	};
	static const uint64_t c12[] = { 1, 2 }, c456[] = { 4, 5, 6 };
	static const uint64_t c7[] = { 7 };
	struct snapshot *s = graph(9, edges, sizeof(edges) / sizeof(edges[0]));
	bool f12 = false, f456 = false, f7 = false;

	snap_find_cycles(s);
	ck_assert_uint_eq(s->ncycles, 3);
	for (size_t i = 0; i < s->ncycles; i++) {
		f12 |= same_cycle(&s->cycles[i], c12, 2);
		f456 |= same_cycle(&s->cycles[i], c456, 3);
		f7 |= same_cycle(&s->cycles[i], c7, 1);
	}
	ck_assert(f12 && f456 && f7);
	snap_free(s);
}
END_TEST

START_TEST(test_long_chain_no_cycle)
{
	/* 100,000 tasks each awaiting the next: no recursion, no cycle;
	 * closing the chain makes one cycle of all of them. */
	size_t n = 100000;
	int (*edges)[2] = malloc(n * sizeof(*edges));
	struct snapshot *s;

	for (size_t i = 0; i + 1 < n; i++) {
		edges[i][0] = (int)i + 1;
		edges[i][1] = (int)i + 2;
	}
	s = graph(n, (const int (*)[2])edges, n - 1);
	snap_find_cycles(s);
	ck_assert_uint_eq(s->ncycles, 0);
	snap_free(s);
	edges[n - 1][0] = (int)n;
	edges[n - 1][1] = 1;
	s = graph(n, (const int (*)[2])edges, n);
	snap_find_cycles(s);
	ck_assert_uint_eq(s->ncycles, 1);
	ck_assert_uint_eq(s->cycles[0].n, n);
	snap_free(s);
	free(edges);
}
END_TEST

START_TEST(test_awaiter_outside_snapshot)
{
	/* awaited_by naming a task that is not in the snapshot (done, or
	 * unreadable) is ignored, not followed */
	static const int edges[][2] = { { 42, 1 } };
	struct snapshot *s = snap_new();
	struct snap_task *t = snap_add_task(s);

	t->id = 1;
	t->awaited_by = malloc(sizeof(uint64_t));
	t->awaited_by[0] = (uint64_t)edges[0][0];
	t->nawaited_by = 1;
	snap_find_cycles(s);
	ck_assert_uint_eq(s->ncycles, 0);
	snap_free(s);
}
END_TEST

/* ---- 3.14+ debug words ------------------------------------------- */

/* The _AsyncioDebug words come from the target: a field that does not lie
 * whole inside its struct (or a task bigger than read_future's buffer) is
 * refused, and the layout is left as it was. */
START_TEST(test_debug_words_bounds)
{
	/* task{size, name, awaited_by, is_task, awaited_by_is_set, coro,
	 * node}, interp{size, tasks_head}, thread{size, running_loop,
	 * running_task, tasks_head}: 3.14's own values */
	static const uint64_t good[ASYNCIO_DEBUG_WORDS] = {
		168, 136, 96, 108, 109, 128, 152, 12000, 10880, 1200, 864,
		872, 880 };
	/* each field moved to where its last byte is past its struct */
	static const struct {
		int word;
		uint64_t value;
	} bad[] = {
		{ 0, 513 }, { 0, 63 }, { 1, 161 }, { 2, 161 }, { 3, 168 },
		{ 4, 168 }, { 5, 161 }, { 6, 153 }, { 8, 11985 },
		{ 10, 1193 }, { 11, 1193 }, { 12, 1185 }, { 1, UINT64_MAX },
		{ 6, UINT64_MAX - 8 }, { 7, 1u << 25 }, { 9, 65537 },
	};
	const struct py_layout *L314 = layout_builtin(3, 14);
	struct py_layout L = *L314;
	uint64_t w[ASYNCIO_DEBUG_WORDS];

	ck_assert(py_asyncio_debug_apply(&L, good));
	ck_assert_int_eq(L.asyncio.task_size, 168);
	ck_assert_int_eq(L.asyncio.task_node, 152);
	ck_assert_int_eq(L.asyncio.ts_tasks_head, 880);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(w, good, sizeof(w));
		w[bad[i].word] = bad[i].value;
		L = *L314;
		L.asyncio.task_size = 1; /* a mark: must stay */
		ck_assert_msg(!py_asyncio_debug_apply(&L, w), "case %zu", i);
		ck_assert_int_eq(L.asyncio.task_size, 1);
	}
	/* the largest task read_future() can hold, fields at its very end */
	memcpy(w, good, sizeof(w));
	w[0] = 512;
	w[1] = w[5] = 504;
	w[3] = w[4] = 511;
	w[6] = 496;
	ck_assert(py_asyncio_debug_apply(&L, w));
}
END_TEST

static Suite *asyncio_suite(void)
{
	Suite *s = suite_create("asyncio");
	TCase *tc = tcase_create("asyncio");

	tcase_add_loop_test(tc, test_containers, 0, 3);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_long_chain_no_cycle);
	tcase_add_test(tc, test_awaiter_outside_snapshot);
	tcase_add_test(tc, test_debug_words_bounds);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(asyncio_suite());
}
