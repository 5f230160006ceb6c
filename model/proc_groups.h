/*
 * proc_groups.h - processes whose dumps are alike, told once.
 *
 * A multiprocessing pool, a gunicorn master's workers, a torchrun job's
 * ranks: many processes of one program, most of them at the same place.
 * 'snakescope dump PID PID...' (or --subprocesses) shows processes that
 * are alike as one group, the first one's dump standing for all, and
 * calls out the ones that differ by the frame where they differ.  This is
 * the pure part: which processes group (proc_groups_build) and where an
 * odd one differs from the rest (proc_differs).
 *
 * Two processes are alike when they run the same Python version and
 * their sets of thread stories are equal: every thread of one has a
 * thread of the other with
 *   - the same Python frames, in order: function, file and line each
 *     (and the module an import frame loads);
 *   - the same activity (active or idle) and the same system call
 *     blocked in (its name);
 * and the other way round.  How many threads tell each story is not
 * compared (a worker with one idle helper thread more is still alike),
 * nor anything that differs between processes of one program whatever
 * they do: PIDs, TIDs, thread names, addresses, the lock waited for
 * (an address), the GIL and the /proc state letter (a moment's
 * difference).  Threads without Python state (--native) are left out.
 * A process that could not be read (a NULL snapshot) is a group of its
 * own.
 *
 * Pure: reads the snapshots, never the targets.
 */
#ifndef SNAKESCOPE_PROC_GROUPS_H
#define SNAKESCOPE_PROC_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/snapshot.h"

struct proc_group {
	size_t *members; /* indices into the snapshots given, ascending */
	size_t n;        /* >= 1 */
};

struct proc_groups {
	struct proc_group *v; /* in order of their first member */
	size_t n;
	/* The group the others are told against: the largest of two
	 * processes or more (the first of the largest), or SIZE_MAX when
	 * every group is a single process. */
	size_t reference;
};

/*
 * Partition snaps[0..n) (NULL: a process not read) into groups of alike
 * processes (the rule above); every index is in exactly one group.  g is
 * filled, owned by the caller: proc_groups_release().  O(n * groups *
 * threads^2): meant for the processes of one job (tens to hundreds).
 */
void proc_groups_build(const struct snapshot *const *snaps, size_t n,
		       struct proc_groups *g);
void proc_groups_release(struct proc_groups *g);

/* Are processes a and b alike (the rule above; NULL is never alike)? */
bool proc_alike(const struct snapshot *a, const struct snapshot *b);

/*
 * Where process odd differs from process ref: the first thread of odd
 * (in snapshot order) whose story ref has none of, returned with
 * *missing false; else (odd tells no story ref lacks, so ref has one odd
 * lacks) the first such thread of ref, with *missing true.  NULL when the
 * two are alike or either is NULL.  The thread's innermost frame
 * (frames[0], when nframes > 0) names the place.
 */
const struct snap_thread *proc_differs(const struct snapshot *odd,
				       const struct snapshot *ref,
				       bool *missing);

#endif
