#include <config.h>

#include "memreader/mem.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct image_seg {
	uint64_t addr;
	size_t len;
	uint8_t *data;
};

struct image {
	struct image_seg *seg; /* sorted by addr once 'sorted' */
	size_t n, cap;
	bool sorted;
	/* reach[i]: the highest end of seg[0..i], so that a lookup stops
	 * at the first segment that cannot hold the address. */
	uint64_t *reach;
};

static uint64_t seg_end(const struct image_seg *s)
{
	return s->addr + s->len < s->addr ? UINT64_MAX : s->addr + s->len;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct image_seg *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sort the segments once after they were added: an image built from a
 * recording has thousands, read many times each. */
static void image_sort(struct image *img)
{
	if (img->n)
		qsort(img->seg, img->n, sizeof(*img->seg), seg_cmp);
	free(img->reach);
	img->reach = xmalloc((img->n + 1) * sizeof(*img->reach));
	for (size_t i = 0; i < img->n; i++) {
		uint64_t end = seg_end(&img->seg[i]);

		img->reach[i] = i && img->reach[i - 1] > end ?
				img->reach[i - 1] : end;
	}
	img->sorted = true;
}

static int image_read(void *priv, uint64_t addr, void *buf, size_t len,
		      struct err *e)
{
	struct image *img = priv;
	size_t lo = 0, hi;

	if (!img->sorted)
		image_sort(img);
	/* lo: how many segments start at or below addr. */
	hi = img->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->seg[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && img->reach[i] > addr;) {
		struct image_seg *s = &img->seg[i];

		if (addr - s->addr <= s->len &&
		    len <= s->len - (addr - s->addr)) {
			memcpy(buf, s->data + (addr - s->addr), len);
			return 0;
		}
	}
	return err_set(e, SS_EREAD, "cannot read %zu bytes at 0x%llx: "
		       "not in image", len, (unsigned long long)addr);
}

static void image_free(void *priv)
{
	struct image *img = priv;

	for (size_t i = 0; i < img->n; i++)
		free(img->seg[i].data);
	free(img->seg);
	free(img->reach);
	free(img);
}

static const struct mem_ops image_ops = {
	.read = image_read,
	.free = image_free,
};

struct mem_reader *mem_image_new(void)
{
	return mem_reader_new(&image_ops, xcalloc(1, sizeof(struct image)));
}

void mem_image_add(struct mem_reader *m, uint64_t addr, const void *data,
		   size_t len)
{
	struct image *img = m->priv;
	struct image_seg *s;

	img->seg = xgrow(img->seg, &img->cap, img->n + 1, sizeof(*img->seg));
	s = &img->seg[img->n++];
	s->addr = addr;
	s->len = len;
	s->data = xmalloc(len ? len : 1);
	memcpy(s->data, data, len);
	img->sorted = false;
}
