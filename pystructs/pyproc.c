#include <config.h>

#include "pystructs/pyproc.h"
#include "common/xalloc.h"
#include "pystructs/code.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *py_supported_range(void)
{
	static char buf[32];
	unsigned lo, hi;

	layout_builtin_range(&lo, &hi);
	snprintf(buf, sizeof(buf), "3.%u-3.%u", lo, hi);
	return buf;
}

static void format_version(unsigned hex, char *buf, size_t size)
{
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *tag = level == 0xa ? "a" : level == 0xb ? "b" :
			  level == 0xc ? "rc" : "";

	if (*tag)
		snprintf(buf, size, "%u.%u.%u%s%u", hex >> 24, (hex >> 16) & 0xff,
			 (hex >> 8) & 0xff, tag, serial);
	else
		snprintf(buf, size, "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff,
			 (hex >> 8) & 0xff);
}

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

static int apply_debug_offsets(struct py_proc *p, struct err *e)
{
	uint8_t hdr[DEBUG_OFFSETS_HEADER], *buf;
	size_t size;
	int rc;

	rc = mem_read(p->mem, p->runtime, hdr, sizeof(hdr), e);
	if (rc)
		return rc;
	/* Before 3.13 _PyRuntime does not start with the table: keep the
	 * built-in layout. */
	if (!debug_offsets_version(hdr))
		return 0;
	size = debug_offsets_size(hdr);
	if (!size)
		return err_set(e, SS_EBADBUILD, "Python 3.%u runtime at 0x%llx "
			       "has no usable _Py_DebugOffsets", p->L.minor,
			       (unsigned long long)p->runtime);
	buf = xmalloc(size);
	rc = mem_read(p->mem, p->runtime, buf, size, e);
	if (!rc)
		rc = debug_offsets_apply(&p->L, buf, size, e);
	free(buf);
	if (!rc)
		p->layout_source = "_Py_DebugOffsets";
	return rc;
}

int py_proc_init(struct py_proc *p, struct mem_reader *mem,
		 const struct py_runtime_info *info, struct err *e)
{
	const struct py_layout *L;
	int rc;

	memset(p, 0, sizeof(*p));
	p->mem = mem;
	p->runtime = info->runtime;
	p->pthread_tid_offset = -1;
	L = info->major == 3 ? layout_builtin(3, info->minor) : NULL;
	if (!L) {
		char v[32];

		if (info->version_hex)
			format_version(info->version_hex, v, sizeof(v));
		else
			snprintf(v, sizeof(v), "%u.%u", info->major, info->minor);
		return err_set(e, SS_EUNSUPPORTED, "Python %s is not supported; "
			       "snakescope reads CPython %s", v,
			       py_supported_range());
	}
	p->L = *L;
	p->layout_source = "built-in table";
	rc = apply_debug_offsets(p, e);
	if (rc)
		return rc;
	if (info->version_hex) {
		format_version(info->version_hex, p->version, sizeof(p->version));
	} else if (info->version_text[0]) {
		snprintf(p->version, sizeof(p->version), "%s", info->version_text);
	} else if (read_sys_version(p, NULL)) {
		/* Without sys.version we still know major.minor. */
		snprintf(p->version, sizeof(p->version), "%u.%u", info->major,
			 info->minor);
	}
	return 0;
}

void py_proc_forget(struct py_proc *p)
{
	code_cache_free(p->codes);
	p->codes = NULL;
	p->attr_index.keys = 0;
}

void py_proc_release(struct py_proc *p)
{
	py_proc_forget(p);
}
