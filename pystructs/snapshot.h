/*
 * snapshot.h - the seam of the program: what a target looked like at one
 * moment.  Built by pystructs/, consumed by cli/ writers (and later tui/).
 * Immutable once built; every string is owned by the snapshot and is
 * UTF-8 straight from the target (writers escape it for display).
 */
#ifndef SNAKESCOPE_SNAPSHOT_H
#define SNAKESCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct snap_frame {
	char *function; /* co_qualname (3.11+) or co_name; "<unknown>" */
	char *filename;
	int line;       /* -1 when the instruction has no line */
	uint64_t code;  /* code object address (for identity) */
};

struct snap_thread {
	uint64_t thread_id;  /* threading.get_ident() (pthread_t) */
	int64_t native_id;   /* Linux TID, -1 if unknown */
	int64_t interp_id;   /* interpreter id (0 = main) */
	char *name;          /* threading name, else OS comm, else NULL */
	bool holds_gil;
	struct snap_frame *frames; /* innermost first */
	size_t nframes, frames_cap;
	bool truncated;      /* stack longer than the frame limit */
	char *error;         /* why the stack may be incomplete, or NULL */
};

struct snapshot {
	pid_t pid;
	char *version;     /* "3.12.1" */
	char *executable;  /* target's executable path */
	char *libpython;   /* libpython path, or NULL when linked in */
	char *warning;     /* why the reading may be wrong (a version newer
			      than snakescope knows), or NULL */
	bool paused;       /* read with the target stopped */
	struct snap_thread *threads; /* main thread first */
	size_t nthreads, threads_cap;
};

struct snapshot *snap_new(void);
void snap_free(struct snapshot *s);

/* Append a zeroed thread / frame and return it (arrays grow; pointers to
 * earlier elements are invalidated). */
struct snap_thread *snap_add_thread(struct snapshot *s);
struct snap_frame *snap_add_frame(struct snap_thread *t);

#endif
