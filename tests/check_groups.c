/*
 * Unit tests for the grouping of threads with the same stack
 * (model/thread_groups.c) over hand-made snapshots: identical stacks
 * group, a stack one line apart is another group, a different lock
 * waited for or state is another group, singles stay alone, --locals
 * groups nothing; and the compression of member lists into runs of names
 * and TIDs.  Then processes (model/proc_groups.c): alike in spite of
 * their PIDs, TIDs, names and lock addresses, the odd one named by the
 * thread that differs, a process not read alone.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "common/xalloc.h"
#include "model/thread_groups.h"
#include "model/proc_groups.h"
#include "cli/out_merge.h"
#include "common/jsonparse.h"
#include "common/strbuf.h"
#include "model/merge.h"

/* A thread parked at worker.py: run:10 <- loop:20 (innermost first),
 * the first frame's line given; blocked in futex_wait. */
static struct snap_thread *parked(struct snapshot *s, uint64_t id, int line)
{
	struct snap_thread *t = snap_add_thread(s);
	struct snap_frame *f;
	char name[32];

	snprintf(name, sizeof(name), "w%llu", (unsigned long long)id);
	t->thread_id = id;
	t->native_id = (int64_t)(100 + id);
	t->ns_native_id = -1;
	t->name = xstrdup(name);
	t->gil = SNAP_GIL_NONE;
	t->os.state = 'S';
	strcpy(t->os.syscall, "futex_wait");
	f = snap_add_frame(t);
	f->function = xstrdup("run");
	f->filename = xstrdup("worker.py");
	f->line = line;
	f = snap_add_frame(t);
	f->function = xstrdup("loop");
	f->filename = xstrdup("worker.py");
	f->line = 20;
	return t;
}

START_TEST(test_identical_stacks_group)
{
	struct snapshot *s = snap_new();
	struct thread_groups g;

	for (uint64_t i = 0; i < 100; i++)
		parked(s, i, 10);
	thread_groups_build(s, false, &g);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.v[0].n, 100);
	for (size_t i = 0; i < 100; i++) {
		ck_assert_uint_eq(g.v[0].members[i], i);
		ck_assert_uint_eq(g.group_of[i], 0);
	}
	thread_groups_release(&g);
	/* --locals: locals differ between such threads, nothing groups */
	thread_groups_build(s, true, &g);
	ck_assert_uint_eq(g.n, 100);
	thread_groups_release(&g);
	snap_free(s);
}
END_TEST

START_TEST(test_one_line_apart_is_two_groups)
{
	struct snapshot *s = snap_new();
	struct thread_groups g;

	/* interleaved: 0 2 4 at line 10, 1 3 5 at line 11 */
	for (uint64_t i = 0; i < 6; i++)
		parked(s, i, 10 + (int)(i % 2));
	thread_groups_build(s, false, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.v[0].n, 3);
	ck_assert_uint_eq(g.v[1].n, 3);
	ck_assert_uint_eq(g.v[0].members[1], 2);
	ck_assert_uint_eq(g.v[1].members[0], 1);
	ck_assert_uint_eq(g.v[1].members[2], 5);
	ck_assert_uint_eq(g.group_of[5], 1);
	thread_groups_release(&g);
	snap_free(s);
}
END_TEST

START_TEST(test_singles_untouched)
{
	struct snapshot *s = snap_new();
	struct thread_groups g;
	struct snap_thread *t;

	parked(s, 0, 10);
	parked(s, 1, 10);
	t = parked(s, 2, 10);
	t->waits_for = 0x1000;          /* another lock waited for */
	t = parked(s, 3, 10);
	t->os.state = 'R';              /* running */
	t->os.syscall[0] = '\0';
	t = parked(s, 4, 10);
	t->holds_gil = true;            /* never grouped */
	t = parked(s, 5, 10);
	t->has_native = true;           /* --native: never grouped */
	t = parked(s, 6, 10);
	snap_add_frame(t)->function = xstrdup("main"); /* one frame more */
	t = parked(s, 7, 10);
	t->interp_id = 1;               /* another interpreter */
	thread_groups_build(s, false, &g);
	ck_assert_uint_eq(g.n, 7);
	ck_assert_uint_eq(g.v[0].n, 2);
	for (size_t k = 1; k < g.n; k++) {
		ck_assert_uint_eq(g.v[k].n, 1);
		ck_assert_uint_eq(g.v[k].members[0], k + 1);
	}
	thread_groups_release(&g);
	snap_free(s);

	s = snap_new();                 /* no threads at all */
	thread_groups_build(s, false, &g);
	ck_assert_uint_eq(g.n, 0);
	thread_groups_release(&g);
	snap_free(s);
}
END_TEST

START_TEST(test_many_groups)
{
	struct snapshot *s = snap_new();
	struct thread_groups g;

	/* 3,000 threads at 1,000 lines: every group of 3, in order */
	for (uint64_t i = 0; i < 3000; i++)
		parked(s, i, (int)(i % 1000));
	thread_groups_build(s, false, &g);
	ck_assert_uint_eq(g.n, 1000);
	for (size_t k = 0; k < g.n; k++) {
		ck_assert_uint_eq(g.v[k].n, 3);
		ck_assert_uint_eq(g.v[k].members[0], k);
		ck_assert_uint_eq(g.v[k].members[2], k + 2000);
	}
	thread_groups_release(&g);
	snap_free(s);
}
END_TEST

START_TEST(test_name_runs)
{
	const char *seq[100];
	char buf[100][8];
	struct thread_run r[100];
	const char *mixed[] = { "w8", "w9", "w10", "w11", "x1", "x3", NULL,
				"w012", "w013", "w14", "main", "9", "10" };
	size_t n;

	for (int i = 0; i < 100; i++) {
		snprintf(buf[i], sizeof(buf[i]), "w%d", i);
		seq[i] = buf[i];
	}
	n = thread_name_runs(seq, 100, r);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].first, 0);
	ck_assert_uint_eq(r[0].last, 99);

	n = thread_name_runs(mixed, 13, r);
	/* w8-w11, x1, x3, NULL, w012-w013, w14, main, 9-10 */
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(r[0].last, 3);
	ck_assert_uint_eq(r[1].first, 4);
	ck_assert_uint_eq(r[1].last, 4);
	ck_assert_uint_eq(r[2].first, 5);
	ck_assert_uint_eq(r[3].first, 6);
	ck_assert_uint_eq(r[3].last, 6);
	ck_assert_uint_eq(r[4].first, 7);
	ck_assert_uint_eq(r[4].last, 8);
	ck_assert_uint_eq(r[5].first, 9);
	ck_assert_uint_eq(r[5].last, 9);
	ck_assert_uint_eq(r[6].first, 10);
	ck_assert_uint_eq(r[7].first, 11);
	ck_assert_uint_eq(r[7].last, 12);
}
END_TEST

START_TEST(test_int_runs)
{
	const int64_t v[] = { 101, 102, 103, 200, 105, 106, -1, -1, 7 };
	int64_t seq[100];
	struct thread_run r[100];
	size_t n;

	for (int i = 0; i < 100; i++)
		seq[i] = 101 + i;
	n = thread_int_runs(seq, 100, r);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].last, 99);

	n = thread_int_runs(v, 9, r);
	/* 101-103, 200, 105-106, -1, -1, 7 */
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(r[0].last, 2);
	ck_assert_uint_eq(r[1].first, 3);
	ck_assert_uint_eq(r[1].last, 3);
	ck_assert_uint_eq(r[2].first, 4);
	ck_assert_uint_eq(r[2].last, 5);
	ck_assert_uint_eq(r[3].first, 6);
	ck_assert_uint_eq(r[4].first, 7);
	ck_assert_uint_eq(r[5].first, 8);
}
END_TEST

/* A pool worker process: a main thread parked at worker.py (line given
 * for run), and a helper thread; TIDs, names and the lock waited for
 * from pid, as they differ between processes of one program. */
static struct snapshot *worker_proc(int pid, int line)
{
	struct snapshot *s = snap_new();
	struct snap_thread *t;

	s->pid = pid;
	s->version = xstrdup("3.12.1");
	t = parked(s, (uint64_t)pid * 10, line);
	t->waits_for = (uint64_t)pid * 0x1000;
	t = parked(s, (uint64_t)pid * 10 + 1, 30);
	t->holds_gil = pid % 2;
	return s;
}

START_TEST(test_procs_alike_and_odd)
{
	struct snapshot *p[5];
	struct proc_groups g;
	const struct snap_thread *t;
	bool missing;

	p[0] = worker_proc(100, 10);  /* the odd one: stuck elsewhere */
	free(p[0]->threads[0].frames[0].function);
	p[0]->threads[0].frames[0].function = xstrdup("stuck_task");
	p[1] = worker_proc(101, 10);
	p[2] = NULL;                  /* not read */
	p[3] = worker_proc(103, 10);
	p[4] = worker_proc(104, 10);
	/* More threads of a story already told: still alike. */
	parked(p[4], 999, 30);
	proc_groups_build((const struct snapshot *const *)p, 5, &g);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(g.v[0].n, 1);
	ck_assert_uint_eq(g.v[0].members[0], 0);
	ck_assert_uint_eq(g.v[1].n, 3);
	ck_assert_uint_eq(g.v[1].members[0], 1);
	ck_assert_uint_eq(g.v[1].members[1], 3);
	ck_assert_uint_eq(g.v[1].members[2], 4);
	ck_assert_uint_eq(g.v[2].n, 1);
	ck_assert_uint_eq(g.v[2].members[0], 2);
	ck_assert_uint_eq(g.reference, 1);
	t = proc_differs(p[0], p[1], &missing);
	ck_assert_ptr_nonnull(t);
	ck_assert(!missing);
	ck_assert_str_eq(t->frames[0].function, "stuck_task");
	ck_assert_ptr_null(proc_differs(p[3], p[1], &missing));
	ck_assert_ptr_null(proc_differs(NULL, p[1], &missing));
	ck_assert(!proc_alike(p[2], p[2]));
	proc_groups_release(&g);
	for (size_t i = 0; i < 5; i++)
		if (p[i])
			snap_free(p[i]);
}
END_TEST

START_TEST(test_procs_missing_story)
{
	struct snapshot *a = worker_proc(100, 10);
	struct snapshot *b = worker_proc(101, 10);
	const struct snap_thread *t;
	bool missing;

	/* b has a story a lacks (a thread blocked in a read): a differs by
	 * what it lacks; another version is never alike. */
	strcpy(parked(b, 5, 40)->os.syscall, "read");
	ck_assert(!proc_alike(a, b));
	t = proc_differs(a, b, &missing);
	ck_assert_ptr_nonnull(t);
	ck_assert(missing);
	ck_assert_int_eq(t->frames[0].line, 40);
	snap_free(b);
	b = worker_proc(101, 10);
	ck_assert(proc_alike(a, b));
	free(b->version);
	b->version = xstrdup("3.11.9");
	ck_assert(!proc_alike(a, b));
	snap_free(a);
	snap_free(b);
}
END_TEST

START_TEST(test_procs_all_single)
{
	struct snapshot *p[2] = { worker_proc(1, 10), worker_proc(2, 11) };
	struct proc_groups g;

	proc_groups_build((const struct snapshot *const *)p, 2, &g);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.reference, SIZE_MAX);
	proc_groups_release(&g);
	proc_groups_build(NULL, 0, &g);
	ck_assert_uint_eq(g.n, 0);
	proc_groups_release(&g);
	snap_free(p[0]);
	snap_free(p[1]);
}
END_TEST

/* A dump --json document of one process: its threads' stacks as
 * "f:g:h" strings, innermost last (the root first), each frame at line
 * 1. */
static void add_doc(struct merge *m, const char *host, int pid,
		    const char *const *stacks, size_t n, int want_rc)
{
	struct strbuf sb;
	struct jsonparse p;
	struct jv *doc;
	struct err e;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "{\"schema_version\": 1, \"host\": ");
	if (host)
		strbuf_addf(&sb, "\"%s\"", host);
	else
		strbuf_addstr(&sb, "null");
	strbuf_addf(&sb, ", \"pid\": %d, \"threads\": [", pid);
	for (size_t i = 0; i < n; i++) {
		char *copy = xstrdup(stacks[i]), *save = NULL;
		char *names[16];
		size_t nf = 0;

		for (char *t = strtok_r(copy, ":", &save); t && nf < 16;
		     t = strtok_r(NULL, ":", &save))
			names[nf++] = t;
		strbuf_addstr(&sb, i ? ", {\"frames\": [" : "{\"frames\": [");
		/* Most recent call first, and a native frame that is no
		 * part of the tree. */
		strbuf_addstr(&sb, "{\"kind\": \"native\", \"function\": "
			      "\"futex\"}");
		while (nf-- > 0)
			strbuf_addf(&sb, ", {\"kind\": \"python\", \"function\":"
				    " \"%s\", \"filename\": \"a.py\", "
				    "\"line\": 1}", names[nf]);
		strbuf_addstr(&sb, "]}");
		free(copy);
	}
	strbuf_addstr(&sb, "]}");
	jsonparse_init(&p, sb.buf, sb.len);
	ck_assert_int_eq(jsonparse_next(&p, &doc, &e), 0);
	ck_assert_int_eq(merge_add(m, doc, "t", &e), want_rc);
	jv_free(doc);
	strbuf_release(&sb);
}

/* The child of node k named f, or MERGE_NONE. */
static size_t child_named(const struct merge *m, size_t k, const char *f)
{
	for (size_t c = m->nodes[k].first_child; c != MERGE_NONE;
	     c = m->nodes[c].next_sibling)
		if (strcmp(m->nodes[c].function, f) == 0)
			return c;
	return MERGE_NONE;
}

/* Four ranks on four hosts, one stuck elsewhere: one tree, the odd one
 * a branch of its own and a group of its own. */
START_TEST(test_merge_tree)
{
	static const char *const peer[] = { "main:step:wait", "boot:work" };
	static const char *const odd[] = { "boot:work", "main:stuck" };
	struct merge m;
	struct strbuf sb;
	size_t k, step, stuck;

	merge_init(&m);
	add_doc(&m, "node01", 100, peer, 2, 0);
	add_doc(&m, "node02", 100, peer, 2, 0);
	add_doc(&m, "node03", 100, odd, 2, 0); /* threads in another order */
	add_doc(&m, "node04", 100, peer, 2, 0);
	add_doc(&m, "node02", 100, odd, 2, 0); /* a repeat: skipped */
	add_doc(&m, NULL, 7, NULL, 0, 0);
	merge_finish(&m);

	ck_assert_uint_eq(m.nprocs, 5);
	ck_assert_uint_eq(m.repeats, 1);
	ck_assert_uint_eq(m.nhosts, 5);
	ck_assert_uint_eq(m.nthreads, 8);
	k = child_named(&m, 0, "main");
	ck_assert_uint_ne(k, MERGE_NONE);
	ck_assert_uint_eq(m.nodes[k].nprocs, 4);
	step = child_named(&m, k, "step");
	stuck = child_named(&m, k, "stuck");
	ck_assert_uint_eq(m.nodes[step].nprocs, 3);
	ck_assert_uint_eq(m.nodes[stuck].nprocs, 1);
	ck_assert_uint_eq(m.nodes[stuck].procs[0], 2);
	ck_assert_uint_eq(m.nodes[stuck].ends, 1);
	ck_assert_uint_eq(m.nodes[child_named(&m, step, "wait")].ends, 3);
	ck_assert_uint_eq(m.nodes[child_named(&m, 0, "boot")].threads, 4);
	ck_assert_uint_eq(m.nodes[0].threads, 8);

	ck_assert_uint_eq(m.ngroups, 3);
	ck_assert_uint_eq(m.groups[0].n, 3);
	ck_assert(!m.groups[0].odd);
	ck_assert(m.groups[1].odd && m.groups[2].odd);
	ck_assert_uint_eq(m.procs[2].group, 1); /* met before the coreless */
	ck_assert_uint_eq(m.procs[4].group, 2);

	strbuf_init(&sb);
	out_merge_procs(&sb, &m, m.groups[0].procs, m.groups[0].n);
	ck_assert_str_eq(sb.buf, "node[01-02]:100 node04:100");
	strbuf_reset(&sb);
	out_merge_text(&sb, &m);
	ck_assert_ptr_nonnull(strstr(sb.buf, "5 processes from 5 hosts, "
				     "8 threads\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "  1 process, odd one out: "
				     "node03:100\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "  1 process, odd one out: "
				     "?:7\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\n    stuck (a.py:1)  "
				     "1 process, 1 thread: node03:100\n"));
	/* The larger branch first. */
	ck_assert(strstr(sb.buf, "step (a.py") <
		  strstr(sb.buf, "stuck (a.py"));
	strbuf_release(&sb);
	merge_release(&m);
}
END_TEST

/* Documents refused whole, named by what is wrong; several processes in
 * one; PIDs in runs; names escaped. */
START_TEST(test_merge_bad_and_many)
{
	static const char *const docs[] = {
		"[1]", "{\"threads\": []}", "{\"pid\": 1}",
		"{\"pid\": 1, \"threads\": [{}]}",
		"{\"schema_version\": 2, \"pid\": 1, \"threads\": []}",
		"{\"pid\": 1, \"host\": 3, \"threads\": []}",
		"{\"processes\": [{\"pid\": 1, \"threads\": []}, {}]}",
	};
	const char *many = "{\"processes\": [{\"pid\": 5, \"host\": "
			   "\"b\\u001b\", \"threads\": []}, {\"pid\": 6, "
			   "\"host\": \"b\\u001b\", \"threads\": []}, "
			   "{\"pid\": 8, \"host\": \"b\\u001b\", \"threads\": "
			   "[]}]}";
	struct merge m;
	struct jsonparse p;
	struct jv *doc;
	struct err e;
	struct strbuf sb;

	merge_init(&m);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		jsonparse_init(&p, docs[i], strlen(docs[i]));
		ck_assert_int_eq(jsonparse_next(&p, &doc, &e), 0);
		ck_assert_msg(merge_add(&m, doc, "t", &e) == SS_EINVAL,
			      "accepted %s", docs[i]);
		jv_free(doc);
	}
	ck_assert_uint_eq(m.nprocs, 0);
	jsonparse_init(&p, many, strlen(many));
	ck_assert_int_eq(jsonparse_next(&p, &doc, &e), 0);
	ck_assert_int_eq(merge_add(&m, doc, "t", &e), 0);
	jv_free(doc);
	merge_finish(&m);
	ck_assert_uint_eq(m.nprocs, 3);
	ck_assert_uint_eq(m.nhosts, 1);
	ck_assert_uint_eq(m.ngroups, 1);
	strbuf_init(&sb);
	out_merge_procs(&sb, &m, m.groups[0].procs, m.groups[0].n);
	ck_assert_str_eq(sb.buf, "b\\x1b:5-6,8");
	strbuf_release(&sb);
	merge_release(&m);
}
END_TEST

static Suite *groups_suite(void)
{
	Suite *s = suite_create("groups");
	TCase *tc = tcase_create("groups");

	tcase_add_test(tc, test_identical_stacks_group);
	tcase_add_test(tc, test_one_line_apart_is_two_groups);
	tcase_add_test(tc, test_singles_untouched);
	tcase_add_test(tc, test_many_groups);
	tcase_add_test(tc, test_name_runs);
	tcase_add_test(tc, test_int_runs);
	tcase_add_test(tc, test_procs_alike_and_odd);
	tcase_add_test(tc, test_procs_missing_story);
	tcase_add_test(tc, test_procs_all_single);
	tcase_add_test(tc, test_merge_tree);
	tcase_add_test(tc, test_merge_bad_and_many);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(groups_suite());
}
