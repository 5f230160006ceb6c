/*
 * locks.h - who holds which lock and who waits for which, read from the
 * target's frames and lock objects.
 *
 * Waits: a thread's innermost frames inside threading / queue / importlib
 * name the object it waits on (the method's self: a Condition, an Event,
 * a Thread being joined, a _ModuleLock...); a thread blocked in user code
 * waits on a Lock or RLock found on its innermost frame's value stack or
 * among its locals - on 3.13 and older the one whose semaphore is the
 * futex the thread sleeps on; from 3.14 (whose locks park threads
 * elsewhere) the locked one that the executing instruction operates on.
 * A task waits on what its await says (asyncio.Lock, Event, ...).
 *
 * Holders: an RLock's owner field, a _ModuleLock's owner, the thread a
 * join waits for, and for any lock entered with `with` / `async with`,
 * the thread or task whose frame keeps its __exit__ on the value stack
 * (see with_stack.h) - which also says where it was taken.  A plain Lock
 * acquired without `with` has no holder anyone can know.
 */
#ifndef SNAKESCOPE_LOCKS_H
#define SNAKESCOPE_LOCKS_H

#include "pystructs/pyproc.h"
#include "model/snapshot.h"

/* Fill s->locks and every thread's and task's waits_for (threads and
 * tasks already read), then the deadlock analysis (snap_find_deadlocks).
 * Best effort, never fails: what cannot be read is left out. */
void py_read_locks(struct py_proc *p, struct snapshot *s);

#endif
