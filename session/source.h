/*
 * source.h - the target's source files, read as the target sees them
 * (inside its own root: attach/rootfs.h, so a process in a container or
 * a chroot resolves, and no FIFO or device is ever read), for the source
 * lines of a text dump and of top.  Files are read once per cache.
 */
#ifndef SNAKESCOPE_SOURCE_H
#define SNAKESCOPE_SOURCE_H

#include <sys/types.h>

struct source_cache;

struct source_cache *source_new(pid_t pid);
void source_free(struct source_cache *sc);

/*
 * Line 'line' (1-based, without its newline) of the file the target knows
 * as 'filename', or NULL when it cannot be read (no such file, not a
 * file such as "<frozen ...>", too large, no such line).
 */
const char *source_line(struct source_cache *sc, const char *filename,
			int line);

#endif
