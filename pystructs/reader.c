#include <config.h>

#include "pystructs/reader.h"
#include "pystructs/code.h"
#include "pystructs/object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sys.version up to its first space ("3.9.18"), for versions without
 * Py_Version. */
static int read_sys_version(struct py_proc *p, struct err *e)
{
	uint64_t interp, sysdict, str;
	char *s;
	int rc;

	rc = mem_read_u64(p->mem, p->runtime +
			  (uint64_t)p->L.runtime.interpreters_head, &interp, e);
	if (!rc)
		rc = mem_read_u64(p->mem, interp + (uint64_t)p->L.interp.sysdict,
				  &sysdict, e);
	if (!rc)
		rc = py_dict_get_str(p, sysdict, "version", &str, e);
	if (!rc)
		rc = py_str_read(p, str, 24, &s, NULL, e);
	if (rc)
		return rc;
	s[strcspn(s, " ")] = '\0';
	snprintf(p->version, sizeof(p->version), "%s", s);
	free(s);
	return 0;
}

int py_proc_open(struct py_proc *p, struct mem_reader *mem,
		 const struct py_runtime_info *info, struct err *e)
{
	int rc = py_proc_init(p, mem, info, e);

	if (rc)
		return rc;
	if (!p->version[0] && read_sys_version(p, NULL))
		/* Without sys.version we still know major.minor. */
		snprintf(p->version, sizeof(p->version), "%u.%u", info->major,
			 info->minor);
	return 0;
}

void py_proc_recheck_version(struct py_proc *p)
{
	const char *dot = strchr(p->version, '.');

	if (!dot || !strchr(dot + 1, '.'))
		read_sys_version(p, NULL);
}

void py_proc_forget(struct py_proc *p)
{
	code_cache_free(p->codes);
	p->codes = NULL;
	p->generation++;
	memset(p->attr_index, 0, sizeof(p->attr_index));
	memset(p->tname, 0, sizeof(p->tname));
}

void py_proc_release(struct py_proc *p)
{
	py_proc_forget(p);
}
