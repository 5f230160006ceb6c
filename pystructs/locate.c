#include <config.h>

#include "pystructs/locate.h"
#include "attach/elfsym.h"
#include "attach/proc.h"
#include "attach/rootfs.h"
#include "common/xalloc.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/runtime_scan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of .bss/.data searched for the version text. */
#define VERSION_SCAN_MAX (4u << 20)

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

/* Look for the version text in the target's copy of a binary's .data and
 * .bss (3.8-3.10 have no Py_Version). */
static bool version_from_memory(struct elf_file *ef, uint64_t bias,
				struct mem_reader *mem,
				struct py_runtime_info *out)
{
	static const char *const sections[] = { ".bss", ".data" };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		uint64_t addr, size;
		uint8_t *buf;
		bool found;

		if (!elfsym_section(ef, sections[i], &addr, &size))
			continue;
		if (size > VERSION_SCAN_MAX)
			size = VERSION_SCAN_MAX;
		buf = xmalloc(size);
		found = !mem_read(mem, addr + bias, buf, size, NULL) &&
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

/* The lowest mapping of a file (for /proc/PID/map_files). */
static const struct maps_entry *first_mapping(const struct maps *m,
					      const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].path, path))
			return &m->e[i];
	return NULL;
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

/* Look for the runtime in one mapped file; true when found. */
/* Symbols of state that no struct reaches (.symtab: unstripped builds
 * only).  Missing ones leave the facts they give unknown. */
static void find_state_symbols(const struct elf_file *ef, uint64_t bias,
			       struct py_runtime_info *out)
{
	uint64_t value, size;

	if (elfsym_lookup(ef, "_PyEval_EvalFrameDefault", &value, NULL))
		out->eval_frame_default = value + bias;
	if (out->runtime_kind != LAYOUT_RUNTIME_GLOBALS)
		return;
	if (elfsym_lookup(ef, "gil_cond", &value, &size) && size) {
		out->gil_static = value + bias; /* 3.6 */
		out->gil_static_size = size;
	} else if (elfsym_lookup(ef, "interpreter_lock", &value, &size) &&
		   size == 8) {
		out->gil_static = value + bias; /* 2.7: a sem_t pointer */
		out->gil_static_size = 32;
		out->gil_static_is_ptr = true;
	}
	if (elfsym_lookup(ef, "collecting", &value, &size) && size == 4)
		out->gc_collecting_static = value + bias;
}

/* Open the ELF file mapped at me, as the target sees it (rootfs.h); NULL
 * with the reason in *e when it cannot be. */
static struct elf_file *open_mapped(pid_t pid, const struct maps_entry *me,
				    struct err *e)
{
	int fd;

	if (rootfs_open_mapped(pid, me, ROOTFS_MAX_ELF, &fd, e))
		return NULL;
	return elfsym_open(fd, me->path, e);
}

/* Look for the runtime in one mapped file; true when found.  A file that
 * cannot be opened leaves its reason in *open_err, if that holds none. */
static bool probe(pid_t pid, const struct maps *m, struct mem_reader *mem,
		  const char *path, struct py_runtime_info *out,
		  struct err *open_err)
{
	const struct maps_entry *me = first_mapping(m, path);
	unsigned methods = locate_methods();
	struct elf_file *ef;
	uint64_t bias, value, size;
	bool found = false;
	struct err e;

	if (!me)
		return false;
	err_clear(&e);
	ef = open_mapped(pid, me, &e);
	if (!ef && e.code && !open_err->code)
		*open_err = e;
	if (!ef || elfsym_bias(ef, m, path, &bias, NULL)) {
		elfsym_free(ef);
		return false;
	}
	/* <=3.6: exported, so it usually survives stripping. */
	if (elfsym_lookup(ef, "_PyThreadState_Current", &value, NULL))
		out->tstate_current = value + bias;
	if ((methods & LOCATE_SYMBOLS) &&
	    elfsym_lookup(ef, "_PyRuntime", &value, NULL)) {
		out->runtime_kind = LAYOUT_RUNTIME_STRUCT;
		out->runtime = value + bias;
		found = true;
	} else if ((methods & LOCATE_SYMBOLS) &&
		   elfsym_lookup(ef, "interp_head", &value, NULL)) {
		/* 2.7 and 3.6 keep their state in separate globals. */
		out->runtime_kind = LAYOUT_RUNTIME_GLOBALS;
		out->runtime = value + bias;
		found = true;
	} else if ((methods & LOCATE_SECTION) &&
		   elfsym_section(ef, ".PyRuntime", &value, &size)) {
		out->runtime_kind = LAYOUT_RUNTIME_STRUCT;
		out->runtime = value + bias;
		found = true;
	} else if ((methods & LOCATE_SCAN) && runtime_scan(m, mem, path, out)) {
		found = true;
	}
	if (!found) {
		out->tstate_current = 0;
		elfsym_free(ef);
		return false;
	}
	out->debug_build = elfsym_lookup(ef, "_Py_NegativeRefcount", &value,
					 NULL);
	find_state_symbols(ef, bias, out);
	if (elfsym_lookup(ef, "Py_Version", &value, NULL)) {
		uint32_t v;

		if (!mem_read(mem, value + bias, &v, sizeof(v), NULL))
			out->version_hex = v;
	}
	if (!out->version_hex && !out->version_text[0]) {
		uint8_t hdr[DEBUG_OFFSETS_HEADER];

		/* 3.13+ without Py_Version in the symbol tables: the
		 * runtime's own debug table names the version. */
		if (out->runtime_kind == LAYOUT_RUNTIME_STRUCT &&
		    !mem_read(mem, out->runtime, hdr, sizeof(hdr), NULL))
			out->version_hex = debug_offsets_version(hdr);
		if (!out->version_hex)
			version_from_memory(ef, bias, mem, out);
	}
	elfsym_free(ef);
	snprintf(out->binary, sizeof(out->binary), "%s", path);
	out->in_libpython = is_libpython(path);
	return true;
}

int py_locate(pid_t pid, const struct maps *m, struct mem_reader *mem,
	      struct py_runtime_info *out, struct err *e)
{
	char exe[4096] = "";
	bool found = false;
	struct err open_err;

	memset(out, 0, sizeof(*out));
	err_clear(&open_err);
	proc_exe(pid, exe, sizeof(exe));
	/* " (deleted)" is not part of the path in the map. */
	if (strlen(exe) > 10 && !strcmp(exe + strlen(exe) - 10, " (deleted)"))
		exe[strlen(exe) - 10] = '\0';
	for (size_t i = 0; i < m->n && !found; i++) {
		const char *path = m->e[i].path;

		if (!is_libpython(path) || first_mapping(m, path) != &m->e[i])
			continue;
		found = probe(pid, m, mem, path, out, &open_err);
	}
	if (!found && *exe)
		found = probe(pid, m, mem, exe, out, &open_err);
	/* A file we could not read may well hold the runtime: say why
	 * rather than "not a Python process". */
	if (!found && open_err.code)
		return err_set(e, open_err.code, "cannot look for the Python "
			       "runtime of process %d: %s", (int)pid,
			       open_err.msg);
	if (!found)
		return err_set(e, SS_ENOTPY, "process %d (%s) is not a Python "
			       "process: no libpython is mapped and the "
			       "executable has no Python runtime", (int)pid,
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
			       "of process %d ('%s' has no Py_Version, no "
			       "version text in memory and names none)",
			       (int)pid, out->binary);
	}
	return 0;
}

/* 3.14+: asyncio's debug table, in _asyncio*.so or the file that holds
 * the runtime (when _asyncio is built in). */
bool py_locate_asyncio_debug(pid_t pid, const struct maps *m,
			     struct mem_reader *mem,
			     const struct py_runtime_info *rt, uint64_t *words,
			     size_t nwords)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *path = m->e[i].path, *base = strrchr(path, '/');
		const struct maps_entry *me;
		struct elf_file *ef;
		uint64_t bias, addr, size;
		bool ok = false;

		base = base ? base + 1 : path;
		if ((strncmp(base, "_asyncio", 8) && strcmp(path, rt->binary)) ||
		    (me = first_mapping(m, path)) != &m->e[i])
			continue;
		ef = open_mapped(pid, me, NULL);
		if (ef && !elfsym_bias(ef, m, path, &bias, NULL) &&
		    elfsym_section(ef, ".AsyncioDebug", &addr, &size) &&
		    size >= nwords * 8 &&
		    !mem_read(mem, addr + bias, words, nwords * 8, NULL))
			ok = true;
		elfsym_free(ef);
		if (ok)
			return true;
	}
	return false;
}
