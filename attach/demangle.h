/*
 * demangle.h - C++ symbol names as a person reads them.
 *
 * "_ZN2nt6WaiterIiE4waitEi" -> "nt::Waiter<int>::wait(int)", by the
 * system's own demangler (libstdc++'s __cxa_demangle, linked when
 * configure finds it).  Names come from the target's files: only names
 * of a bounded length that start as Itanium-ABI names are given to it,
 * and what it returns is cut to a bounded length.  Thread-safe, no state.
 */
#ifndef SNAKESCOPE_DEMANGLE_H
#define SNAKESCOPE_DEMANGLE_H

#include <stdbool.h>

/* Longest mangled name tried, and longest readable form kept (longer
 * ones end in "..."). */
#define DEMANGLE_MAX_IN 4096
#define DEMANGLE_MAX_OUT 1024

/* Is this build able to demangle (was __cxa_demangle linked)? */
bool demangle_available(void);

/* The readable form of 'name' (malloc'd, the caller frees it), or NULL
 * when it is no mangled C++ name, is too long, or cannot be demangled. */
char *demangle_cxx(const char *name);

#endif
