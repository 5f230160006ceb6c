#include <config.h>

#include "pystructs/runtime_scan.h"
#include "common/addrset.h"
#include "common/xalloc.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/version.h"
#include "model/snapshot.h"
#include "pystructs/threads.h"
#include "pystructs/reader.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of writable data scanned per file, well above libpython's. */
#define RUNTIME_SCAN_MAX (64u << 20)
/* Candidates given a whole walk before giving up. */
#define WALK_TRIES_MAX 64

struct region {
	uint64_t lo;
	uint8_t *buf;
	size_t len;
};

struct regions {
	struct region v[16];
	size_t n;
};

static void regions_release(struct regions *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].buf);
	r->n = 0;
}

/* Copy the file's writable mappings, and the anonymous one that directly
 * follows its last mapping (.bss beyond the file), out of the target. */
static void regions_read(const struct maps *m, struct mem_reader *mem,
			 const char *path, struct regions *r)
{
	size_t total = 0;

	r->n = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *me = &m->e[i];
		bool bss = i > 0 && !me->path[0] && !strcmp(m->e[i - 1].path, path) &&
			   m->e[i - 1].hi == me->lo;
		size_t len;

		if (!me->w || !me->r || (strcmp(me->path, path) && !bss))
			continue;
		len = (size_t)(me->hi - me->lo);
		if (r->n == sizeof(r->v) / sizeof(r->v[0]) ||
		    total + len > RUNTIME_SCAN_MAX)
			break;
		r->v[r->n].buf = xmalloc(len);
		if (mem_read(mem, me->lo, r->v[r->n].buf, len, NULL)) {
			free(r->v[r->n].buf);
			continue;
		}
		r->v[r->n].lo = me->lo;
		r->v[r->n].len = len;
		r->n++;
		total += len;
	}
}

/* 3.13+: the debug-offsets cookie, 8-aligned, with a 3.13+ version. */
static bool find_cookie(const struct regions *r, struct py_runtime_info *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct region *g = &r->v[i];

		for (size_t off = 0; off + DEBUG_OFFSETS_HEADER <= g->len; off += 8) {
			uint32_t v = debug_offsets_version(g->buf + off);

			if (!v || (v >> 24) != 3 || ((v >> 16) & 0xff) < 13)
				continue;
			out->runtime_kind = LAYOUT_RUNTIME_STRUCT;
			out->runtime = g->lo + off;
			out->version_hex = v;
			out->major = 3;
			out->minor = (v >> 16) & 0xff;
			return true;
		}
	}
	return false;
}

/*
 * Does a whole walk from this candidate succeed: the main interpreter (read
 * first) has id 0, every thread a pthread_t and a clean stack, and there
 * is at least one Python frame?
 */
static bool walk_ok(struct mem_reader *mem, const struct py_runtime_info *cand)
{
	struct py_proc p;
	struct snapshot *s;
	size_t frames = 0;
	bool ok;

	if (py_proc_init(&p, mem, cand, NULL))
		return false;
	s = snap_new();
	ok = !py_read_threads(&p, NULL, s, NULL) && s->nthreads > 0 &&
	     s->threads[0].interp_id == 0;
	for (size_t i = 0; ok && i < s->nthreads; i++) {
		ok = !s->threads[i].error && py_ptr_ok(s->threads[i].thread_id);
		frames += s->threads[i].nframes;
	}
	ok = ok && frames > 0;
	snap_free(s);
	py_proc_release(&p);
	return ok;
}

/* Before 3.13: the first word w with w->threads_head->interp == w (and a
 * whole walk that works) is the interpreter list head. */
static bool find_interp_head(const struct maps *m, struct mem_reader *mem,
			     const struct regions *r,
			     struct py_runtime_info *out)
{
	const struct py_layout *L = layout_builtin(out->major, out->minor);
	struct addrset tried;
	int walks = 0;
	bool found = false;

	if (!L)
		return false;
	addrset_init(&tried);
	for (size_t i = 0; i < r->n && !found && walks < WALK_TRIES_MAX; i++) {
		const struct region *g = &r->v[i];

		for (size_t off = 0; off + 8 <= g->len && walks < WALK_TRIES_MAX;
		     off += 8) {
			const struct maps_entry *me;
			uint64_t w, first;
			struct py_runtime_info cand = *out;

			memcpy(&w, g->buf + off, sizeof(w));
			if (!py_ptr_ok(w) || !(me = maps_find(m, w)) || !me->r ||
			    !addrset_add(&tried, w) ||
			    !py_interp_links_back(mem, L, w, &first) || !first)
				continue;
			cand.runtime_kind = L->runtime.kind;
			cand.runtime = g->lo + off -
				       (uint64_t)L->runtime.interpreters_head;
			walks++;
			if (walk_ok(mem, &cand)) {
				*out = cand;
				found = true;
				break;
			}
		}
	}
	addrset_release(&tried);
	return found;
}

bool runtime_scan(const struct maps *m, struct mem_reader *mem,
		  const char *path, struct py_runtime_info *out)
{
	struct regions r;
	bool found = false;

	regions_read(m, mem, path, &r);
	if (find_cookie(&r, out)) {
		found = true;
	} else {
		for (size_t i = 0; i < r.n && !found; i++)
			found = py_version_from_text(r.v[i].buf, r.v[i].len,
						     &out->major, &out->minor,
						     out->version_text,
						     sizeof(out->version_text));
		found = found && find_interp_head(m, mem, &r, out);
	}
	regions_release(&r);
	return found;
}
