#include <config.h>

#include "pystructs/snapshot.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct snapshot *snap_new(void)
{
	return xcalloc(1, sizeof(struct snapshot));
}

static void thread_release(struct snap_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++) {
		free(t->frames[i].function);
		free(t->frames[i].filename);
	}
	free(t->frames);
	free(t->name);
	free(t->error);
}

void snap_free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nthreads; i++)
		thread_release(&s->threads[i]);
	free(s->threads);
	free(s->version);
	free(s->executable);
	free(s->libpython);
	free(s->warning);
	free(s);
}

struct snap_thread *snap_add_thread(struct snapshot *s)
{
	struct snap_thread *t;

	s->threads = xgrow(s->threads, &s->threads_cap, s->nthreads + 1,
			   sizeof(*s->threads));
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->native_id = -1;
	return t;
}

struct snap_frame *snap_add_frame(struct snap_thread *t)
{
	struct snap_frame *f;

	t->frames = xgrow(t->frames, &t->frames_cap, t->nframes + 1,
			  sizeof(*t->frames));
	f = &t->frames[t->nframes++];
	memset(f, 0, sizeof(*f));
	return f;
}
