#include <config.h>

#include "memreader/maps.h"

#include <stdlib.h>
#include <string.h>

void maps_release(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

const struct maps_entry *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->e[mid].lo)
			hi = mid;
		else if (addr >= m->e[mid].hi)
			lo = mid + 1;
		else
			return &m->e[mid];
	}
	return NULL;
}

const struct maps_entry *maps_first(const struct maps *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].path, path))
			return &m->e[i];
	return NULL;
}
