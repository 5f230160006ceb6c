/*
 * mem_record.c - a reader that forwards to another and remembers every
 * range it read in full, with the bytes (mem.h: mem_recorder_new()).
 * The fuzz seed capture and `snakescope snapshot` use it to learn exactly
 * which memory a read of the target needs.
 */
#include <config.h>

#include "memreader/mem.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct recorder {
	struct mem_reader *inner; /* not owned */
	struct mem_range *v;
	size_t n, cap;
};

static void rec_add(struct recorder *r, uint64_t addr, const void *buf,
		    size_t len)
{
	struct mem_range *rr;
	uint8_t *data;

	if (!len)
		return;
	r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
	data = xmalloc(len);
	memcpy(data, buf, len);
	rr = &r->v[r->n++];
	rr->addr = addr;
	rr->len = len;
	rr->data = data;
}

static int rec_read(void *priv, uint64_t addr, void *buf, size_t len,
		    struct err *e)
{
	struct recorder *r = priv;
	int rc = mem_read(r->inner, addr, buf, len, e);

	if (!rc)
		rec_add(r, addr, buf, len);
	return rc;
}

static size_t rec_readv(void *priv, struct mem_span *spans, size_t n)
{
	struct recorder *r = priv;
	size_t done = mem_read_spans(r->inner, spans, n);

	for (size_t i = 0; i < n; i++)
		if (spans[i].ok)
			rec_add(r, spans[i].addr, spans[i].buf, spans[i].len);
	return done;
}

static void rec_clear(struct recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free((void *)r->v[i].data);
	r->n = 0;
}

static void rec_free(void *priv)
{
	struct recorder *r = priv;

	rec_clear(r);
	free(r->v);
	free(r);
}

static const struct mem_ops rec_ops = {
	.read = rec_read,
	.readv = rec_readv,
	.free = rec_free,
};

struct mem_reader *mem_recorder_new(struct mem_reader *inner)
{
	struct recorder *r = xcalloc(1, sizeof(*r));

	r->inner = inner;
	return mem_reader_new(&rec_ops, r);
}

static struct recorder *recorder_of(struct mem_reader *m)
{
	return m->ops == &rec_ops ? m->priv : NULL;
}

size_t mem_recorder_ranges(struct mem_reader *m, const struct mem_range **out)
{
	struct recorder *r = recorder_of(m);

	*out = r ? r->v : NULL;
	return r ? r->n : 0;
}

void mem_recorder_add(struct mem_reader *m, uint64_t addr, const void *buf,
		      size_t len)
{
	struct recorder *r = recorder_of(m);

	if (r)
		rec_add(r, addr, buf, len);
}

void mem_recorder_clear(struct mem_reader *m)
{
	struct recorder *r = recorder_of(m);

	if (r)
		rec_clear(r);
}
