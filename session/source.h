/*
 * source.h - the target's source files, read as the target sees them
 * (inside its own root: attach/rootfs.h, so a process in a container or
 * a chroot resolves, and no FIFO or device is ever read), for the source
 * lines of a text dump and of top.  Files are read once per cache.
 */
#ifndef SNAKESCOPE_SOURCE_H
#define SNAKESCOPE_SOURCE_H

#include <stdint.h>
#include <sys/types.h>

struct source_cache;

/* How a cache opens the file a target names: 0 with *fd (a regular file
 * of at most max bytes, rootfs.h), or an error. */
typedef int (*source_open_fn)(void *arg, const char *name, uint64_t max,
			      int *fd);

/* A cache reading through open(arg, ...): session_source() gives one
 * bound to a session; tests give their own. */
struct source_cache *source_new(source_open_fn open, void *arg);
void source_free(struct source_cache *sc);

/*
 * Line 'line' (1-based, without its newline) of the file the target knows
 * as 'filename', or NULL when it cannot be read (no such file, not a
 * file such as "<frozen ...>", too large, no such line).
 */
const char *source_line(struct source_cache *sc, const char *filename,
			int line);

#endif
