/*
 * maps.h - the target's memory map (/proc/PID/maps).
 */
#ifndef SNAKESCOPE_MAPS_H
#define SNAKESCOPE_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"

struct maps_entry {
	uint64_t lo, hi;  /* [lo, hi) */
	uint64_t offset;  /* file offset of lo */
	bool r, w, x;
	dev_t dev;        /* the mapped file's device and inode; 0 */
	uint64_t ino;     /*   for anonymous mappings */
	char *path;       /* "" for anonymous; without " (deleted)" */
	bool deleted;     /* the file was deleted or replaced */
};

/* A bound on what a map may make us hold: the kernel's default
 * vm.max_map_count is 65,530. */
#define MAPS_MAX_ENTRIES (1 << 20)

struct maps {
	struct maps_entry *e; /* sorted by lo, as the kernel prints them */
	size_t n, cap;
};

/* Parse maps text from f into *m (which this initialises).  Returns 0 or
 * SS_EIO on malformed input; *m is then empty. */
int maps_parse(FILE *f, struct maps *m, struct err *e);

/* Read /proc/PID/maps.  SS_ENOPROC, SS_EPERM or SS_EIO on failure. */
int maps_load(pid_t pid, struct maps *m, struct err *e);

void maps_release(struct maps *m);

/* The entry containing addr, or NULL. */
const struct maps_entry *maps_find(const struct maps *m, uint64_t addr);

#endif
