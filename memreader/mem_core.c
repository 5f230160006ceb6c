/*
 * mem_core.c - the segment backend of mem.h: an address space made of
 * segments whose leading bytes are stored somewhere (a core file's
 * PT_LOADs) and whose tail is asked of a fallback (the mapped file).
 */
#include <config.h>

#include "memreader/mem.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct segments {
	struct mem_segment *seg; /* sorted by vaddr, disjoint, memsz > 0 */
	size_t n;
	const struct mem_segments_ops *ops;
	void *arg;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct mem_segment *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* The segment holding addr, or NULL. */
static const struct mem_segment *seg_find(const struct segments *s,
					  uint64_t addr)
{
	size_t lo = 0, hi = s->n;

	/* lo: how many segments start at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seg[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - s->seg[lo - 1].vaddr >= s->seg[lo - 1].memsz)
		return NULL;
	return &s->seg[lo - 1];
}

static int segments_read(void *priv, uint64_t addr, void *buf, size_t len,
			 struct err *e)
{
	const struct segments *s = priv;
	uint8_t *out = buf;

	if (len && addr + len - 1 < addr)
		return err_set(e, SS_EREAD, "cannot read %zu bytes at 0x%llx: "
			       "address wraps", len, (unsigned long long)addr);
	while (len > 0) {
		const struct mem_segment *g = seg_find(s, addr);
		uint64_t rel, avail;
		size_t n;
		int rc;

		if (!g)
			return err_set(e, SS_EREAD, "cannot read 0x%llx: not "
				       "in the core's memory",
				       (unsigned long long)addr);
		rel = addr - g->vaddr;
		if (rel < g->filesz) {
			avail = g->filesz - rel;
			n = avail < len ? (size_t)avail : len;
			/* offset + filesz does not wrap (checked at
			 * construction). */
			rc = s->ops->read_bytes(s->arg, g->offset + rel, out, n,
						e);
		} else {
			avail = g->memsz - rel;
			n = avail < len ? (size_t)avail : len;
			if (!s->ops->fallback)
				return err_set(e, SS_EREAD, "cannot read "
					       "0x%llx: not dumped in the core "
					       "(and no file to read it from)",
					       (unsigned long long)addr);
			rc = s->ops->fallback(s->arg, addr, out, n, e);
		}
		if (rc)
			return rc;
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static size_t segments_readv(void *priv, struct mem_span *spans, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		spans[i].ok = spans[i].len == 0 ||
			      !segments_read(priv, spans[i].addr, spans[i].buf,
					     spans[i].len, NULL);
		done += spans[i].ok;
	}
	return done;
}

static void segments_free(void *priv)
{
	struct segments *s = priv;

	if (s->ops->free)
		s->ops->free(s->arg);
	free(s->seg);
	free(s);
}

static const struct mem_ops segments_ops = {
	.read = segments_read,
	.readv = segments_readv,
	.free = segments_free,
};

struct mem_reader *mem_segments_new(const struct mem_segment *segs, size_t n,
				    const struct mem_segments_ops *ops,
				    void *arg)
{
	struct segments *s = xcalloc(1, sizeof(*s));
	size_t kept = 0;

	s->ops = ops;
	s->arg = arg;
	s->seg = xmalloc((n ? n : 1) * sizeof(*s->seg));
	for (size_t i = 0; i < n; i++) {
		struct mem_segment g = segs[i];

		if (g.filesz > g.memsz)
			g.filesz = g.memsz;
		/* The last byte must not wrap, nor the stored bytes. */
		if (g.memsz == 0 || g.vaddr + (g.memsz - 1) < g.vaddr ||
		    g.offset + g.filesz < g.offset)
			continue;
		s->seg[kept++] = g;
	}
	if (kept)
		qsort(s->seg, kept, sizeof(*s->seg), seg_cmp);
	/* Drop a segment that starts inside the one before it: the lookup
	 * needs them disjoint. */
	s->n = 0;
	for (size_t i = 0; i < kept; i++) {
		if (s->n) {
			const struct mem_segment *p = &s->seg[s->n - 1];

			if (s->seg[i].vaddr - p->vaddr < p->memsz)
				continue;
		}
		s->seg[s->n++] = s->seg[i];
	}
	return mem_reader_new(&segments_ops, s);
}
