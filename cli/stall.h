/*
 * stall.h - when 'snakescope watch --on-stall T' dumps: a state machine
 * fed with fingerprints of the target's Python stacks, with no I/O of its
 * own (the watch loop samples, checks verdicts and dumps; the tests feed
 * it by hand).
 *
 * The process has stalled when no thread's Python stack changed for T:
 * the same threads, each with the same frames (function, file, first
 * line, line).  A stall is dumped once; a change of any stack (progress)
 * re-arms it.  A deadlock verdict is dumped once too, when it appears; it
 * re-arms once a check finds it gone.  A dump for either disarms the
 * other until progress, so that a process deadlocked as a whole gives one
 * dump, not two.
 */
#ifndef SNAKESCOPE_STALL_H
#define SNAKESCOPE_STALL_H

#include <stdbool.h>
#include <stdint.h>

#include "model/sample.h"

struct stall {
	uint64_t period_ns;     /* T */
	uint64_t fp;            /* the stacks' last fingerprint */
	uint64_t since_ns;      /* when they last changed */
	uint64_t next_check_ns; /* the next deadlock check */
	bool have;              /* a fingerprint seen */
	bool armed;             /* a stall may be dumped */
	bool deadlock;          /* the last check found a deadlock (dumped
				   or not: reported once) */
};

/* Start with nothing seen; now_ns: a monotonic clock reading.  The first
 * deadlock check is due at once, the first stall T after the first
 * sample. */
void stall_init(struct stall *st, double period_s, uint64_t now_ns);

/*
 * The fingerprint of every thread's Python stack in s (threads and frames
 * in the order the sample holds them; strings are hashed, not their
 * addresses).  *torn is set when some stack changed while it was read:
 * that is progress whatever the fingerprint says.
 */
uint64_t stall_fingerprint(const struct sample *s, bool *torn);

/*
 * A sample at now_ns with fingerprint fp (progress: torn, or anything
 * else that proves the process moved).  Returns true when the stacks
 * have not changed for T and this stall was not dumped yet: dump now.
 * The stall is then disarmed until progress, whether the dump works or
 * not (one try per stall).
 */
bool stall_feed(struct stall *st, uint64_t fp, bool progress,
		uint64_t now_ns);

/* Is a deadlock check due at now_ns?  True once every T (the next one is
 * then counted from now_ns). */
bool stall_check_due(struct stall *st, uint64_t now_ns);

/*
 * A deadlock check's answer.  Returns true when a deadlock appears that
 * was not there at the last check: dump now, and call stall_dumped()
 * once the dump is written.
 */
bool stall_verdict(struct stall *st, bool deadlock);

/* A deadlock's dump was written: the stall it also is (when no thread
 * moves) is not dumped again until progress. */
void stall_dumped(struct stall *st);

/* How long the stacks have not changed at now_ns, in seconds. */
double stall_age(const struct stall *st, uint64_t now_ns);

#endif
