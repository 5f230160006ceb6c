#include <config.h>

#include "cli/stall.h"
#include "common/clock.h"

#include <stddef.h>
#include <string.h>

/* FNV-1a, 64 bits: enough to tell two stacks apart (a collision would
 * only delay a dump until the next change). */
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof(v));
}

/* The string and its end: "ab" + "c" differs from "a" + "bc". */
static uint64_t mix_str(uint64_t h, const char *s)
{
	if (!s)
		return mix_u64(h, 0);
	return mix(h, s, strlen(s) + 1);
}

void stall_init(struct stall *st, double period_s, uint64_t now_ns)
{
	memset(st, 0, sizeof(*st));
	st->period_ns = (uint64_t)(period_s * CLOCK_NS_PER_S);
	st->next_check_ns = now_ns;
}

uint64_t stall_fingerprint(const struct sample *s, bool *torn)
{
	uint64_t h = mix_u64(FNV_OFFSET, s->nthreads);

	*torn = false;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct sample_thread *t = &s->threads[i];

		if (t->torn)
			*torn = true;
		h = mix_u64(h, t->thread_id);
		h = mix_u64(h, t->nframes);
		/* The sampler keeps first + nframes inside frames[]; a
		 * sample made by hand is checked all the same. */
		for (size_t k = 0; k < t->nframes && t->first + k < s->nframes;
		     k++) {
			const struct sample_frame *f = &s->frames[t->first + k];

			h = mix_str(h, f->function);
			h = mix_str(h, f->filename);
			h = mix_u64(h, (uint64_t)(int64_t)f->first_line);
			h = mix_u64(h, (uint64_t)(int64_t)f->line);
		}
	}
	return h;
}

bool stall_feed(struct stall *st, uint64_t fp, bool progress,
		uint64_t now_ns)
{
	if (!st->have || progress || fp != st->fp) {
		st->have = true;
		st->fp = fp;
		st->since_ns = now_ns;
		st->armed = true;
		return false;
	}
	if (st->armed && now_ns - st->since_ns >= st->period_ns) {
		st->armed = false;
		return true;
	}
	return false;
}

bool stall_check_due(struct stall *st, uint64_t now_ns)
{
	if (now_ns < st->next_check_ns)
		return false;
	st->next_check_ns = now_ns + st->period_ns;
	return true;
}

bool stall_verdict(struct stall *st, bool deadlock)
{
	bool appears = deadlock && !st->deadlock;

	st->deadlock = deadlock;
	return appears;
}

void stall_dumped(struct stall *st)
{
	st->armed = false;
}

double stall_age(const struct stall *st, uint64_t now_ns)
{
	if (!st->have || now_ns < st->since_ns)
		return 0;
	return (double)(now_ns - st->since_ns) / CLOCK_NS_PER_S;
}
