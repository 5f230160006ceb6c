/*
 * thread_state.h - what a thread is doing besides its frames: the GIL
 * (holds / waits), garbage collection, and the hooks that change how it
 * runs (sys.settrace, sys.setprofile, sys.monitoring tools, a PEP 523
 * frame evaluation function).
 */
#ifndef SNAKESCOPE_THREAD_STATE_H
#define SNAKESCOPE_THREAD_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "pystructs/pyproc.h"
#include "model/snapshot.h"

#define PY_MONITORING_TOOLS 8

/* What an interpreter tells about all its threads; read once. */
struct py_interp_facts {
	uint64_t gil_holder;      /* tstate holding the GIL, 0 none/unknown */
	bool holder_known;
	uint64_t gil_lo, gil_hi;  /* the GIL's bytes (futex addresses in
				     it mean "waiting for the GIL"); 0, 0
				     when unknown */
	bool collecting;          /* a collection is running */
	bool eval_hook;
	char *tools[PY_MONITORING_TOOLS]; /* sys.monitoring names or NULL */
};

void py_interp_facts_read(struct py_proc *p, uint64_t interp,
			  struct py_interp_facts *f);
void py_interp_facts_release(struct py_interp_facts *f);

/*
 * Fill t's GIL status, gc, trace/profile hooks, monitoring tools and eval
 * hook from the interpreter's facts and the thread state copied into ts
 * (t->os must already be set).
 */
void py_thread_state_fill(struct py_proc *p, const struct py_interp_facts *f,
			  const uint8_t *ts, uint64_t tstate,
			  struct snap_thread *t);

#endif
