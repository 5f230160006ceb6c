/*
 * A library for boundary.py, built twice by tests/live/boundary_check.py:
 * once with SIDE=mapped (the file the target maps) and once with
 * SIDE=other (the file it then mounts over that path in its own mount
 * namespace).  A dump must name the mapped file's function, never the
 * other's.
 */
#include <unistd.h>

#define JOIN(a, b) a##b
#define NAME(side) JOIN(side, _side_wait)

__attribute__((noinline)) void NAME(SIDE)(void)
{
	for (;;)
		pause();
}
