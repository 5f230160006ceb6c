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
	struct image_seg *seg;
	size_t n, cap;
};

static int image_read(void *priv, uint64_t addr, void *buf, size_t len,
		      struct err *e)
{
	struct image *img = priv;

	for (size_t i = 0; i < img->n; i++) {
		struct image_seg *s = &img->seg[i];

		if (addr >= s->addr && addr - s->addr <= s->len &&
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
	s->data = xmalloc(len);
	memcpy(s->data, data, len);
}
