#include <config.h>

#include "pystructs/locate.h"
#include "common/xalloc.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/runtime_scan.h"
#include "pystructs/version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool sym(const struct py_target *t, struct py_elf *f,
		       const char *name, uint64_t *addr, uint64_t *size)
{
	return t->ops->symbol(t->ctx, f, name, addr, size);
}

/* Bytes of .bss/.data searched for the version text. */
#define VERSION_SCAN_MAX (4u << 20)

/* Look for the version text in the target's copy of a binary's .data and
 * .bss (3.8-3.10 have no Py_Version). */
static bool version_from_memory(const struct py_target *t, struct py_elf *f,
				struct py_runtime_info *out)
{
	static const char *const sections[] = { ".bss", ".data" };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		uint64_t addr, size;
		uint8_t *buf;
		bool found;

		if (!t->ops->section(t->ctx, f, sections[i], &addr, &size))
			continue;
		if (size > VERSION_SCAN_MAX)
			size = VERSION_SCAN_MAX;
		buf = xmalloc(size);
		found = !mem_read(t->mem, addr, buf, size, NULL) &&
			py_version_from_text(buf, size, &out->major, &out->minor,
					     out->version_text,
					     sizeof(out->version_text));
		free(buf);
		if (found)
			return true;
	}
	return false;
}

static bool is_libpython(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libpython", strlen("libpython"));
}

/* Ways to find the runtime, tried in this order. */
enum locate_method {
	LOCATE_SYMBOLS = 1, /* _PyRuntime / interp_head in .symtab, .dynsym */
	LOCATE_SECTION = 2, /* the .PyRuntime section (3.10+) */
	LOCATE_SCAN = 4,    /* runtime_scan(): no symbols, no sections */
};

/*
 * All of them, unless SNAKESCOPE_LOCATE names a subset ("scan",
 * "section,scan"): a diagnostic for binaries whose symbols mislead, and
 * how the tests exercise each fallback on real processes.
 */
static unsigned locate_methods(void)
{
	const char *env = getenv("SNAKESCOPE_LOCATE");
	unsigned m = 0;

	if (!env || !*env)
		return LOCATE_SYMBOLS | LOCATE_SECTION | LOCATE_SCAN;
	if (strstr(env, "symbols"))
		m |= LOCATE_SYMBOLS;
	if (strstr(env, "section"))
		m |= LOCATE_SECTION;
	if (strstr(env, "scan"))
		m |= LOCATE_SCAN;
	return m;
}

/* Symbols of state that no struct reaches (.symtab: unstripped builds
 * only).  Missing ones leave the facts they give unknown. */
static void find_state_symbols(const struct py_target *t, struct py_elf *f,
			       struct py_runtime_info *out)
{
	uint64_t value, size;

	if (sym(t, f, "_PyEval_EvalFrameDefault", &value, NULL))
		out->eval_frame_default = value;
	if (out->runtime_kind != LAYOUT_RUNTIME_GLOBALS)
		return;
	if (sym(t, f, "gil_cond", &value, &size) && size) {
		out->gil_static = value; /* 3.6 */
		out->gil_static_size = size;
	} else if (sym(t, f, "interpreter_lock", &value, &size) &&
		   size == 8) {
		out->gil_static = value; /* 2.7: a sem_t pointer */
		out->gil_static_size = 32;
		out->gil_static_is_ptr = true;
	}
	if (sym(t, f, "collecting", &value, &size) && size == 4)
		out->gc_collecting_static = value;
}

/* Look for the runtime in one mapped file; true when found.  A file that
 * cannot be opened leaves its reason in *open_err, if that holds none. */
static bool probe(const struct py_target *t, const char *path,
		  struct py_runtime_info *out, struct err *open_err)
{
	const struct maps_entry *me = maps_first(t->maps, path);
	unsigned methods = locate_methods();
	struct py_elf *f;
	uint64_t value, size;
	bool found = false;
	struct err e;

	if (!me)
		return false;
	err_clear(&e);
	f = t->ops->open(t->ctx, me, &e);
	if (!f) {
		if (e.code && !open_err->code)
			*open_err = e;
		return false;
	}
	/* <=3.6: exported, so it usually survives stripping. */
	if (sym(t, f, "_PyThreadState_Current", &value, NULL))
		out->tstate_current = value;
	if ((methods & LOCATE_SYMBOLS) &&
	    sym(t, f, "_PyRuntime", &value, NULL)) {
		out->runtime_kind = LAYOUT_RUNTIME_STRUCT;
		out->runtime = value;
		found = true;
	} else if ((methods & LOCATE_SYMBOLS) &&
		   sym(t, f, "interp_head", &value, NULL)) {
		/* 2.7 and 3.6 keep their state in separate globals. */
		out->runtime_kind = LAYOUT_RUNTIME_GLOBALS;
		out->runtime = value;
		found = true;
	} else if ((methods & LOCATE_SECTION) &&
		   t->ops->section(t->ctx, f, ".PyRuntime", &value, &size)) {
		out->runtime_kind = LAYOUT_RUNTIME_STRUCT;
		out->runtime = value;
		found = true;
	} else if ((methods & LOCATE_SCAN) &&
		   runtime_scan(t->maps, t->mem, path, out)) {
		found = true;
	}
	if (!found) {
		out->tstate_current = 0;
		t->ops->close(t->ctx, f);
		return false;
	}
	out->debug_build = sym(t, f, "_Py_NegativeRefcount", &value, NULL);
	find_state_symbols(t, f, out);
	if (sym(t, f, "Py_Version", &value, NULL)) {
		uint32_t v;

		if (!mem_read(t->mem, value, &v, sizeof(v), NULL))
			out->version_hex = v;
	}
	if (!out->version_hex && !out->version_text[0]) {
		uint8_t hdr[DEBUG_OFFSETS_HEADER];

		/* 3.13+ without Py_Version in the symbol tables: the
		 * runtime's own debug table names the version. */
		if (out->runtime_kind == LAYOUT_RUNTIME_STRUCT &&
		    !mem_read(t->mem, out->runtime, hdr, sizeof(hdr), NULL))
			out->version_hex = debug_offsets_version(hdr);
		if (!out->version_hex)
			version_from_memory(t, f, out);
	}
	t->ops->close(t->ctx, f);
	snprintf(out->binary, sizeof(out->binary), "%s", path);
	out->in_libpython = is_libpython(path);
	return true;
}

int py_locate(const struct py_target *t, struct py_runtime_info *out,
	      struct err *e)
{
	const struct maps *m = t->maps;
	const char *exe = t->executable;
	bool found = false;
	struct err open_err;

	memset(out, 0, sizeof(*out));
	err_clear(&open_err);
	for (size_t i = 0; i < m->n && !found; i++) {
		const char *path = m->e[i].path;

		if (!is_libpython(path) || maps_first(m, path) != &m->e[i])
			continue;
		found = probe(t, path, out, &open_err);
	}
	if (!found && *exe)
		found = probe(t, exe, out, &open_err);
	/* A file we could not read may well hold the runtime: say why
	 * rather than "not a Python process". */
	if (!found && open_err.code)
		return err_set(e, open_err.code, "cannot look for the Python "
			       "runtime of %s: %s", t->name, open_err.msg);
	if (!found)
		return err_set(e, SS_ENOTPY, "%s (%s) is not a Python process: "
			       "no libpython is mapped and the executable has "
			       "no Python runtime", t->name,
			       *exe ? exe : "unknown executable");

	/* Sources in order of trust: Py_Version or the debug offsets, the
	 * version text in memory, and only then a file name. */
	if (out->version_hex) {
		out->major = out->version_hex >> 24;
		out->minor = (out->version_hex >> 16) & 0xff;
	} else if (!out->version_text[0] &&
		   !py_version_from_name(out->binary, &out->major, &out->minor) &&
		   !py_version_from_name(exe, &out->major, &out->minor)) {
		return err_set(e, SS_EBADBUILD, "cannot tell the Python version "
			       "of %s ('%s' has no Py_Version, no version text "
			       "in memory and names none)", t->name,
			       out->binary);
	}
	return 0;
}

/* 3.14+: asyncio's debug table, in _asyncio*.so or the file that holds
 * the runtime (when _asyncio is built in). */
bool py_locate_asyncio_debug(const struct py_target *t,
			     const struct py_runtime_info *rt, uint64_t *words,
			     size_t nwords)
{
	const struct maps *m = t->maps;

	for (size_t i = 0; i < m->n; i++) {
		const char *path = m->e[i].path, *base = strrchr(path, '/');
		struct py_elf *f;
		uint64_t addr, size;
		bool ok = false;

		base = base ? base + 1 : path;
		if ((strncmp(base, "_asyncio", 8) && strcmp(path, rt->binary)) ||
		    maps_first(m, path) != &m->e[i])
			continue;
		f = t->ops->open(t->ctx, &m->e[i], NULL);
		if (!f)
			continue;
		ok = t->ops->section(t->ctx, f, ".AsyncioDebug", &addr, &size) &&
		     size >= nwords * 8 &&
		     !mem_read(t->mem, addr, words, nwords * 8, NULL);
		t->ops->close(t->ctx, f);
		if (ok)
			return true;
	}
	return false;
}
