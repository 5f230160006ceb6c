#include <config.h>

#include "attach/symbols.h"
#include "attach/demangle.h"
#include "attach/elfsym.h"
#include "attach/rootfs.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on what a file may make us hold. */
#define SYMTAB_MAX_SYMBOLS (4u << 20)
#define SYMTAB_MAX_NAME 4096
#define BUILD_ID_MAX 64
/* Symbols nested in others (rare) are looked for this far back. */
#define SYMTAB_NEST_SCAN 64
/* Directories above the object's own looked at for lib/debug. */
#define DEBUG_ANCESTORS 6

struct sym {
	uint64_t start, size;
	uint32_t name;   /* offset in names */
	uint8_t source;  /* enum sym_source */
	uint8_t rank;    /* binding: 2 global, 1 weak, 0 local */
};

/* A demangled name, by the offset of its mangled one in names. */
struct demangled {
	uint32_t name;
	char *text; /* NULL: not a C++ name (the slot is used) */
	bool used;
};

struct symtab {
	struct sym *s;
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
	char *debug_file;
	struct demangled *dm; /* open addressing, ndm_cap a power of 2 */
	size_t ndm, ndm_cap;
};

/* What identifies an ELF file for its debug file. */
struct elf_ids {
	unsigned char build_id[BUILD_ID_MAX];
	size_t build_id_len;
	char debuglink[256]; /* "" when none */
	uint32_t crc;
};

const char *sym_source_name(int source)
{
	switch (source) {
	case SYM_SOURCE_SYMTAB:
		return "symtab";
	case SYM_SOURCE_DYNSYM:
		return "dynsym";
	case SYM_SOURCE_DEBUGINFO:
		return "debuginfo";
	default:
		return "none";
	}
}

static uint32_t add_name(struct symtab *st, const char *s, size_t len)
{
	uint32_t at = (uint32_t)st->nlen;

	st->names = xgrow(st->names, &st->ncap, st->nlen + len + 1, 1);
	memcpy(st->names + st->nlen, s, len);
	st->names[st->nlen + len] = '\0';
	st->nlen += len + 1;
	return at;
}

/* Add the sized function symbols of every section of 'type'. */
static void add_symbols(struct symtab *st, Elf *elf, Elf64_Word type,
			int source)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data, *strdata;
		Elf_Scn *strscn;
		size_t count;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type ||
		    sh.sh_entsize == 0)
			continue;
		data = elf_getdata(scn, NULL);
		strscn = elf_getscn(elf, sh.sh_link);
		strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
		if (!data || !strdata || !strdata->d_buf)
			continue;
		count = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < count && st->n < SYMTAB_MAX_SYMBOLS; i++) {
			GElf_Sym sym;
			const char *name;
			size_t len;
			int t, b;
			struct sym *out;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			t = GELF_ST_TYPE(sym.st_info);
			b = GELF_ST_BIND(sym.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || sym.st_size == 0 ||
			    sym.st_name >= strdata->d_size)
				continue;
			name = (const char *)strdata->d_buf + sym.st_name;
			len = strnlen(name, strdata->d_size - sym.st_name);
			/* "clock_nanosleep@GLIBC_2.2.5": the name without
			 * its symbol version. */
			if (memchr(name, '@', len))
				len = (size_t)((const char *)memchr(name, '@', len) -
					       name);
			if (len == 0 || len > SYMTAB_MAX_NAME ||
			    sym.st_name + len >= strdata->d_size)
				continue;
			st->s = xgrow(st->s, &st->cap, st->n + 1, sizeof(*st->s));
			out = &st->s[st->n++];
			out->start = sym.st_value;
			out->size = sym.st_size;
			out->source = (uint8_t)source;
			out->rank = b == STB_GLOBAL ? 2 : b == STB_WEAK ? 1 : 0;
			out->name = add_name(st, name, len);
		}
	}
}

static void read_ids(Elf *elf, struct elf_ids *ids)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	memset(ids, 0, sizeof(*ids));
	ids->build_id_len = elfsym_build_id_of(elf, ids->build_id,
					       sizeof(ids->build_id));
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		const char *sname;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		if (sname && !strcmp(sname, ".gnu_debuglink")) {
			size_t len = strnlen(data->d_buf, data->d_size);
			size_t crc_at = (len + 4) & ~(size_t)3;

			if (len == 0 || len >= sizeof(ids->debuglink) ||
			    crc_at + 4 > data->d_size || strchr(data->d_buf, '/'))
				continue;
			memcpy(ids->debuglink, data->d_buf, len);
			ids->debuglink[len] = '\0';
			memcpy(&ids->crc, (char *)data->d_buf + crc_at, 4);
		}
	}
}

/* The CRC-32 that .gnu_debuglink records (the zlib one). */
static uint32_t file_crc32(int fd, bool *ok)
{
	static uint32_t table[256];
	unsigned char buf[65536];
	uint32_t crc = 0xffffffffu;
	ssize_t got;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	*ok = true;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		*ok = false;
		return 0;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
	if (got < 0)
		*ok = false;
	return crc ^ 0xffffffffu;
}

struct elf_handle {
	int fd;
	Elf *elf;
};

/* Start reading the ELF file open at fd, which h then owns. */
static bool elf_handle_open(int fd, struct elf_handle *h)
{
	h->fd = fd;
	h->elf = NULL;
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	h->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!h->elf || elf_kind(h->elf) != ELF_K_ELF) {
		if (h->elf)
			elf_end(h->elf);
		close(fd);
		return false;
	}
	return true;
}

static void elf_handle_close(struct elf_handle *h)
{
	elf_end(h->elf);
	close(h->fd);
}

/* Is 'path' under the directory descriptor 'root' the debug file of the
 * object with 'ids' (and not the object itself, whose inode is 'self')?
 * On success h is open. */
static bool debug_candidate(int root, const char *path,
			    const struct elf_ids *ids, const struct stat *self,
			    struct elf_handle *h)
{
	struct stat st;
	struct elf_ids got;
	int fd;

	if (rootfs_openat(root, path, 0, ROOTFS_MAX_ELF, &fd, &st, NULL))
		return false;
	if (st.st_dev == self->st_dev && st.st_ino == self->st_ino) {
		close(fd);
		return false;
	}
	if (!elf_handle_open(fd, h))
		return false;
	read_ids(h->elf, &got);
	if (ids->build_id_len) {
		if (got.build_id_len == ids->build_id_len &&
		    !memcmp(got.build_id, ids->build_id, ids->build_id_len))
			return true;
	} else if (ids->debuglink[0]) {
		bool ok;
		uint32_t crc = file_crc32(h->fd, &ok);

		if (ok && crc == ids->crc)
			return true;
	}
	elf_handle_close(h);
	return false;
}

/* The places gdb looks, under the target's root and then ours: by
 * build-id in lib/debug/.build-id of /usr and of every directory above the
 * object (a relocated prefix such as /opt/x/usr), then by debuglink next
 * to the object, in its .debug/, and in /usr/lib/debug/<its dir>.  Every
 * path is resolved inside the root it is looked for in (rootfs.h): the
 * object's path and its debuglink are the target's words. */
static char *find_debug_file(const char *mapped_path, int root,
			     const struct elf_ids *ids, const struct stat *self,
			     struct elf_handle *h)
{
	int roots[2] = { root, -1 };
	char dir[4096], hex[2 * BUILD_ID_MAX + 1];
	const char *slash = strrchr(mapped_path, '/');
	struct strbuf p;
	char *found = NULL;

	if (!slash || mapped_path[0] != '/' ||
	    (size_t)(slash - mapped_path) >= sizeof(dir))
		return NULL;
	memcpy(dir, mapped_path, (size_t)(slash - mapped_path));
	dir[slash - mapped_path] = '\0';
	for (size_t i = 0; i < ids->build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", ids->build_id[i]);
	roots[1] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	strbuf_init(&p);
	for (int r = root >= 0 ? 0 : 1; r < 2 && !found && roots[r] >= 0; r++) {
		int R = roots[r];

		if (ids->build_id_len > 1) {
			char up[4096];

			strbuf_reset(&p);
			strbuf_addf(&p, "/usr/lib/debug/.build-id/%.2s/%s.debug",
				    hex, hex + 2);
			if (debug_candidate(R, p.buf, ids, self, h))
				found = strbuf_detach(&p);
			snprintf(up, sizeof(up), "%s", dir);
			for (int k = 0; k < DEBUG_ANCESTORS && !found; k++) {
				char *cut = strrchr(up, '/');

				if (!cut)
					break;
				*cut = '\0';
				if (!strcmp(up, "/usr") || !up[0])
					continue; /* the standard place above */
				strbuf_reset(&p);
				strbuf_addf(&p, "%s/lib/debug/.build-id/%.2s/%s.debug",
					    up, hex, hex + 2);
				if (debug_candidate(R, p.buf, ids, self, h))
					found = strbuf_detach(&p);
			}
		}
		/* A debuglink is a file name, never a path (gdb). */
		if (!found && ids->debuglink[0] && !strchr(ids->debuglink, '/')) {
			static const char *const where[] = { "", "/usr/lib/debug" };
			static const char *const sub[] = { "", "/.debug", "" };

			for (size_t k = 0; k < 3 && !found; k++) {
				strbuf_reset(&p);
				strbuf_addf(&p, "%s%s%s/%s", where[k == 2], dir,
					    sub[k], ids->debuglink);
				if (debug_candidate(R, p.buf, ids, self, h))
					found = strbuf_detach(&p);
			}
		}
	}
	if (roots[1] >= 0)
		close(roots[1]);
	strbuf_release(&p);
	return found;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return 0;
}

/* Of two symbols at the same place, the one whose name to show. */
static bool better(const struct symtab *st, const struct sym *a,
		   const struct sym *b)
{
	bool a_dyn = a->source == SYM_SOURCE_DYNSYM;
	bool b_dyn = b->source == SYM_SOURCE_DYNSYM;

	if (a_dyn != b_dyn)
		return !a_dyn;
	if (a->rank != b->rank)
		return a->rank > b->rank;
	return strlen(st->names + a->name) < strlen(st->names + b->name);
}

/* Sort, and keep one symbol per (start, size). */
static void finish(struct symtab *st)
{
	size_t out = 0;

	if (st->n == 0)
		return;
	qsort(st->s, st->n, sizeof(*st->s), sym_cmp);
	for (size_t i = 0; i < st->n; i++) {
		if (out > 0 && st->s[out - 1].start == st->s[i].start &&
		    st->s[out - 1].size == st->s[i].size) {
			if (better(st, &st->s[i], &st->s[out - 1]))
				st->s[out - 1] = st->s[i];
			continue;
		}
		st->s[out++] = st->s[i];
	}
	st->n = out;
}

struct symtab *symtab_load(int fd, const char *mapped_path, int root)
{
	struct symtab *st = xcalloc(1, sizeof(*st));
	struct elf_handle h, dh;
	struct elf_ids ids;
	struct stat self;

	if (!elf_handle_open(fcntl(fd, F_DUPFD_CLOEXEC, 0), &h))
		return st;
	if (fstat(h.fd, &self) != 0)
		memset(&self, 0, sizeof(self));
	read_ids(h.elf, &ids);
	add_symbols(st, h.elf, SHT_SYMTAB, SYM_SOURCE_SYMTAB);
	add_symbols(st, h.elf, SHT_DYNSYM, SYM_SOURCE_DYNSYM);
	elf_handle_close(&h);
	if (ids.build_id_len || ids.debuglink[0]) {
		st->debug_file = find_debug_file(mapped_path, root, &ids, &self,
						 &dh);
		if (st->debug_file) {
			add_symbols(st, dh.elf, SHT_SYMTAB, SYM_SOURCE_DEBUGINFO);
			elf_handle_close(&dh);
		}
	}
	finish(st);
	return st;
}

struct symtab *symtab_load_image(const void *image, size_t len)
{
	struct symtab *st = xcalloc(1, sizeof(*st));
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return st;
	elf = elf_memory((char *)image, len);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		add_symbols(st, elf, SHT_SYMTAB, SYM_SOURCE_SYMTAB);
		add_symbols(st, elf, SHT_DYNSYM, SYM_SOURCE_DYNSYM);
	}
	if (elf)
		elf_end(elf);
	finish(st);
	return st;
}

void symtab_free(struct symtab *st)
{
	if (!st)
		return;
	free(st->s);
	free(st->names);
	free(st->debug_file);
	for (size_t i = 0; i < st->ndm_cap; i++)
		free(st->dm[i].text);
	free(st->dm);
	free(st);
}

const char *symtab_find(const struct symtab *st, uint64_t vaddr,
			uint64_t *start, int *source)
{
	size_t lo = 0, hi = st->n;

	/* The first symbol starting after vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->s[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < SYMTAB_NEST_SCAN; i--, k++) {
		const struct sym *s = &st->s[i - 1];

		if (vaddr - s->start < s->size) {
			if (start)
				*start = s->start;
			if (source)
				*source = s->source;
			return st->names + s->name;
		}
	}
	return NULL;
}

/* The slot of name offset 'name' in the table of dm_cap slots: its own,
 * or the free one where it goes. */
static struct demangled *dm_slot(struct demangled *dm, size_t cap,
				 uint32_t name)
{
	size_t i = (name * 2654435761u) & (cap - 1);

	while (dm[i].used && dm[i].name != name)
		i = (i + 1) & (cap - 1);
	return &dm[i];
}

const char *symtab_demangle(struct symtab *st, const char *name)
{
	struct demangled *d;
	uint32_t off;

	if (!name || strncmp(name, "_Z", 2) || name < st->names ||
	    name >= st->names + st->nlen)
		return name;
	off = (uint32_t)(name - st->names);
	if (2 * (st->ndm + 1) > st->ndm_cap) {
		size_t cap = st->ndm_cap ? 2 * st->ndm_cap : 64;
		struct demangled *dm = xcalloc(cap, sizeof(*dm));

		for (size_t i = 0; i < st->ndm_cap; i++)
			if (st->dm[i].used)
				*dm_slot(dm, cap, st->dm[i].name) = st->dm[i];
		free(st->dm);
		st->dm = dm;
		st->ndm_cap = cap;
	}
	d = dm_slot(st->dm, st->ndm_cap, off);
	if (!d->used) {
		d->used = true;
		d->name = off;
		d->text = demangle_cxx(name);
		st->ndm++;
	}
	return d->text ? d->text : name;
}

const char *symtab_debug_file(const struct symtab *st)
{
	return st->debug_file;
}

size_t symtab_count(const struct symtab *st)
{
	return st->n;
}
