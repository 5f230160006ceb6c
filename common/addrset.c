#include <config.h>

#include "common/addrset.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

void addrset_init(struct addrset *s)
{
	s->cap = 64;
	s->n = 0;
	s->slot = xcalloc(s->cap, sizeof(*s->slot));
}

void addrset_release(struct addrset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}

void addrset_clear(struct addrset *s)
{
	memset(s->slot, 0, s->cap * sizeof(*s->slot));
	s->n = 0;
}

static size_t hash(uint64_t a, size_t cap)
{
	return (size_t)((a * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static bool insert(uint64_t *slot, size_t cap, uint64_t addr)
{
	for (size_t i = hash(addr, cap);; i = (i + 1) & (cap - 1)) {
		if (slot[i] == addr)
			return false;
		if (!slot[i]) {
			slot[i] = addr;
			return true;
		}
	}
}

bool addrset_add(struct addrset *s, uint64_t addr)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap * 2;
		uint64_t *slot = xcalloc(cap, sizeof(*slot));

		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				insert(slot, cap, s->slot[i]);
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	if (!insert(s->slot, s->cap, addr))
		return false;
	s->n++;
	return true;
}
