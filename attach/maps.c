#include <config.h>

#include "attach/maps.h"
#include "common/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#define DELETED_SUFFIX " (deleted)"

static int parse_line(char *line, struct maps_entry *out)
{
	unsigned long long lo, hi, off, ino;
	unsigned int major, minor;
	char perms[8];
	int pathpos = 0;
	char *path, *nl;
	size_t plen, slen = strlen(DELETED_SUFFIX);

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &lo, &hi, perms,
		   &off, &major, &minor, &ino, &pathpos) < 7 || hi < lo ||
	    strlen(perms) < 3)
		return -1;
	path = pathpos > 0 ? line + pathpos : line + strlen(line);
	nl = strchr(path, '\n');
	if (nl)
		*nl = '\0';
	plen = strlen(path);
	out->deleted = plen > slen && !strcmp(path + plen - slen, DELETED_SUFFIX);
	if (out->deleted)
		plen -= slen;
	out->lo = lo;
	out->hi = hi;
	out->offset = off;
	out->dev = makedev(major, minor);
	out->ino = ino;
	out->r = perms[0] == 'r';
	out->w = perms[1] == 'w';
	out->x = perms[2] == 'x';
	out->path = xstrndup(path, plen);
	return 0;
}

int maps_parse(FILE *f, struct maps *m, struct err *e)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t lineno = 0;

	memset(m, 0, sizeof(*m));
	while ((len = getline(&line, &cap, f)) > 0) {
		struct maps_entry ent;

		lineno++;
		if (m->n == MAPS_MAX_ENTRIES) {
			free(line);
			maps_release(m);
			return err_set(e, SS_ELIMIT, "more than %d mappings",
				       MAPS_MAX_ENTRIES);
		}
		if (parse_line(line, &ent) < 0) {
			free(line);
			maps_release(m);
			return err_set(e, SS_EIO, "malformed maps line %zu",
				       lineno);
		}
		m->e = xgrow(m->e, &m->cap, m->n + 1, sizeof(*m->e));
		m->e[m->n++] = ent;
	}
	free(line);
	return 0;
}

int maps_load(pid_t pid, struct maps *m, struct err *e)
{
	char path[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		memset(m, 0, sizeof(*m));
		if (errno == ENOENT || errno == ESRCH)
			return err_set(e, SS_ENOPROC, "no process with PID %d",
				       (int)pid);
		if (errno == EACCES || errno == EPERM)
			return err_set(e, SS_EPERM, "cannot read memory map "
				       "of process %d", (int)pid);
		return err_set(e, SS_EIO, "cannot open '%s'", path);
	}
	rc = maps_parse(f, m, e);
	fclose(f);
	if (!rc && m->n == 0)
		/* A zombie or a kernel thread has no mappings. */
		return err_set(e, SS_EEXITED, "process %d has no memory map",
			       (int)pid);
	return rc;
}
