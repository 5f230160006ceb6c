#include <config.h>

#include "pystructs/pyproc.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "pystructs/debug_offsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout differences inside one minor version, which the generated tables
 * (one per minor, from its newest patch release) cannot show.
 */
struct patch_fix {
	unsigned major, minor, last_micro; /* applies to X.Y.0 - X.Y.last */
	size_t layout_off;
	int value;
};

static const struct patch_fix patch_fixes[] = {
	/* 3.7.4 grew PyGC_Head from 24 to 32 bytes (bpo-27987), which moved
	 * every _PyRuntimeState field after 'gc' by 88 bytes. */
	{ 3, 7, 3, offsetof(struct py_layout, runtime.tstate_current), 1392 },
};

const char *py_supported_range(void)
{
	static char buf[64];
	const struct py_layout *const *all;
	struct strbuf sb;
	size_t n;

	if (buf[0])
		return buf;
	all = layout_builtin_all(&n);
	strbuf_init(&sb);
	/* Runs of consecutive minors: "2.7, 3.6-3.15". */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j + 1 < n && all[j + 1]->major == all[i]->major &&
		       all[j + 1]->minor == all[j]->minor + 1)
			j++;
		strbuf_addf(&sb, "%s%u.%u", i ? ", " : "", all[i]->major,
			      all[i]->minor);
		if (j > i)
			strbuf_addf(&sb, "-%u.%u", all[j]->major,
				      all[j]->minor);
		i = j;
	}
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	strbuf_release(&sb);
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

/* The micro version ("3.7.3" -> 3), or -1 when unknown. */
static int micro_of(const struct py_runtime_info *info)
{
	const char *s = info->version_text;
	unsigned maj, min, mic;

	if (info->version_hex)
		return (int)((info->version_hex >> 8) & 0xff);
	if (sscanf(s, "%u.%u.%u", &maj, &min, &mic) == 3)
		return (int)mic;
	return -1;
}

bool py_interp_links_back(struct mem_reader *mem, const struct py_layout *L,
			  uint64_t interp, uint64_t *first)
{
	uint64_t tstate, back, frame;

	*first = 0;
	if (!py_ptr_ok(interp) ||
	    mem_read_u64(mem, interp + (uint64_t)L->interp.threads_head,
			 &tstate, NULL))
		return false;
	if (!tstate)
		return true;
	if (!py_ptr_ok(tstate) ||
	    mem_read_u64(mem, tstate + (uint64_t)L->tstate.interp, &back,
			 NULL) || back != interp ||
	    mem_read_u64(mem, tstate + (uint64_t)L->tstate.frame, &frame,
			 NULL) || (frame && !py_ptr_ok(frame)))
		return false;
	*first = tstate;
	return true;
}

/* For a guessed table shape: the offsets must describe this process's
 * own structures (see py_interp_links_back()). */
static int check_structure(struct py_proc *p, struct err *e)
{
	uint64_t interp, first;

	if (mem_read_u64(p->mem, p->runtime +
			 (uint64_t)p->L.runtime.interpreters_head, &interp, NULL))
		return err_set(e, SS_EBADBUILD, "cannot read the interpreter "
			       "list head");
	/* No interpreter (starting or finalizing): nothing to read anyway. */
	if (interp && !py_interp_links_back(p->mem, &p->L, interp, &first))
		return err_set(e, SS_EBADBUILD, "the first thread state does "
			       "not point back at its interpreter");
	return 0;
}

/*
 * 3.13+: overlay the target's _Py_DebugOffsets onto the built-in layout of
 * the table's shape (for a target newer than any table, the newest one).
 * Before 3.13 (no cookie) p->L is left alone.
 */
static int apply_debug_offsets(struct py_proc *p,
			       const struct py_runtime_info *info,
			       struct err *e)
{
	uint8_t hdr[DEBUG_OFFSETS_HEADER], *buf;
	const struct layout_dbg_desc *d;
	const struct py_layout *base;
	bool guess;
	char v[32];
	int rc;

	rc = mem_read(p->mem, p->runtime, hdr, sizeof(hdr), e);
	if (rc)
		return rc;
	if (!debug_offsets_version(hdr)) {
		if (p->L.major == 3 && p->L.minor >= 13)
			return err_set(e, SS_EBADBUILD, "Python %s runtime at "
				       "0x%llx does not start with "
				       "_Py_DebugOffsets", p->version,
				       (unsigned long long)p->runtime);
		return 0; /* before 3.13: the built-in layout alone */
	}
	format_version(debug_offsets_version(hdr), v, sizeof(v));
	if (debug_offsets_free_threaded(hdr))
		return err_set(e, SS_EBADBUILD, "Python %s is a free-threaded "
			       "build (Py_GIL_DISABLED); snakescope reads only "
			       "builds with the GIL", v);
	d = debug_offsets_desc(hdr, &guess);
	if (!d)
		return err_set(e, SS_EUNSUPPORTED, "Python %s is not supported "
			       "and its _Py_DebugOffsets table has no known "
			       "shape; snakescope reads CPython %s", v,
			       py_supported_range());
	base = layout_builtin(d->major, d->minor);
	if (!base || (info->major && (info->major != d->major ||
				      info->minor < d->minor)))
		return err_set(e, SS_EBADBUILD, "Python %s: _Py_DebugOffsets "
			       "disagree with the version found (%u.%u)", v,
			       info->major, info->minor);
	p->L = *base;
	buf = xmalloc(d->size);
	rc = mem_read(p->mem, p->runtime, buf, d->size, e);
	if (!rc)
		rc = debug_offsets_apply(&p->L, d, buf, d->size, guess, e);
	free(buf);
	if (!rc && guess)
		rc = check_structure(p, e);
	if (rc && guess) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e ? e->msg : "");
		return err_set(e, SS_EUNSUPPORTED, "Python %s is not supported: "
			       "its _Py_DebugOffsets do not read consistently "
			       "as %u.%u's (%s); snakescope reads CPython %s",
			       v, d->major, d->minor, why,
			       py_supported_range());
	}
	if (rc)
		return rc;
	p->layout_source = "_Py_DebugOffsets";
	if (guess)
		snprintf(p->warning, sizeof(p->warning), "Python %s is not a "
			 "release this snakescope knows (it reads CPython %s); "
			 "reading it through its own _Py_DebugOffsets as %u.%u",
			 v, py_supported_range(), d->major, d->minor);
	return 0;
}

static int unsupported(const struct py_runtime_info *info, struct err *e)
{
	char v[32];

	if (info->version_hex)
		format_version(info->version_hex, v, sizeof(v));
	else if (info->version_text[0])
		snprintf(v, sizeof(v), "%s", info->version_text);
	else
		snprintf(v, sizeof(v), "%u.%u", info->major, info->minor);
	return err_set(e, SS_EUNSUPPORTED, "Python %s is not supported; "
		       "snakescope reads CPython %s", v, py_supported_range());
}

int py_proc_init(struct py_proc *p, struct mem_reader *mem,
		 const struct py_runtime_info *info, struct err *e)
{
	const struct py_layout *L;
	int micro = micro_of(info);
	int rc;

	memset(p, 0, sizeof(*p));
	p->mem = mem;
	p->runtime = info->runtime;
	p->tstate_current = info->tstate_current;
	p->pthread_tid_offset = -1;
	p->eval_frame_default = info->eval_frame_default;
	p->gil_static = info->gil_static;
	p->gil_static_size = info->gil_static_size;
	p->gil_static_is_ptr = info->gil_static_is_ptr;
	p->gc_collecting_static = info->gc_collecting_static;
	if (info->version_hex)
		format_version(info->version_hex, p->version, sizeof(p->version));
	else if (info->version_text[0])
		snprintf(p->version, sizeof(p->version), "%s", info->version_text);
	L = layout_builtin(info->major, info->minor);
	if (L) {
		p->L = *L;
	} else if (info->runtime_kind != LAYOUT_RUNTIME_STRUCT ||
		   info->major != 3 || info->minor < 13) {
		return unsupported(info, e);
	}
	p->layout_source = "built-in table";
	if (info->runtime_kind == LAYOUT_RUNTIME_STRUCT) {
		rc = apply_debug_offsets(p, info, e);
		if (rc)
			return rc;
		if (!p->L.major) /* no table, and no debug offsets */
			return unsupported(info, e);
	}
	if ((int)p->L.runtime.kind != info->runtime_kind)
		return err_set(e, SS_EBADBUILD, "Python %u.%u keeps its state in "
			       "%s, but this process has %s", info->major,
			       info->minor,
			       p->L.runtime.kind == LAYOUT_RUNTIME_STRUCT ?
			       "_PyRuntime" : "interp_head",
			       info->runtime_kind == LAYOUT_RUNTIME_STRUCT ?
			       "_PyRuntime" : "interp_head");
	/* Py_DEBUG changes internal structs before 3.13; from 3.13 the
	 * target's own debug offsets describe them. */
	if (info->debug_build && strcmp(p->layout_source, "_Py_DebugOffsets"))
		return err_set(e, SS_EUNSUPPORTED, "Python %u.%u debug build "
			       "(Py_DEBUG) is not supported: its structures "
			       "differ from release builds (debug builds are "
			       "read from 3.13 on)", info->major, info->minor);
	/* Interpreter fields the debug offsets do not give sit elsewhere in
	 * a debug build than the release headers say: unknown there. */
	if (info->debug_build) {
		p->L.interp.eval_frame = LAYOUT_NONE;
		p->L.interp.monitoring_tool_names = LAYOUT_NONE;
		p->hooks_unknown = true;
	}
	for (size_t i = 0; i < sizeof(patch_fixes) / sizeof(patch_fixes[0]); i++) {
		const struct patch_fix *f = &patch_fixes[i];

		if (f->major == p->L.major && f->minor == p->L.minor &&
		    micro >= 0 && (unsigned)micro <= f->last_micro)
			*(int *)((char *)&p->L + f->layout_off) = f->value;
	}
	return 0;
}
