#include <config.h>

#include "memreader/mem.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

/*
 * Page cache: a small direct-mapped table of 4 KiB pages.  One dump touches
 * a few hundred distinct pages (thread states, frames, code objects and
 * their strings), and a page costs the same syscall as a word, so this cuts
 * the syscall count by an order of magnitude on a paused target.
 */
#define PAGE_SIZE_ 4096u
#define CACHE_SLOTS 512u
/* A slot whose read failed: it keeps its data page, matches no page. */
#define PAGE_FAILED (UINT64_MAX - 1)

/* Tags apart from data, so that a reset touches one small array.  The
 * data pages are handed out in order since the last reset: only as many
 * are ever faulted in as one sample (or one dump) needs, not one per slot
 * its addresses ever hashed to (a sampler's memory would grow for
 * minutes towards the whole table). */
struct mem_cache {
	uint64_t page[CACHE_SLOTS]; /* page address, UINT64_MAX when empty */
	uint16_t block[CACHE_SLOTS]; /* its data page, when not empty */
	unsigned nblocks;            /* data pages handed out */
	uint8_t (*data)[PAGE_SIZE_];
};

struct mem_reader *mem_reader_new(const struct mem_ops *ops, void *priv)
{
	struct mem_reader *m = xcalloc(1, sizeof(*m));

	m->ops = ops;
	m->priv = priv;
	return m;
}

void mem_reader_free(struct mem_reader *m)
{
	if (!m)
		return;
	if (m->ops->free)
		m->ops->free(m->priv);
	mem_cache_enable(m, false);
	free(m);
}

void mem_cache_enable(struct mem_reader *m, bool on)
{
	if (on && !m->cache) {
		m->cache = xmalloc(sizeof(*m->cache));
		m->cache->data = xmalloc(CACHE_SLOTS * sizeof(*m->cache->data));
		mem_cache_reset(m);
	} else if (!on && m->cache) {
		free(m->cache->data);
		free(m->cache);
		m->cache = NULL;
	}
}

void mem_cache_reset(struct mem_reader *m)
{
	if (!m->cache)
		return;
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		m->cache->page[i] = UINT64_MAX;
	m->cache->nblocks = 0;
}

/* The cached copy of a page, read on a miss; NULL with *rc on failure. */
static const uint8_t *cache_page(struct mem_reader *m, uint64_t page,
				 struct err *e, int *rc)
{
	struct mem_cache *c = m->cache;
	size_t slot = (size_t)(page / PAGE_SIZE_) % CACHE_SLOTS;
	uint8_t *data;

	*rc = 0;
	if (c->page[slot] == page)
		return c->data[c->block[slot]];
	/* An empty slot takes the next data page; a taken one (another
	 * page) keeps its own. */
	if (c->page[slot] == UINT64_MAX)
		c->block[slot] = (uint16_t)c->nblocks++;
	data = c->data[c->block[slot]];
	*rc = m->ops->read(m->priv, page, data, PAGE_SIZE_, e);
	c->page[slot] = *rc ? PAGE_FAILED : page;
	return *rc ? NULL : data;
}

static int cached_read(struct mem_reader *m, uint64_t addr, uint8_t *buf,
		       size_t len, struct err *e)
{
	while (len > 0) {
		uint64_t page = addr & ~(uint64_t)(PAGE_SIZE_ - 1);
		size_t off = (size_t)(addr - page);
		size_t n = PAGE_SIZE_ - off < len ? PAGE_SIZE_ - off : len;
		const uint8_t *data;
		int rc;

		data = cache_page(m, page, e, &rc);
		if (!data)
			return rc;
		memcpy(buf, data + off, n);
		buf += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int mem_read(struct mem_reader *m, uint64_t addr, void *buf, size_t len,
	     struct err *e)
{
	if (len == 0)
		return 0;
	if (addr + len < addr)
		return err_set(e, SS_EREAD, "cannot read %zu bytes at 0x%llx: "
			       "address wraps", len, (unsigned long long)addr);
	/* Big reads bypass the cache: they are rare and would evict it. */
	if (m->cache && len <= 2 * PAGE_SIZE_) {
		int rc = cached_read(m, addr, buf, len, e);

		/* A page may be partly unmapped while the bytes asked
		 * for are not: retry the exact range before failing. */
		if (rc != SS_EREAD)
			return rc;
	}
	return m->ops->read(m->priv, addr, buf, len, e);
}

int mem_read_u64(struct mem_reader *m, uint64_t addr, uint64_t *out,
		 struct err *e)
{
	return mem_read(m, addr, out, sizeof(*out), e);
}

size_t mem_read_spans(struct mem_reader *m, struct mem_span *spans, size_t n)
{
	size_t done = 0;

	if (m->ops->readv)
		return m->ops->readv(m->priv, spans, n);
	for (size_t i = 0; i < n; i++) {
		spans[i].ok = spans[i].len == 0 ||
			      !m->ops->read(m->priv, spans[i].addr, spans[i].buf,
					    spans[i].len, NULL);
		done += spans[i].ok;
	}
	return done;
}
