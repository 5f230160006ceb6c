/*
 * clock.h - the monotonic clock and sleeping on it.
 */
#ifndef SNAKESCOPE_CLOCK_H
#define SNAKESCOPE_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_S 1000000000ULL

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t clock_mono_ns(void);

/* Sleep ms milliseconds, through signals. */
void clock_sleep_ms(unsigned ms);

/* Sleep until clock_mono_ns() reaches t.  Returns 0, or -1 when a signal
 * handler ran first (the caller decides whether to go on). */
int clock_sleep_until_ns(uint64_t t);

#endif
