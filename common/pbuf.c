#include <config.h>

#include "common/pbuf.h"

void pb_varint(struct strbuf *sb, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	strbuf_add(sb, buf, n);
}

void pb_key(struct strbuf *sb, uint32_t field, unsigned wire)
{
	pb_varint(sb, (uint64_t)field << 3 | wire);
}

void pb_uint(struct strbuf *sb, uint32_t field, uint64_t v)
{
	pb_key(sb, field, PB_VARINT);
	pb_varint(sb, v);
}

void pb_int(struct strbuf *sb, uint32_t field, int64_t v)
{
	pb_uint(sb, field, (uint64_t)v);
}

void pb_bytes(struct strbuf *sb, uint32_t field, const void *data,
	      size_t len)
{
	pb_key(sb, field, PB_LEN);
	pb_varint(sb, len);
	strbuf_add(sb, data, len);
}

void pb_message(struct strbuf *sb, uint32_t field, const struct strbuf *msg)
{
	pb_bytes(sb, field, msg->buf, msg->len);
}

/* Bytes of v as a varint. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

void pb_packed(struct strbuf *sb, uint32_t field, const uint64_t *v,
	       size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	pb_key(sb, field, PB_LEN);
	pb_varint(sb, len);
	for (size_t i = 0; i < n; i++)
		pb_varint(sb, v[i]);
}
