#include <config.h>

#include "attach/demangle.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_CXA_DEMANGLE
/* libstdc++'s demangler (the C++ ABI's, <cxxabi.h>), callable from C. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
			    int *status);
#endif

bool demangle_available(void)
{
#ifdef HAVE_CXA_DEMANGLE
	return true;
#else
	return false;
#endif
}

char *demangle_cxx(const char *name)
{
#ifdef HAVE_CXA_DEMANGLE
	char *out;
	int status = 0;

	/* "_Z" starts every Itanium-ABI function name; anything else (C
	 * names, types, "_GLOBAL__sub_I_...") is kept as it is. */
	if (!name || strncmp(name, "_Z", 2) ||
	    strnlen(name, DEMANGLE_MAX_IN + 1) > DEMANGLE_MAX_IN)
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0 || !out) {
		free(out);
		return NULL;
	}
	if (strlen(out) > DEMANGLE_MAX_OUT)
		memcpy(out + DEMANGLE_MAX_OUT - 3, "...", 4);
	return out;
#else
	(void)name;
	return NULL;
#endif
}
