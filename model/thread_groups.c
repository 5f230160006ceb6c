#include <config.h>

#include "model/thread_groups.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_frame(const struct snap_frame *a, const struct snap_frame *b)
{
	return a->line == b->line && a->torn == b->torn &&
	       same_str(a->function, b->function) &&
	       same_str(a->filename, b->filename) &&
	       same_str(a->importing, b->importing);
}

/* Can t be in a group with others at all? */
static bool groupable(const struct snap_thread *t)
{
	return !t->native_only && !t->has_native && !t->holds_gil;
}

bool thread_same_story(const struct snap_thread *a,
		       const struct snap_thread *b)
{
	if (!groupable(a) || !groupable(b))
		return false;
	if (a->interp_id != b->interp_id || a->nframes != b->nframes ||
	    a->gil != b->gil || a->os.state != b->os.state ||
	    strcmp(a->os.syscall, b->os.syscall) ||
	    a->os.syscall_unknown != b->os.syscall_unknown ||
	    snap_thread_active(a) != snap_thread_active(b) ||
	    a->gc != b->gc || a->torn != b->torn ||
	    a->truncated != b->truncated || a->waits_for != b->waits_for ||
	    !same_str(a->trace, b->trace) ||
	    !same_str(a->profile, b->profile) || !same_str(a->error, b->error))
		return false;
	for (size_t i = 0; i < a->nframes; i++)
		if (!same_frame(&a->frames[i], &b->frames[i]))
			return false;
	return true;
}

/* FNV-1a over what thread_same_story() compares (enough of it to spread
 * the groups; equal stories hash equal). */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s) + 1) : mix(h, "", 1);
}

static uint64_t story_hash(const struct snap_thread *t)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = mix(h, &t->interp_id, sizeof(t->interp_id));
	h = mix(h, &t->nframes, sizeof(t->nframes));
	h = mix(h, &t->waits_for, sizeof(t->waits_for));
	h = mix(h, &t->os.state, 1);
	h = mix_str(h, t->os.syscall);
	for (size_t i = 0; i < t->nframes; i++) {
		h = mix(h, &t->frames[i].line, sizeof(t->frames[i].line));
		h = mix_str(h, t->frames[i].function);
		h = mix_str(h, t->frames[i].filename);
	}
	return h;
}

static void add_member(struct thread_group *gr, size_t *cap, size_t i)
{
	gr->members = xgrow(gr->members, cap, gr->n + 1,
			    sizeof(*gr->members));
	gr->members[gr->n++] = i;
}

void thread_groups_build(const struct snapshot *s, bool locals,
			 struct thread_groups *g)
{
	size_t n = s->nthreads, mask = 1, gcap = 0;
	/* Open addressing: each slot names a group (index + 1, 0 empty)
	 * by its first member's story hash. */
	struct slot { uint64_t hash; size_t group; } *table;
	size_t *caps;

	memset(g, 0, sizeof(*g));
	g->nthreads = n;
	g->group_of = xcalloc(n + 1, sizeof(*g->group_of));
	while (mask < 2 * n)
		mask <<= 1;
	table = xcalloc(mask, sizeof(*table));
	caps = xcalloc(n + 1, sizeof(*caps));
	mask--;
	for (size_t i = 0; i < n; i++) {
		const struct snap_thread *t = &s->threads[i];
		size_t k = SIZE_MAX;

		if (!locals && groupable(t)) {
			uint64_t h = story_hash(t);
			size_t at = (size_t)h & mask;

			for (; table[at].group; at = (at + 1) & mask) {
				const struct thread_group *gr =
					&g->v[table[at].group - 1];

				if (table[at].hash == h &&
				    thread_same_story(&s->threads[gr->members[0]],
						      t)) {
					k = table[at].group - 1;
					break;
				}
			}
			if (k == SIZE_MAX) {
				table[at].hash = h;
				table[at].group = g->n + 1;
			}
		}
		if (k == SIZE_MAX) {
			g->v = xgrow(g->v, &gcap, g->n + 1, sizeof(*g->v));
			memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
			k = g->n++;
		}
		add_member(&g->v[k], &caps[k], i);
		g->group_of[i] = k;
	}
	free(caps);
	free(table);
}

void thread_groups_release(struct thread_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].members);
	free(g->v);
	free(g->group_of);
	memset(g, 0, sizeof(*g));
}

/* The decimal suffix of s: where it starts (strlen(s) when none). */
static size_t suffix_at(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9')
		n--;
	return n;
}

/* Does b follow a in a name run (the same prefix, the suffix one more,
 * written with as many digits, or one more digit across 9 -> 10 with no
 * leading zero)? */
static bool name_follows(const char *a, const char *b)
{
	size_t pa = suffix_at(a), pb = suffix_at(b);
	size_t la = strlen(a) - pa, lb = strlen(b) - pb;
	unsigned long long va, vb;

	if (pa != pb || !la || !lb || la > 18 || lb > 18 ||
	    memcmp(a, b, pa))
		return false;
	va = strtoull(a + pa, NULL, 10);
	vb = strtoull(b + pb, NULL, 10);
	if (vb != va + 1)
		return false;
	/* w08 -> w09: same width; w9 -> w10: b has no leading zero. */
	return la == lb || (lb == la + 1 && b[pb] != '0' && a[pa] != '0');
}

size_t thread_name_runs(const char *const *names, size_t n,
			struct thread_run *runs)
{
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		if (nr && names[i] && names[i - 1] &&
		    name_follows(names[i - 1], names[i])) {
			runs[nr - 1].last = i;
			continue;
		}
		runs[nr].first = runs[nr].last = i;
		nr++;
	}
	return nr;
}

size_t thread_int_runs(const int64_t *v, size_t n, struct thread_run *runs)
{
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		if (nr && v[i] >= 0 && v[i - 1] >= 0 && v[i] == v[i - 1] + 1) {
			runs[nr - 1].last = i;
			continue;
		}
		runs[nr].first = runs[nr].last = i;
		nr++;
	}
	return nr;
}
