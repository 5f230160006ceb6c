#include <config.h>

#include "model/native.h"
#include "common/xalloc.h"

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

void py_native_merge(unsigned major, unsigned minor, struct snap_thread *t,
		     const char *unwind_error)
{
	const char *eval = py_eval_function(major, minor);
	struct snap_native *in = t->native;
	size_t nin = t->nnative, py = 0;
	unsigned k = 0;

	t->native = NULL;
	t->nnative = t->native_cap = 0;
	t->has_native = true;
	for (size_t i = 0; i < nin; i++) {
		struct snap_native n = in[i];

		n.eval = n.kind == SNAP_STACK_NATIVE && n.internal &&
			 py_is_eval_function(eval, n.function);
		if (n.eval) {
			while (py < t->nframes && t->frames[py].activation <= k)
				push_python(t, py++);
			k++;
		}
		push(t, &n);
	}
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
