/*
 * futures.h - concurrent.futures as the threads' frames show them: the
 * Future each thread waits for in result(), the work item each
 * ThreadPoolExecutor worker runs, the items queued in each pool.
 */
#ifndef SNAKESCOPE_FUTURES_H
#define SNAKESCOPE_FUTURES_H

#include "pystructs/pyproc.h"
#include "model/snapshot.h"

/*
 * Fill every thread's waits_future, future_timeout, runs_future and
 * executor, and s->works (running and queued work items), from the
 * threads already read (3.7+; before, nothing); then the executor
 * deadlock analysis (snap_find_executor_deadlocks).  Best effort, never
 * fails: what cannot be read is left out.  Reads target memory: paused
 * or not, like the lock reading.
 */
void py_read_futures(struct py_proc *p, struct snapshot *s);

#endif
