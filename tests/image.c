#include <config.h>

#include "tests/image.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

void image_init(struct image *im, const struct py_layout *L)
{
	memset(im, 0, sizeof(*im));
	im->L = L;
	im->buf = xcalloc(1, IMAGE_SIZE);
	im->used = 4096; /* keep address IMAGE_BASE itself unused */
	im->type_str = image_type(im, "str");
	im->type_bytes = image_type(im, "bytes");
	im->type_code = image_type(im, "code");
	im->type_int = image_type(im, "int");
}

void image_release(struct image *im)
{
	free(im->buf);
}

uint64_t image_alloc(struct image *im, size_t n)
{
	uint64_t addr;

	im->used = (im->used + 15) & ~(size_t)15;
	if (im->used + n > IMAGE_SIZE)
		abort();
	addr = IMAGE_BASE + im->used;
	im->used += n;
	return addr;
}

void image_putbytes(struct image *im, uint64_t addr, const void *p, size_t n)
{
	memcpy(im->buf + (addr - IMAGE_BASE), p, n);
}

void image_put64(struct image *im, uint64_t addr, uint64_t v)
{
	image_putbytes(im, addr, &v, 8);
}

void image_put32(struct image *im, uint64_t addr, uint32_t v)
{
	image_putbytes(im, addr, &v, 4);
}

void image_put8(struct image *im, uint64_t addr, uint8_t v)
{
	image_putbytes(im, addr, &v, 1);
}

uint64_t image_type(struct image *im, const char *name)
{
	uint64_t t = image_alloc(im, 1024);
	uint64_t s = image_alloc(im, strlen(name) + 1);

	image_putbytes(im, s, name, strlen(name) + 1);
	image_put64(im, t + (uint64_t)im->L->type.tp_name, s);
	return t;
}

static uint32_t str_state(const struct py_layout *L, unsigned kind, int ascii)
{
	return (uint32_t)(kind << L->unicode.kind_shift) |
	       (1u << L->unicode.compact_bit) |
	       ((uint32_t)ascii << L->unicode.ascii_bit);
}

uint64_t image_str_kind(struct image *im, const uint32_t *cp, size_t n,
			unsigned kind)
{
	const struct py_layout *L = im->L;
	int data = L->unicode.compact_data;
	uint64_t o = image_alloc(im, (size_t)data + (n + 1) * kind);

	image_put64(im, o + (uint64_t)L->object.ob_type, im->type_str);
	image_put64(im, o + (uint64_t)L->unicode.length, n);
	image_put32(im, o + (uint64_t)L->unicode.state, str_state(L, kind, 0));
	for (size_t i = 0; i < n; i++)
		image_putbytes(im, o + (uint64_t)data + i * kind, &cp[i], kind);
	return o;
}

uint64_t image_str(struct image *im, const char *s)
{
	const struct py_layout *L = im->L;
	size_t n = strlen(s);
	uint64_t o = image_alloc(im, (size_t)L->unicode.ascii_data + n + 1);

	image_put64(im, o + (uint64_t)L->object.ob_type, im->type_str);
	image_put64(im, o + (uint64_t)L->unicode.length, n);
	image_put32(im, o + (uint64_t)L->unicode.state, str_state(L, 1, 1));
	image_putbytes(im, o + (uint64_t)L->unicode.ascii_data, s, n + 1);
	return o;
}

uint64_t image_bytes(struct image *im, const void *p, size_t n)
{
	const struct py_layout *L = im->L;
	uint64_t o = image_alloc(im, (size_t)L->bytes.data + n + 1);

	image_put64(im, o + (uint64_t)L->object.ob_type, im->type_bytes);
	image_put64(im, o + (uint64_t)L->bytes.size, n);
	image_putbytes(im, o + (uint64_t)L->bytes.data, p, n);
	return o;
}

uint64_t image_code(struct image *im, const char *name, const char *file,
		    int firstlineno, const uint8_t *table, size_t tlen,
		    size_t ncode_units)
{
	const struct py_layout *L = im->L;
	size_t size = (size_t)L->code.size + 2 * ncode_units;
	uint64_t c = image_alloc(im, size);
	uint64_t sname = image_str(im, name);

	image_put64(im, c + (uint64_t)L->object.ob_type, im->type_code);
	if (L->code.ob_size != LAYOUT_NONE)
		image_put64(im, c + (uint64_t)L->code.ob_size, ncode_units);
	image_put64(im, c + (uint64_t)L->code.name, sname);
	if (L->code.qualname != LAYOUT_NONE)
		image_put64(im, c + (uint64_t)L->code.qualname, sname);
	image_put64(im, c + (uint64_t)L->code.filename, image_str(im, file));
	image_put32(im, c + (uint64_t)L->code.firstlineno, (uint32_t)firstlineno);
	image_put64(im, c + (uint64_t)L->code.linetable,
		    image_bytes(im, table, tlen));
	return c;
}

struct image_runtime image_runtime(struct image *im)
{
	const struct py_layout *L = im->L;
	struct image_runtime r;

	r.runtime = image_alloc(im, 4096);
	r.interp = image_alloc(im, 16384);
	image_put64(im, r.runtime + (uint64_t)L->runtime.interpreters_head,
		    r.interp);
	for (int i = 0; i < 2; i++) {
		r.ts[i] = image_alloc(im, (size_t)L->tstate.size);
		image_put64(im, r.ts[i] + (uint64_t)L->tstate.interp, r.interp);
		image_put64(im, r.ts[i] + (uint64_t)L->tstate.thread_id,
			    0x7f0000001000ULL + (uint64_t)i);
		if (L->tstate.native_thread_id != LAYOUT_NONE)
			image_put64(im, r.ts[i] +
				    (uint64_t)L->tstate.native_thread_id,
				    1000 + (uint64_t)i);
	}
	image_put64(im, r.interp + (uint64_t)L->interp.threads_head, r.ts[1]);
	image_put64(im, r.ts[1] + (uint64_t)L->tstate.next, r.ts[0]);
	return r;
}

void image_set_top_frame(struct image *im, uint64_t ts, uint64_t frame)
{
	const struct py_layout *L = im->L;

	if (L->tstate.cframe_frame != LAYOUT_NONE) {
		uint64_t cframe = image_alloc(im, 64);

		image_put64(im, cframe + (uint64_t)L->tstate.cframe_frame,
			    frame);
		frame = cframe;
	}
	image_put64(im, ts + (uint64_t)L->tstate.frame, frame);
}

struct mem_reader *image_reader(struct image *im)
{
	struct mem_reader *m = mem_image_new();

	mem_image_add(m, IMAGE_BASE, im->buf, IMAGE_SIZE);
	return m;
}
