#include <config.h>

#include "model/task_stack.h"
#include "common/xalloc.h"

#include <string.h>

static bool same_code(const struct sample_frame *a,
		      const struct sample_frame *b)
{
	return a->first_line == b->first_line && a->function && b->function &&
	       a->filename && b->filename && !strcmp(a->function, b->function) &&
	       !strcmp(a->filename, b->filename);
}

long task_stack_entry(const struct sample_frame *stack, size_t n,
		      const struct task_stack_link *running)
{
	if (!running->nframes)
		return -1;
	/* From the root: the loop's machinery below the task has none of
	 * the task's code, and a coroutine that awaits itself again (the
	 * same function, called recursively) enters at the outermost. */
	for (size_t i = n; i-- > 0;)
		if (!stack[i].native && same_code(&stack[i], &running->frames[0]))
			return (long)i;
	return -1;
}

static void put(struct sample *out, const struct sample_frame *f)
{
	out->frames = xgrow(out->frames, &out->frames_cap, out->nframes + 1,
			    sizeof(*out->frames));
	out->frames[out->nframes++] = *f;
}

size_t task_stack_splice(struct sample *out, const struct sample_frame *stack,
			 size_t n, const struct task_stack_link *links,
			 size_t nlinks)
{
	size_t before = out->nframes;
	long entry;

	if (!nlinks || (entry = task_stack_entry(stack, n,
						 &links[nlinks - 1])) < 0)
		return 0;
	/* innermost first: the running task's part of the stack, its mark,
	 * then each awaiter's frames (innermost first) and mark, from the
	 * nearest awaiter out, then the loop below the running task */
	for (size_t i = 0; i <= (size_t)entry; i++)
		put(out, &stack[i]);
	put(out, &links[nlinks - 1].mark);
	for (size_t k = nlinks - 1; k-- > 0;) {
		for (size_t i = links[k].nframes; i-- > 0;)
			put(out, &links[k].frames[i]);
		put(out, &links[k].mark);
	}
	for (size_t i = (size_t)entry + 1; i < n; i++)
		put(out, &stack[i]);
	return out->nframes - before;
}
