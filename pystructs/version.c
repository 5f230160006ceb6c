#include <config.h>

#include "pystructs/version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool py_version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *base = strrchr(path, '/');
	const char *s;

	base = base ? base + 1 : path;
	for (s = strstr(base, "python"); s; s = strstr(s + 1, "python")) {
		const char *d = s + strlen("python");
		char *end;
		unsigned long maj, min;

		if (!isdigit((unsigned char)d[0]))
			continue;
		maj = strtoul(d, &end, 10);
		if (*end != '.' || !isdigit((unsigned char)end[1]))
			continue;
		min = strtoul(end + 1, NULL, 10);
		if (maj < 2 || maj > 9 || min > 99)
			continue;
		*major = (unsigned)maj;
		*minor = (unsigned)min;
		return true;
	}
	return false;
}

bool py_version_from_text(const uint8_t *buf, size_t len, unsigned *major,
			  unsigned *minor, char *out, size_t size)
{
	for (size_t i = 0; i + 8 < len; i++) {
		const char *s = (const char *)buf + i;
		const char *end = (const char *)buf + len;
		unsigned long maj, min, mic;
		char *p;

		if ((i > 0 && buf[i - 1] != 0) || buf[i] < '2' || buf[i] > '3' ||
		    buf[i + 1] != '.')
			continue;
		/* strtoul needs a terminator inside buf: the text is short. */
		if (memchr(s, '\0', (size_t)(end - s)) == NULL)
			break;
		maj = strtoul(s, &p, 10);
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			continue;
		min = strtoul(p + 1, &p, 10);
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			continue;
		mic = strtoul(p + 1, &p, 10);
		/* A release ("3.9.18 (main, ...") or pre-release ("3.10.0rc1 (") */
		while (isalnum((unsigned char)*p))
			p++;
		if (p[0] != ' ' || p[1] != '(' || min > 99 || mic > 99)
			continue;
		*major = (unsigned)maj;
		*minor = (unsigned)min;
		snprintf(out, size, "%.*s", (int)(p - s), s);
		return true;
	}
	return false;
}
