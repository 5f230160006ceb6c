/*
 * maps.h - read a live process's memory map (/proc/PID/maps) into the
 * plain struct maps of memreader/maps.h.
 */
#ifndef SNAKESCOPE_MAPS_H
#define SNAKESCOPE_MAPS_H

#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"
#include "memreader/maps.h"

/* A bound on what a map may make us hold: the kernel's default
 * vm.max_map_count is 65,530. */
#define MAPS_MAX_ENTRIES (1 << 20)

/* Parse maps text from f into *m (which this initialises).  Returns 0 or
 * SS_EIO on malformed input; *m is then empty. */
int maps_parse(FILE *f, struct maps *m, struct err *e);

/* Read /proc/PID/maps.  SS_ENOPROC, SS_EPERM or SS_EIO on failure. */
int maps_load(pid_t pid, struct maps *m, struct err *e);

#endif
