/*
 * maps.h - the target's memory map: which address ranges are mapped, with
 * which permissions, from which file.  Plain data, filled by whoever knows
 * the target (attach/maps.h parses a live process's /proc/PID/maps), read
 * by the decoders that must know what is mapped where.
 */
#ifndef SNAKESCOPE_MEM_MAPS_H
#define SNAKESCOPE_MEM_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct maps_entry {
	uint64_t lo, hi;  /* [lo, hi) */
	uint64_t offset;  /* file offset of lo */
	bool r, w, x;
	dev_t dev;        /* the mapped file's device and inode; 0 */
	uint64_t ino;     /*   for anonymous mappings */
	char *path;       /* "" for anonymous; without " (deleted)" */
	bool deleted;     /* the file was deleted or replaced */
};

struct maps {
	struct maps_entry *e; /* sorted by lo, as the kernel prints them */
	size_t n, cap;
};

void maps_release(struct maps *m);

/* The entry containing addr, or NULL. */
const struct maps_entry *maps_find(const struct maps *m, uint64_t addr);

/* The lowest mapping of the file mapped as 'path', or NULL. */
const struct maps_entry *maps_first(const struct maps *m, const char *path);

#endif
