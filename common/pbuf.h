/*
 * pbuf.h - write Protocol Buffers wire format into a struct strbuf, by
 * hand: the few field kinds record's pprof writer needs (varints,
 * length-delimited bytes and nested messages, packed repeated integers).
 * https://protobuf.dev/programming-guides/encoding/
 *
 *   struct strbuf msg;
 *
 *   strbuf_init(&msg);
 *   pb_uint(&msg, 1, 42);              field 1, varint 42
 *   pb_bytes(&msg, 2, "abc", 3);       field 2, length-delimited
 *   pb_message(&outer, 3, &msg);       msg nested as field 3 of outer
 *
 * Field numbers are the caller's constants (1 .. 2^29-1).  Everything
 * only appends to the buffer; there is nothing to release but the
 * caller's strbufs.  Decoding is not here: snakescope never reads
 * protobuf (the tests carry their own reader).
 */
#ifndef SNAKESCOPE_PBUF_H
#define SNAKESCOPE_PBUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

/* Wire types. */
#define PB_VARINT 0
#define PB_LEN 2

/* A base-128 varint, least significant group first. */
void pb_varint(struct strbuf *sb, uint64_t v);

/* A field's key: (field << 3) | wire type. */
void pb_key(struct strbuf *sb, uint32_t field, unsigned wire);

/* A varint field: uint64, or int64 as its two's complement (a negative
 * int64 takes ten bytes, as protobuf says; not zigzag: no sint64). */
void pb_uint(struct strbuf *sb, uint32_t field, uint64_t v);
void pb_int(struct strbuf *sb, uint32_t field, int64_t v);

/* A length-delimited field of len bytes (a string: no terminator). */
void pb_bytes(struct strbuf *sb, uint32_t field, const void *data,
	      size_t len);

/* A nested message, already encoded in msg, as a length-delimited field. */
void pb_message(struct strbuf *sb, uint32_t field, const struct strbuf *msg);

/* A packed repeated uint64 (or int64, when the values are not negative)
 * field of n values; nothing at all when n is 0, as an empty repeated
 * field is written. */
void pb_packed(struct strbuf *sb, uint32_t field, const uint64_t *v,
	       size_t n);

#endif
