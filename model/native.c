#include <config.h>

#include "model/native.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *py_eval_function(unsigned major, unsigned minor)
{
	(void)minor;
	/* 3.6+ run frames through the PEP 523 default. */
	return major < 3 ? "PyEval_EvalFrameEx" : "_PyEval_EvalFrameDefault";
}

bool py_is_eval_function(const char *eval, const char *name)
{
	size_t n = strlen(eval);

	return name && !strncmp(name, eval, n) &&
	       (name[n] == '\0' || name[n] == '.');
}

static void push(struct snap_thread *t, const struct snap_native *n)
{
	*snap_add_native(t) = *n;
}

static void push_python(struct snap_thread *t, size_t py)
{
	struct snap_native *n = snap_add_native(t);

	n->kind = SNAP_STACK_PYTHON;
	n->py = py;
}

static void push_mark(struct snap_thread *t, const char *note)
{
	struct snap_native *n = snap_add_native(t);

	n->kind = SNAP_STACK_MARK;
	n->note = xstrdup(note);
}

/*
 * Without a name for the evaluation loop (a stripped binary without its
 * debug file; or the name covers a small part of the loop, as the
 * exported _PyEval_EvalFrameDefault of Debian's 3.14), each activation is
 * found by a local it keeps on the C stack (t->eval_at): the native frame
 * whose stack range, from its stack pointer up to the next frame's,
 * holds it ('complete': the stack was unwound to its end).  Fills act[i]
 * with the activation native frame i runs, or -1; returns how many were
 * found.
 */
static size_t by_address(const struct snap_thread *t,
			 const struct snap_native *in, size_t nin,
			 bool complete, long *act)
{
	size_t found = 0, k = 0;

	for (size_t i = 0; i < nin; i++) {
		/* The outermost frame of a stack unwound to its end holds
		 * the rest of it; where unwinding stopped early, nothing is
		 * known above the last frame's locals. */
		uint64_t lo = in[i].sp, hi = complete ? UINT64_MAX : 0;

		act[i] = -1;
		if (in[i].kind != SNAP_STACK_NATIVE || !lo)
			continue;
		for (size_t j = i + 1; j < nin; j++)
			if (in[j].kind == SNAP_STACK_NATIVE && in[j].sp) {
				hi = in[j].sp;
				break;
			}
		/* The stack grows down: outer activations lie higher, so
		 * one pass over both, innermost first. */
		while (k < t->neval_at && t->eval_at[k] &&
		       t->eval_at[k] < lo)
			k++;
		while (k < t->neval_at && !t->eval_at[k])
			k++;
		if (hi && k < t->neval_at && t->eval_at[k] >= lo &&
		    t->eval_at[k] < hi) {
			act[i] = (long)k++;
			found++;
		}
	}
	return found;
}

void py_native_merge(unsigned major, unsigned minor, struct snap_thread *t,
		     const char *unwind_error)
{
	py_native_merge_by(major, minor, t, unwind_error, PY_EVAL_FIND_ANY);
}

void py_native_merge_by(unsigned major, unsigned minor, struct snap_thread *t,
			const char *unwind_error, enum py_eval_find how)
{
	const char *eval = py_eval_function(major, minor);
	struct snap_native *in = t->native;
	size_t nin = t->nnative, py = 0;
	long *act = xcalloc(nin + 1, sizeof(*act));
	bool named = false;
	unsigned k = 0;

	for (size_t i = 0; i < nin && !named && how == PY_EVAL_FIND_ANY; i++)
		named = in[i].kind == SNAP_STACK_NATIVE && in[i].internal &&
			py_is_eval_function(eval, in[i].function);
	if (named || (!by_address(t, in, nin, !unwind_error, act) &&
		      how == PY_EVAL_FIND_ANY))
		for (size_t i = 0; i < nin; i++)
			act[i] = in[i].kind == SNAP_STACK_NATIVE &&
				 in[i].internal &&
				 py_is_eval_function(eval, in[i].function) ?
				 (long)k++ : -1;
	t->native = NULL;
	t->nnative = t->native_cap = 0;
	t->has_native = true;
	for (size_t i = 0; i < nin; i++) {
		struct snap_native n = in[i];

		n.eval = act[i] >= 0;
		if (n.eval)
			while (py < t->nframes &&
			       t->frames[py].activation <= (unsigned long)act[i])
				push_python(t, py++);
		push(t, &n);
	}
	free(act);
	free(in);
	if (unwind_error)
		push_mark(t, unwind_error);
	if (py < t->nframes) {
		if (!unwind_error)
			push_mark(t, py ? "the Python frames below have no "
				  "evaluation-loop frame in the native stack" :
				  "no evaluation-loop frame in the native stack "
				  "(its name is unknown: no symbols for it); the "
				  "Python frames follow");
		while (py < t->nframes)
			push_python(t, py++);
	}
}

bool py_native_shown(const struct snap_thread *t, size_t i, bool all)
{
	const struct snap_native *n = &t->native[i];

	return all || n->kind != SNAP_STACK_NATIVE || (!n->eval && !n->internal);
}

/* A frame of no Python code, named (function, filename). */
static void named_frame(struct snap_frame *f, const char *function,
			const char *filename)
{
	memset(f, 0, sizeof(*f));
	f->function = xstrdup(function);
	f->filename = xstrdup(filename);
	f->line = f->end_line = f->column = f->end_column = -1;
}

void py_native_flatten(struct snap_thread *t, bool all)
{
	size_t n = 0, cap = t->nnative;
	struct snap_frame *v;

	if (!cap)
		return;
	v = xcalloc(cap, sizeof(*v));
	for (size_t k = 0; k < t->nnative; k++) {
		const struct snap_native *e = &t->native[k];
		size_t len;
		char *note;

		if (!py_native_shown(t, k, all))
			continue;
		if (e->kind == SNAP_STACK_PYTHON && e->py < t->nframes &&
		    t->frames[e->py].function) {
			/* moved: what is left behind holds nothing */
			v[n++] = t->frames[e->py];
			memset(&t->frames[e->py], 0, sizeof(t->frames[e->py]));
		} else if (e->kind == SNAP_STACK_NATIVE) {
			named_frame(&v[n++], e->function ? e->function : "??",
				    e->library ? e->library : "??");
		} else if (e->kind == SNAP_STACK_MARK && e->note) {
			len = strlen(e->note) + 3;
			note = xmalloc(len);
			snprintf(note, len, "[%s]", e->note);
			named_frame(&v[n], "", "snakescope");
			free(v[n].function);
			v[n++].function = note;
		}
	}
	snap_thread_release_frames(t);
	snap_thread_release_native(t);
	t->frames = v;
	t->nframes = n;
	t->frames_cap = cap;
}
