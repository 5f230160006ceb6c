#include <config.h>

#include "common/clock.h"

#include <errno.h>
#include <time.h>

uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void clock_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int clock_sleep_until_ns(uint64_t t)
{
	struct timespec ts = { (time_t)(t / CLOCK_NS_PER_S),
			       (long)(t % CLOCK_NS_PER_S) };

	/* clock_nanosleep returns the error number, not -1/errno. */
	return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ?
	       -1 : 0;
}
