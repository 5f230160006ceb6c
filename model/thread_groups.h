/*
 * thread_groups.h - threads whose Python stacks are the same, told once.
 *
 * A pool of 200 workers parked at the same line makes 200 identical
 * stacks; the text dump shows such threads as one group: the stack once,
 * then every member's name and TID, compressed where they run in sequence
 * ("w0"-"w99", tids 101-200).  This is the pure part: which threads group
 * (thread_groups_build) and how a member list compresses (the runs).
 *
 * Two threads group when everything the text shows of them but their
 * names and ids is the same:
 *   - the same interpreter;
 *   - the same Python frames, in order: function, file and line each
 *     (and the module an import frame loads, and whether it changed
 *     while read); locals are not compared, so a dump with --locals
 *     groups nothing (see thread_groups_build());
 *   - the same kind of state, as the state line words it: active or
 *     idle, waiting for the GIL, running, or blocked in the same system
 *     call (or the same /proc state letter), collecting garbage or not,
 *     importing the same module, the same trace and profile functions,
 *     torn or not; holding the GIL is never grouped (one thread at most);
 *   - the same lock or thread waited for (waits_for): threads blocked on
 *     different locks are different stories in the locks section and in
 *     the verdicts, while 100 threads waiting on one queue are one;
 *   - the same stack note (cut at the frame limit, incomplete and why).
 * A thread with a native stack (--native) or without Python state is
 * never grouped: native stacks differ in addresses.
 *
 * Pure: reads the snapshot, never the target.
 */
#ifndef SNAKESCOPE_THREAD_GROUPS_H
#define SNAKESCOPE_THREAD_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"

struct thread_group {
	size_t *members; /* indices into the snapshot's threads, ascending;
			    members[0] is the group's first thread */
	size_t n;        /* >= 1: a group of 1 is a single thread */
};

struct thread_groups {
	struct thread_group *v; /* in order of their first member */
	size_t n;
	size_t *group_of;       /* per thread index: its group's index */
	size_t nthreads;
};

/*
 * Partition s's threads into groups (every thread is in exactly one;
 * groups keep the threads' order).  'locals': the snapshot carries
 * locals, which differ between threads whose stacks are the same, so
 * every thread is a group of its own.  g is filled (owned by the
 * caller: thread_groups_release()); it holds indices into s->threads,
 * valid while s's threads are not added to.  O(threads): stories are
 * hashed, and compared in full only with a same-hash group's first.
 */
void thread_groups_build(const struct snapshot *s, bool locals,
			 struct thread_groups *g);
void thread_groups_release(struct thread_groups *g);

/* Are threads a and b of one group (the rule above)? */
bool thread_same_story(const struct snap_thread *a,
		       const struct snap_thread *b);

/* A run of consecutive members [first, last] (indices into the list
 * given) that prints as one item: "w0"-"w9", or 101-110. */
struct thread_run {
	size_t first, last;
};

/*
 * Compress names[0..n) (NULL: an unnamed thread, a run of its own) into
 * runs of names that differ only in a decimal suffix counting up by one
 * (w0 w1 w2, or w08 w09 w10 when their digits are as many: w08 and w9
 * are not one run).  Writes at most n runs to runs[] and returns their
 * number.
 */
size_t thread_name_runs(const char *const *names, size_t n,
			struct thread_run *runs);

/* The same for numbers (TIDs) counting up by one: 101 102 103 -> one run.
 * A negative value (unknown) is a run of its own. */
size_t thread_int_runs(const int64_t *v, size_t n, struct thread_run *runs);

#endif
