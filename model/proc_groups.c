#include <config.h>

#include "model/proc_groups.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* One thread's story as processes compare it (see the header). */
static bool same_story(const struct snap_thread *a,
		       const struct snap_thread *b)
{
	if (a->nframes != b->nframes ||
	    snap_thread_active(a) != snap_thread_active(b) ||
	    strcmp(a->os.syscall, b->os.syscall) ||
	    a->os.syscall_unknown != b->os.syscall_unknown)
		return false;
	for (size_t i = 0; i < a->nframes; i++) {
		const struct snap_frame *fa = &a->frames[i];
		const struct snap_frame *fb = &b->frames[i];

		if (fa->line != fb->line ||
		    !same_str(fa->function, fb->function) ||
		    !same_str(fa->filename, fb->filename) ||
		    !same_str(fa->importing, fb->importing))
			return false;
	}
	return true;
}

/* The first thread of a with no story in b, or NULL. */
static const struct snap_thread *first_unmatched(const struct snapshot *a,
						 const struct snapshot *b)
{
	for (size_t i = 0; i < a->nthreads; i++) {
		const struct snap_thread *t = &a->threads[i];
		bool found = false;

		if (t->native_only)
			continue;
		for (size_t k = 0; k < b->nthreads && !found; k++)
			found = !b->threads[k].native_only &&
				same_story(t, &b->threads[k]);
		if (!found)
			return t;
	}
	return NULL;
}

const struct snap_thread *proc_differs(const struct snapshot *odd,
				       const struct snapshot *ref,
				       bool *missing)
{
	const struct snap_thread *t;

	*missing = false;
	if (!odd || !ref)
		return NULL;
	t = first_unmatched(odd, ref);
	if (t)
		return t;
	t = first_unmatched(ref, odd);
	*missing = t != NULL;
	return t;
}

bool proc_alike(const struct snapshot *a, const struct snapshot *b)
{
	if (!a || !b || !same_str(a->version, b->version))
		return false;
	return !first_unmatched(a, b) && !first_unmatched(b, a);
}

void proc_groups_build(const struct snapshot *const *snaps, size_t n,
		       struct proc_groups *g)
{
	size_t gcap = 0, *caps = xcalloc(n + 1, sizeof(*caps));

	memset(g, 0, sizeof(*g));
	g->reference = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < g->n; k++)
			if (proc_alike(snaps[g->v[k].members[0]], snaps[i]))
				break;
		if (k == g->n) {
			g->v = xgrow(g->v, &gcap, g->n + 1, sizeof(*g->v));
			memset(&g->v[g->n++], 0, sizeof(*g->v));
		}
		g->v[k].members = xgrow(g->v[k].members, &caps[k],
					g->v[k].n + 1,
					sizeof(*g->v[k].members));
		g->v[k].members[g->v[k].n++] = i;
	}
	free(caps);
	for (size_t k = 0; k < g->n; k++)
		if (g->v[k].n >= 2 && (g->reference == SIZE_MAX ||
				       g->v[k].n > g->v[g->reference].n))
			g->reference = k;
}

void proc_groups_release(struct proc_groups *g)
{
	for (size_t k = 0; k < g->n; k++)
		free(g->v[k].members);
	free(g->v);
	memset(g, 0, sizeof(*g));
}
