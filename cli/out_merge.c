#include <config.h>

#include "cli/out_merge.h"

#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "model/thread_groups.h"

/* Deeper frames print at this indentation (a stack of thousands of
 * frames stays readable; the depth is given). */
#define MERGE_MAX_INDENT 40

static int cmp_proc(const void *a, const void *b, void *arg)
{
	return merge_proc_cmp(arg, *(const size_t *)a, *(const size_t *)b);
}

static void add_host(struct strbuf *sb, const char *host)
{
	if (host)
		escape_text(sb, host);
	else
		strbuf_addch(sb, '?');
}

/* One host's PIDs, ascending, in runs: "101,103-105". */
static char *pid_list(const struct merge *m, const size_t *idx, size_t n)
{
	int64_t *pids = xmalloc(n * sizeof(*pids));
	struct thread_run *runs = xmalloc(n * sizeof(*runs));
	struct strbuf sb;
	size_t nr;

	for (size_t i = 0; i < n; i++)
		pids[i] = m->procs[idx[i]].pid;
	nr = thread_int_runs(pids, n, runs);
	strbuf_init(&sb);
	for (size_t r = 0; r < nr; r++) {
		if (r)
			strbuf_addch(&sb, ',');
		strbuf_addf(&sb, "%lld", (long long)pids[runs[r].first]);
		if (runs[r].last != runs[r].first)
			strbuf_addf(&sb, "-%lld",
				    (long long)pids[runs[r].last]);
	}
	free(pids);
	free(runs);
	return strbuf_detach(&sb);
}

/* Where a name's decimal suffix starts (thread_name_runs' runs differ
 * there only). */
static size_t digits_at(const char *s)
{
	size_t k = strlen(s);

	while (k > 0 && s[k - 1] >= '0' && s[k - 1] <= '9')
		k--;
	return k;
}

void out_merge_procs(struct strbuf *sb, const struct merge *m,
		     const size_t *idx, size_t n)
{
	size_t *v = xmalloc((n ? n : 1) * sizeof(*v));
	const char **hosts = xmalloc((n ? n : 1) * sizeof(*hosts));
	char **pids = xmalloc((n ? n : 1) * sizeof(*pids));
	struct thread_run *runs = xmalloc((n ? n : 1) * sizeof(*runs));
	size_t nh = 0;
	bool first = true;

	memcpy(v, idx, n * sizeof(*v));
	qsort_r(v, n, sizeof(*v), cmp_proc, (void *)m);
	/* Per host, its PIDs. */
	for (size_t i = 0, j; i < n; i = j) {
		const char *h = m->procs[v[i]].host;

		for (j = i + 1; j < n; j++) {
			const char *o = m->procs[v[j]].host;

			if (!(h == o || (h && o && strcmp(h, o) == 0)))
				break;
		}
		hosts[nh] = h;
		pids[nh] = pid_list(m, v + i, j - i);
		nh++;
	}
	/* Hosts in sequence with the same PIDs: one item. */
	for (size_t i = 0, j; i < nh; i = j) {
		size_t nr;

		for (j = i + 1; j < nh && hosts[i] && hosts[j] &&
		     strcmp(pids[i], pids[j]) == 0; j++)
			;
		nr = thread_name_runs(hosts + i, j - i, runs);
		for (size_t r = 0; r < nr; r++) {
			const char *a = hosts[i + runs[r].first];
			const char *b = hosts[i + runs[r].last];

			if (!first)
				strbuf_addch(sb, ' ');
			first = false;
			if (runs[r].first == runs[r].last) {
				add_host(sb, a);
			} else {
				size_t k = digits_at(a);
				char *prefix = xstrndup(a, k);

				escape_text(sb, prefix);
				free(prefix);
				strbuf_addch(sb, '[');
				escape_text(sb, a + k);
				strbuf_addch(sb, '-');
				escape_text(sb, b + digits_at(b));
				strbuf_addch(sb, ']');
			}
			strbuf_addch(sb, ':');
			strbuf_addstr(sb, pids[i + runs[r].first]);
		}
	}
	for (size_t i = 0; i < nh; i++)
		free(pids[i]);
	free(pids);
	free(hosts);
	free(runs);
	free(v);
}

static bool same_procs(const struct merge_node *a, const struct merge_node *b)
{
	return a->nprocs == b->nprocs &&
	       memcmp(a->procs, b->procs, a->nprocs * sizeof(size_t)) == 0;
}

static int cmp_child(const void *a, const void *b, void *arg)
{
	const struct merge *m = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	/* Most processes first: the odd branch comes after its peers'. */
	if (m->nodes[x].nprocs != m->nodes[y].nprocs)
		return m->nodes[x].nprocs > m->nodes[y].nprocs ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void plural(struct strbuf *sb, size_t n, const char *one,
		   const char *many)
{
	strbuf_addf(sb, "%zu %s", n, n == 1 ? one : many);
}

static void text_node(struct strbuf *sb, const struct merge *m, size_t k)
{
	const struct merge_node *n = &m->nodes[k];
	size_t *kids = NULL, nk = 0, cap = 0;

	if (k != 0) {
		const struct merge_node *up = &m->nodes[n->parent];
		size_t indent = n->depth - 1;

		if (indent > MERGE_MAX_INDENT)
			indent = MERGE_MAX_INDENT;
		strbuf_addf(sb, "%*s", (int)(2 + 2 * indent), "");
		if (n->depth - 1 > MERGE_MAX_INDENT)
			strbuf_addf(sb, "[%zu] ", n->depth);
		escape_text(sb, n->function);
		strbuf_addstr(sb, " (");
		escape_text(sb, n->filename);
		if (n->line >= 0)
			strbuf_addf(sb, ":%lld", (long long)n->line);
		strbuf_addstr(sb, ")  ");
		plural(sb, n->nprocs, "process", "processes");
		strbuf_addstr(sb, ", ");
		plural(sb, n->threads, "thread", "threads");
		if (n->ends && n->ends != n->threads)
			strbuf_addf(sb, " (%zu here)", n->ends);
		if (n->parent == 0 || !same_procs(n, up)) {
			strbuf_addstr(sb, ": ");
			out_merge_procs(sb, m, n->procs, n->nprocs);
		}
		strbuf_addch(sb, '\n');
	}
	for (size_t c = n->first_child; c != MERGE_NONE;
	     c = m->nodes[c].next_sibling) {
		kids = xgrow(kids, &cap, nk + 1, sizeof(*kids));
		kids[nk++] = c;
	}
	if (nk > 1) /* kids is NULL when there are none */
		qsort_r(kids, nk, sizeof(*kids), cmp_child, (void *)m);
	for (size_t i = 0; i < nk; i++)
		text_node(sb, m, kids[i]);
	free(kids);
}

void out_merge_text(struct strbuf *sb, const struct merge *m)
{
	plural(sb, m->nprocs, "process", "processes");
	strbuf_addstr(sb, " from ");
	plural(sb, m->nhosts, "host", "hosts");
	strbuf_addstr(sb, ", ");
	plural(sb, m->nthreads, "thread", "threads");
	strbuf_addch(sb, '\n');
	if (m->repeats) {
		strbuf_addstr(sb, "(skipped ");
		plural(sb, m->repeats, "repeated document",
		       "repeated documents");
		strbuf_addstr(sb, " of a process already read)\n");
	}
	if (!m->nprocs)
		return;
	strbuf_addstr(sb, "\nProcesses alike (the same Python stacks):\n");
	for (size_t g = 0; g < m->ngroups; g++) {
		const struct merge_group *gr = &m->groups[g];

		strbuf_addstr(sb, "  ");
		plural(sb, gr->n, "process", "processes");
		if (gr->odd)
			strbuf_addstr(sb, gr->n == 1 ? ", odd one out"
						     : ", odd ones out");
		strbuf_addstr(sb, ": ");
		out_merge_procs(sb, m, gr->procs, gr->n);
		strbuf_addch(sb, '\n');
	}
	strbuf_addstr(sb, "\nStacks, from the root (per frame: processes and "
		      "threads that reach it;\nthe list where it differs from "
		      "the frame above):\n");
	if (m->nodes[0].ends)
		strbuf_addf(sb, "  (no Python frame)  %zu %s\n",
			    m->nodes[0].ends,
			    m->nodes[0].ends == 1 ? "thread" : "threads");
	text_node(sb, m, 0);
}

static void json_procs(struct json *j, const char *key, const size_t *v,
		       size_t n)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		json_uint(j, v[i]);
	json_end_array(j);
}

void out_merge_json(struct strbuf *sb, const struct merge *m,
		    const struct merge_problem *problems, size_t n)
{
	struct json j;

	json_init(&j, sb, JSON_PRETTY);
	json_begin_object(&j);
	json_key_int(&j, "schema_version", 1);
	json_key_uint(&j, "hosts", m->nhosts);
	json_key_uint(&j, "threads", m->nthreads);
	json_key_uint(&j, "repeats", m->repeats);
	json_break(&j, 1);
	json_key(&j, "processes");
	json_begin_array(&j);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct merge_proc *p = &m->procs[i];

		json_break(&j, 4);
		json_begin_object(&j);
		json_key_string(&j, "host", p->host);
		json_key_int(&j, "pid", p->pid);
		json_key_string(&j, "source", p->source);
		json_key_uint(&j, "threads", p->nthreads);
		json_key_uint(&j, "group", p->group);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_break(&j, 1);
	json_key(&j, "groups");
	json_begin_array(&j);
	for (size_t g = 0; g < m->ngroups; g++) {
		json_break(&j, 4);
		json_begin_object(&j);
		json_procs(&j, "processes", m->groups[g].procs,
			   m->groups[g].n);
		json_key_bool(&j, "odd", m->groups[g].odd);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_break(&j, 1);
	/* A flat list (parents before children), not nested objects: a
	 * stack may be deeper than a JSON writer's nesting. */
	json_key(&j, "nodes");
	json_begin_array(&j);
	for (size_t k = 0; k < m->nnodes; k++) {
		const struct merge_node *nd = &m->nodes[k];

		json_break(&j, 4);
		json_begin_object(&j);
		json_key(&j, "parent");
		if (nd->parent == MERGE_NONE)
			json_null(&j);
		else
			json_uint(&j, nd->parent);
		json_key_string(&j, "function", nd->function);
		json_key_string(&j, "filename", nd->filename);
		json_key(&j, "line");
		if (nd->line >= 0)
			json_int(&j, nd->line);
		else
			json_null(&j);
		json_procs(&j, "processes", nd->procs, nd->nprocs);
		json_key_uint(&j, "threads", nd->threads);
		json_key_uint(&j, "ends", nd->ends);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_break(&j, 1);
	json_key(&j, "errors");
	json_begin_array(&j);
	for (size_t i = 0; i < n; i++) {
		json_break(&j, 4);
		json_begin_object(&j);
		json_key_string(&j, "source", problems[i].source);
		json_key_string(&j, "message", problems[i].msg);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(sb, '\n');
}
