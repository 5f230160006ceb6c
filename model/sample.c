#include <config.h>

#include "model/sample.h"

#include <stdlib.h>
#include <string.h>

void sample_release(struct sample *s)
{
	free(s->threads);
	free(s->frames);
	memset(s, 0, sizeof(*s));
}
