#include <config.h>

#include "model/merge.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* The newest dump --json schema this reads (cli/out.h's
 * OUT_JSON_SCHEMA_VERSION; cmd_merge.c checks they agree).  A document
 * without "schema_version" comes from a snakescope before it: the same
 * members, without "host". */
#define MERGE_SCHEMA_VERSION 1

void merge_init(struct merge *m)
{
	memset(m, 0, sizeof(*m));
	m->nodes = xcalloc(1, sizeof(*m->nodes));
	m->nodes_cap = 1;
	m->nnodes = 1;
	m->nodes[0].line = -1;
	m->nodes[0].parent = MERGE_NONE;
	m->nodes[0].first_child = MERGE_NONE;
	m->nodes[0].next_sibling = MERGE_NONE;
}

void merge_release(struct merge *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		free(m->procs[i].host);
		free(m->procs[i].source);
		free(m->procs[i].ends);
	}
	free(m->procs);
	for (size_t i = 0; i < m->nnodes; i++) {
		free(m->nodes[i].function);
		free(m->nodes[i].filename);
		free(m->nodes[i].procs);
	}
	free(m->nodes);
	for (size_t i = 0; i < m->ngroups; i++)
		free(m->groups[i].procs);
	free(m->groups);
	free(m->seen);
	memset(m, 0, sizeof(*m));
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	/* FNV-1a */
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static uint64_t proc_hash(const char *host, int64_t pid)
{
	uint64_t h = hash_str(14695981039346656037u, host);

	return (h ^ (uint64_t)pid) * 1099511628211u;
}

static bool same_host(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The process (host, pid) already added, or MERGE_NONE. */
static size_t seen_find(const struct merge *m, const char *host, int64_t pid)
{
	if (!m->seen_cap)
		return MERGE_NONE;
	for (size_t i = proc_hash(host, pid) & (m->seen_cap - 1);;
	     i = (i + 1) & (m->seen_cap - 1)) {
		size_t k = m->seen[i];

		if (k == MERGE_NONE)
			return MERGE_NONE;
		if (m->procs[k].pid == pid && same_host(m->procs[k].host, host))
			return k;
	}
}

static void seen_insert(struct merge *m, size_t k)
{
	if ((m->nprocs + 1) * 2 > m->seen_cap) {
		size_t cap = m->seen_cap ? m->seen_cap * 2 : 64;

		free(m->seen);
		m->seen = xmalloc(cap * sizeof(*m->seen));
		for (size_t i = 0; i < cap; i++)
			m->seen[i] = MERGE_NONE;
		m->seen_cap = cap;
		for (size_t j = 0; j < m->nprocs; j++)
			if (j != k)
				seen_insert(m, j);
	}
	for (size_t i = proc_hash(m->procs[k].host, m->procs[k].pid) &
			(m->seen_cap - 1);;
	     i = (i + 1) & (m->seen_cap - 1)) {
		if (m->seen[i] == MERGE_NONE) {
			m->seen[i] = k;
			return;
		}
	}
}

static bool is_python_frame(const struct jv *f)
{
	const struct jv *kind = jv_get(f, "kind");

	/* Before "kind" every frame was a Python one. */
	return f->type == JV_OBJECT &&
	       (!kind || (kind->type == JV_STRING &&
			  strcmp(kind->s, "python") == 0));
}

/* Does doc look like one process's dump?  Checked in full before any of
 * it is added. */
static int check_process(const struct jv *doc, struct err *e)
{
	const struct jv *threads = jv_get(doc, "threads");
	const struct jv *host = jv_get(doc, "host");
	int64_t v;

	if (!doc || doc->type != JV_OBJECT)
		return err_set(e, SS_EINVAL, "not a JSON object");
	if (jv_get(doc, "schema_version")) {
		if (!jv_get_int(doc, "schema_version", &v))
			return err_set(e, SS_EINVAL,
				       "\"schema_version\" is not an integer");
		if (v > MERGE_SCHEMA_VERSION || v < 1)
			return err_set(e, SS_EINVAL,
				       "schema_version %lld: this snakescope "
				       "reads 1 to %d", (long long)v,
				       MERGE_SCHEMA_VERSION);
	}
	if (!jv_get_int(doc, "pid", &v))
		return err_set(e, SS_EINVAL,
			       "not a dump --json document (no \"pid\")");
	if (host && host->type != JV_STRING && host->type != JV_NULL)
		return err_set(e, SS_EINVAL, "\"host\" is not a string");
	if (!threads || threads->type != JV_ARRAY)
		return err_set(e, SS_EINVAL,
			       "not a dump --json document (no \"threads\")");
	for (size_t i = 0; i < threads->len; i++) {
		const struct jv *t = &threads->items[i];
		const struct jv *frames = jv_get(t, "frames");

		if (t->type != JV_OBJECT || !frames ||
		    frames->type != JV_ARRAY)
			return err_set(e, SS_EINVAL,
				       "thread %zu has no \"frames\" list", i);
	}
	return 0;
}

static bool same_frame(const struct merge_node *n, const char *function,
		       const char *filename, int64_t line)
{
	return n->line == line && strcmp(n->function, function) == 0 &&
	       strcmp(n->filename, filename) == 0;
}

/* The child of 'parent' for this frame, made if new; MERGE_NONE past
 * MERGE_MAX_NODES. */
static size_t child(struct merge *m, size_t parent, const struct jv *f)
{
	const char *function = jv_get_str(f, "function");
	const char *filename = jv_get_str(f, "filename");
	int64_t line;
	size_t k, *link;
	struct merge_node *n;

	if (!function)
		function = "?";
	if (!filename)
		filename = "?";
	if (!jv_get_int(f, "line", &line) || line < 0)
		line = -1;
	link = &m->nodes[parent].first_child;
	for (k = *link; k != MERGE_NONE; k = m->nodes[k].next_sibling) {
		if (same_frame(&m->nodes[k], function, filename, line))
			return k;
		link = &m->nodes[k].next_sibling;
	}
	if (m->nnodes >= MERGE_MAX_NODES)
		return MERGE_NONE;
	/* link points into nodes[]: find it again after growing. */
	m->nodes = xgrow(m->nodes, &m->nodes_cap, m->nnodes + 1,
			 sizeof(*m->nodes));
	k = m->nnodes++;
	n = &m->nodes[k];
	memset(n, 0, sizeof(*n));
	n->function = xstrdup(function);
	n->filename = xstrdup(filename);
	n->line = line;
	n->parent = parent;
	n->depth = m->nodes[parent].depth + 1;
	n->first_child = MERGE_NONE;
	n->next_sibling = MERGE_NONE;
	link = &m->nodes[parent].first_child;
	while (*link != MERGE_NONE)
		link = &m->nodes[*link].next_sibling;
	*link = k;
	return k;
}

static void node_add_proc(struct merge_node *n, size_t p)
{
	/* Processes are added in order, one at a time: a process already
	 * here is the last one. */
	if (n->nprocs && n->procs[n->nprocs - 1] == p)
		return;
	n->procs = xgrow(n->procs, &n->procs_cap, n->nprocs + 1,
			 sizeof(*n->procs));
	n->procs[n->nprocs++] = p;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int add_process(struct merge *m, const struct jv *doc,
		       const char *source, struct err *e)
{
	const struct jv *threads = jv_get(doc, "threads");
	const char *host = jv_get_str(doc, "host");
	struct merge_proc *p;
	int64_t pid;
	size_t k;
	int rc = check_process(doc, e);

	if (rc)
		return rc;
	jv_get_int(doc, "pid", &pid);
	if (seen_find(m, host, pid) != MERGE_NONE) {
		m->repeats++;
		return 0;
	}
	if (m->nprocs >= MERGE_MAX_PROCS)
		return err_set(e, SS_ELIMIT, "more than %d processes",
			       MERGE_MAX_PROCS);
	m->procs = xgrow(m->procs, &m->procs_cap, m->nprocs + 1,
			 sizeof(*m->procs));
	k = m->nprocs++;
	p = &m->procs[k];
	memset(p, 0, sizeof(*p));
	p->host = host ? xstrdup(host) : NULL;
	p->pid = pid;
	p->source = xstrdup(source);
	p->group = MERGE_NONE;
	p->nthreads = threads->len;
	p->ends = xcalloc(threads->len ? threads->len : 1, sizeof(*p->ends));
	seen_insert(m, k);
	node_add_proc(&m->nodes[0], k);
	for (size_t i = 0; i < threads->len; i++) {
		const struct jv *frames = jv_get(&threads->items[i], "frames");
		size_t at = 0, used = 0;

		m->nodes[0].threads++;
		/* Most recent call first: walk from the end (the root). */
		for (size_t j = frames->len; j-- > 0 && used < MERGE_MAX_FRAMES;) {
			size_t c;

			if (!is_python_frame(&frames->items[j]))
				continue;
			c = child(m, at, &frames->items[j]);
			if (c == MERGE_NONE) {
				rc = err_set(e, SS_ELIMIT,
					     "more than %d distinct stack "
					     "frames", MERGE_MAX_NODES);
				break;
			}
			at = c;
			used++;
			node_add_proc(&m->nodes[at], k);
			m->nodes[at].threads++;
		}
		m->nodes[at].ends++;
		p->ends[i] = at;
		m->nthreads++;
		if (rc)
			break;
	}
	if (p->nthreads > 1) /* ends is NULL without threads */
		qsort(p->ends, p->nthreads, sizeof(*p->ends), cmp_size);
	/* Over a bound, the process stays with the frames that fit (the
	 * tree's counts include it), and the error says so. */
	return rc;
}

int merge_add(struct merge *m, const struct jv *doc, const char *source,
	      struct err *e)
{
	const struct jv *list = jv_get(doc, "processes");
	struct err sub;
	int rc;

	if (!list || jv_get(doc, "pid"))
		return add_process(m, doc, source, e);
	/* Several processes in one document (dump PID PID...). */
	if (list->type != JV_ARRAY)
		return err_set(e, SS_EINVAL, "\"processes\" is not a list");
	for (size_t i = 0; i < list->len; i++) {
		rc = check_process(&list->items[i], &sub);
		if (rc)
			return err_set(e, rc, "process %zu: %s", i, sub.msg);
	}
	for (size_t i = 0; i < list->len; i++) {
		rc = add_process(m, &list->items[i], source, e);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_ends(const void *a, const void *b)
{
	const struct merge_proc *x = *(const struct merge_proc *const *)a;
	const struct merge_proc *y = *(const struct merge_proc *const *)b;
	int c;

	if (x->nthreads != y->nthreads)
		return x->nthreads < y->nthreads ? -1 : 1;
	c = memcmp(x->ends, y->ends, x->nthreads * sizeof(*x->ends));
	if (c)
		return c;
	return x < y ? -1 : x > y; /* groups list their members in order */
}

static int cmp_host(const void *a, const void *b)
{
	const struct merge_proc *x = *(const struct merge_proc *const *)a;
	const struct merge_proc *y = *(const struct merge_proc *const *)b;

	if (same_host(x->host, y->host))
		return 0;
	if (!x->host)
		return 1;
	if (!y->host)
		return -1;
	return strcmp(x->host, y->host);
}

int merge_proc_cmp(const struct merge *m, size_t a, size_t b)
{
	const struct merge_proc *x = &m->procs[a], *y = &m->procs[b];

	if (!same_host(x->host, y->host)) {
		if (!x->host)
			return 1;
		if (!y->host)
			return -1;
		return strcmp(x->host, y->host);
	}
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_group(const void *a, const void *b)
{
	const struct merge_group *x = a, *y = b;

	/* Largest first; among equals, the one met first. */
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->procs[0] < y->procs[0] ? -1 : x->procs[0] > y->procs[0];
}

void merge_finish(struct merge *m)
{
	const struct merge_proc **v;
	size_t cap = 0;

	if (!m->nprocs)
		return;
	/* Alike processes are neighbours once sorted by their ends. */
	v = xmalloc(m->nprocs * sizeof(*v));
	for (size_t i = 0; i < m->nprocs; i++)
		v[i] = &m->procs[i];
	qsort(v, m->nprocs, sizeof(*v), cmp_ends);
	for (size_t i = 0; i < m->nprocs; i++) {
		struct merge_group *g;

		if (i == 0 || v[i - 1]->nthreads != v[i]->nthreads ||
		    memcmp(v[i - 1]->ends, v[i]->ends,
			   v[i]->nthreads * sizeof(size_t))) {
			m->groups = xgrow(m->groups, &cap, m->ngroups + 1,
					  sizeof(*m->groups));
			g = &m->groups[m->ngroups++];
			g->procs = NULL;
			g->n = 0;
			g->odd = false;
		}
		g = &m->groups[m->ngroups - 1];
		g->procs = xrealloc(g->procs, (g->n + 1) * sizeof(size_t));
		g->procs[g->n++] = (size_t)(v[i] - m->procs);
	}
	qsort(m->groups, m->ngroups, sizeof(*m->groups), cmp_group);
	for (size_t g = 0; g < m->ngroups; g++) {
		m->groups[g].odd = g > 0;
		for (size_t i = 0; i < m->groups[g].n; i++)
			m->procs[m->groups[g].procs[i]].group = g;
	}
	/* Hosts: neighbours once sorted by host. */
	qsort(v, m->nprocs, sizeof(*v), cmp_host);
	m->nhosts = 1;
	for (size_t i = 1; i < m->nprocs; i++)
		if (cmp_host(&v[i - 1], &v[i]))
			m->nhosts++;
	free(v);
}
