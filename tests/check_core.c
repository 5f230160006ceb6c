/*
 * Unit tests for attach/core.h (ELF core files) and memreader's segment
 * backend under it.  The cores are written by the tests themselves: a
 * small builder makes an ELF64 core with chosen notes and PT_LOADs, which
 * is then compressed, cut short or corrupted; and, when gdb's gcore is
 * installed, one real core of a sleeping child.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "tests/check_main.h"
#include "attach/core.h"
#include "attach/core_write.h"
#include "attach/maps.h"
#include "common/xalloc.h"
#include "memreader/mem.h"

static char tmpdir[] = "/tmp/check_core.XXXXXX";

static const char *tmp_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- the builder ---------------------------------------------------- */

struct tnote {
	const char *name;
	uint32_t type;
	const void *desc;
	size_t len;
};

struct tload {
	uint64_t vaddr, memsz, filesz;
	uint32_t flags;
	const uint8_t *data; /* filesz bytes */
};

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;	/* data may be NULL: an empty segment */
	b->p = xgrow(b->p, &b->cap, b->len + len, 1);
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void pad(struct buf *b, size_t align)
{
	static const uint8_t zero[16];

	put(b, zero, (align - b->len % align) % align);
}

/* An ELF64 x86-64 core: PT_NOTE (phdr 0) holding the notes, then one
 * PT_LOAD per load, in the order given.  Returns the bytes (free them). */
static uint8_t *build_core(const struct tnote *notes, size_t nn,
			   const struct tload *loads, size_t nl, size_t *size)
{
	struct buf b = { 0 };
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = xcalloc(nl + 1, sizeof(*ph));
	size_t notes_at = sizeof(eh) + (nl + 1) * sizeof(*ph);

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)(nl + 1);
	put(&b, &eh, sizeof(eh));
	put(&b, ph, (nl + 1) * sizeof(*ph)); /* filled in below */
	for (size_t i = 0; i < nn; i++) {
		uint32_t h[3] = { (uint32_t)strlen(notes[i].name) + 1,
				  (uint32_t)notes[i].len, notes[i].type };

		put(&b, h, sizeof(h));
		put(&b, notes[i].name, h[0]);
		pad(&b, 4);
		put(&b, notes[i].desc, notes[i].len);
		pad(&b, 4);
	}
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = notes_at;
	ph[0].p_filesz = b.len - notes_at;
	for (size_t i = 0; i < nl; i++) {
		pad(&b, 16);
		ph[i + 1].p_type = PT_LOAD;
		ph[i + 1].p_flags = loads[i].flags;
		ph[i + 1].p_offset = b.len;
		ph[i + 1].p_vaddr = loads[i].vaddr;
		ph[i + 1].p_filesz = loads[i].filesz;
		ph[i + 1].p_memsz = loads[i].memsz;
		ph[i + 1].p_align = 4096;
		put(&b, loads[i].data, loads[i].filesz);
	}
	memcpy(b.p + sizeof(eh), ph, (nl + 1) * sizeof(*ph));
	free(ph);
	*size = b.len;
	return b.p;
}

static Elf64_Phdr *phdr(uint8_t *core, size_t i)
{
	return (Elf64_Phdr *)(core + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static struct elf_prstatus prstatus(pid_t tid, int sig, uint64_t rip)
{
	struct elf_prstatus st;
	struct user_regs_struct regs;

	memset(&st, 0, sizeof(st));
	memset(&regs, 0, sizeof(regs));
	st.pr_pid = tid;
	st.pr_cursig = (short)sig;
	regs.rip = rip;
	regs.rsp = 0x7ffc0000 + (uint64_t)tid;
	memcpy(&st.pr_reg, &regs, sizeof(regs));
	return st;
}

struct tfile {
	uint64_t lo, hi, pgoff;
	const char *path;
};

static size_t nt_file(uint8_t *out, size_t cap, uint64_t count,
		      const struct tfile *f, size_t n)
{
	struct buf b = { 0 };
	uint64_t page = 4096;

	put(&b, &count, 8);
	put(&b, &page, 8);
	for (size_t i = 0; i < n; i++) {
		put(&b, &f[i].lo, 8);
		put(&b, &f[i].hi, 8);
		put(&b, &f[i].pgoff, 8);
	}
	for (size_t i = 0; i < n; i++)
		put(&b, f[i].path, strlen(f[i].path) + 1);
	ck_assert_uint_le(b.len, cap);
	memcpy(out, b.p, b.len);
	free(b.p);
	return b.len;
}

/* Memory contents: a pattern of the address. */
static uint8_t pat(uint64_t addr)
{
	return (uint8_t)(addr * 7 + (addr >> 8));
}

/* A file's contents, as the fallback reads them: a pattern of the
 * offset, different from the memory one. */
static uint8_t fpat(uint64_t off)
{
	return (uint8_t)(off ^ 0x5a);
}

#define A_LO UINT64_C(0x400000)  /* python3, page 0: dumped */
#define B_LO UINT64_C(0x401000)  /* python3, pages 1-2: half dumped */
#define C_LO UINT64_C(0x7f0000000000) /* libx.so (deleted): not dumped */
#define D_LO UINT64_C(0x10000000) /* anonymous: half dumped */
#define E_LO UINT64_C(0x7f0000100000) /* libbuild.so: an ELF header */
#define F_LO UINT64_C(0x20000000) /* anonymous, 256 KiB */
#define F_LEN 0x40000
#define G_LO UINT64_C(0x403000) /* python3, pages 3-4: no PT_LOAD */
#define BUILD_ID "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23" \
		 "\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98"

static uint8_t seg_a[0x1000], seg_b[0x800], seg_d[0x1000], seg_e[0x1000];
static uint8_t seg_f[F_LEN];

static void fill(uint8_t *p, size_t len, uint64_t addr)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat(addr + i);
}

/* A shared object's first page: header, PT_LOAD, PT_NOTE with its
 * build-id. */
static void fill_elf(uint8_t *p)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint32_t nh[3] = { 4, 20, NT_GNU_BUILD_ID };

	memset(p, 0, 0x1000);
	memset(&eh, 0, sizeof(eh));
	memset(ph, 0, sizeof(ph));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	ph[0].p_type = PT_LOAD;
	ph[0].p_filesz = ph[0].p_memsz = 0x1000;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = ph[1].p_vaddr = 0x200;
	ph[1].p_filesz = ph[1].p_memsz = 36;
	memcpy(p, &eh, sizeof(eh));
	memcpy(p + sizeof(eh), ph, sizeof(ph));
	memcpy(p + 0x200, nh, sizeof(nh));
	memcpy(p + 0x20c, "GNU", 4);
	memcpy(p + 0x210, BUILD_ID, 20);
}

/* The standard core: process 100 ("python3 app.py", uid 1000), threads
 * 100 (SIGSEGV at 0xdead) and 101, six segments given out of order. */
static uint8_t *std_core(size_t *size)
{
	static const struct tfile files[] = {
		{ A_LO, A_LO + 0x1000, 0, "/usr/bin/python3" },
		{ B_LO, B_LO + 0x2000, 1, "/usr/bin/python3" },
		{ C_LO, C_LO + 0x1000, 0, "/lib/libx.so (deleted)" },
		{ E_LO, E_LO + 0x1000, 0, "/lib/libbuild.so" },
		/* No PT_LOAD: gcore leaves out what it does not dump. */
		{ G_LO, G_LO + 0x2000, 3, "/usr/bin/python3" },
	};
	struct elf_prstatus t0 = prstatus(100, SIGSEGV, 0x401234);
	struct elf_prstatus t1 = prstatus(101, 0, 0x402345);
	struct elf_prpsinfo ps;
	siginfo_t si;
	uint8_t file[512];
	size_t file_len = nt_file(file, sizeof(file), 5, files, 5);
	struct tnote notes[] = {
		{ "CORE", NT_PRSTATUS, &t0, sizeof(t0) },
		{ "CORE", NT_PRPSINFO, &ps, sizeof(ps) },
		{ "CORE", NT_SIGINFO, &si, sizeof(si) },
		{ "CORE", NT_FILE, file, file_len },
		{ "LINUX", 0x202, "xstate", 6 }, /* skipped */
		{ "CORE", NT_PRSTATUS, &t1, sizeof(t1) },
	};
	struct tload loads[] = {
		{ D_LO, 0x2000, 0x1000, PF_R | PF_W, seg_d },
		{ A_LO, 0x1000, 0x1000, PF_R, seg_a },
		{ B_LO, 0x2000, 0x800, PF_R | PF_X, seg_b },
		{ C_LO, 0x1000, 0, PF_R | PF_W, NULL },
		{ E_LO, 0x1000, 0x1000, PF_R, seg_e },
		{ F_LO, F_LEN, F_LEN, PF_R | PF_W, seg_f },
	};

	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = 100;
	ps.pr_uid = 1000;
	memcpy(ps.pr_fname, "python3", 7);
	memcpy(ps.pr_psargs, "python3 app.py ", 15);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_code = SEGV_MAPERR;
	si.si_addr = (void *)0xdead;
	fill(seg_a, sizeof(seg_a), A_LO);
	fill(seg_b, sizeof(seg_b), B_LO);
	fill(seg_d, sizeof(seg_d), D_LO);
	fill(seg_f, sizeof(seg_f), F_LO);
	fill_elf(seg_e);
	return build_core(notes, sizeof(notes) / sizeof(notes[0]), loads,
			  sizeof(loads) / sizeof(loads[0]), size);
}

/* Open bytes written to a file named name: core_open's code. */
static int open_bytes(const char *name, const void *data, size_t len,
		      struct core **c, struct err *e)
{
	write_file(tmp_path(name), data, len);
	err_clear(e);
	return core_open(tmp_path(name), c, e);
}

/* The fallback of the tests: a file of fpat() bytes per path, of 0x4800
 * bytes (zeros after); counts its calls. */
struct fb {
	int calls;
	uint64_t last_off;
	char last_path[64];
	bool fail;
};

static int fb_read(void *arg, const struct maps_entry *me, uint64_t off,
		   void *buf, size_t len)
{
	struct fb *fb = arg;
	uint8_t *p = buf;

	fb->calls++;
	fb->last_off = off;
	snprintf(fb->last_path, sizeof(fb->last_path), "%s", me->path);
	if (fb->fail)
		return SS_EREAD;
	for (size_t i = 0; i < len; i++)
		p[i] = off + i < 0x4800 ? fpat(off + i) : 0;
	return 0;
}

/* The checks on a core made by std_core(). */
static void check_std(const struct core *c)
{
	const struct maps_entry *me;

	ck_assert_int_eq(c->pid, 100);
	ck_assert_int_eq(c->uid, 1000);
	ck_assert_str_eq(c->comm, "python3");
	ck_assert_str_eq(c->args, "python3 app.py");
	ck_assert_uint_eq(c->nthreads, 2);
	ck_assert_int_eq(c->threads[0].tid, 100);
	ck_assert_int_eq(c->threads[0].cursig, SIGSEGV);
	ck_assert_uint_eq(c->threads[0].regs.rip, 0x401234);
	ck_assert_uint_eq(c->threads[0].regs.rsp, 0x7ffc0000 + 100);
	ck_assert_int_eq(c->threads[1].tid, 101);
	ck_assert_int_eq(c->threads[1].cursig, 0);
	ck_assert_uint_eq(c->threads[1].regs.rip, 0x402345);

	ck_assert(c->has_siginfo);
	ck_assert_int_eq(c->si_signo, SIGSEGV);
	ck_assert_int_eq(c->si_code, SEGV_MAPERR);
	ck_assert_uint_eq(c->si_fault_addr, 0xdead);
	ck_assert_int_eq(c->si_tid, 100);
	ck_assert(!c->truncated);

	ck_assert_uint_eq(c->nsegs, 6);
	for (size_t i = 1; i < c->nsegs; i++)
		ck_assert_uint_lt(c->segs[i - 1].vaddr, c->segs[i].vaddr);
	ck_assert_uint_eq(c->segs[0].vaddr, A_LO);
	ck_assert(c->segs[1].x && !c->segs[1].w);
	ck_assert_uint_eq(c->segs[1].filesz, 0x800);

	ck_assert_uint_eq(c->maps.n, 5);
	me = maps_first(&c->maps, "/usr/bin/python3");
	ck_assert_ptr_eq(me, &c->maps.e[0]);
	ck_assert(me->r && !me->w && !me->x && !me->deleted);
	ck_assert_uint_eq(me->dev, 0);
	ck_assert_uint_eq(c->maps.e[1].offset, 0x1000);
	ck_assert(c->maps.e[1].x);
	me = maps_find(&c->maps, C_LO + 0x10);
	ck_assert_ptr_nonnull(me);
	ck_assert_str_eq(me->path, "/lib/libx.so");
	ck_assert(me->deleted && me->r && me->w);
	ck_assert_ptr_null(maps_find(&c->maps, D_LO));
	me = maps_find(&c->maps, G_LO);
	ck_assert_ptr_nonnull(me);
	ck_assert(me->r && !me->w && !me->x);
	ck_assert_uint_eq(me->offset, 0x3000);
}

START_TEST(test_core_parse)
{
	size_t len;
	uint8_t *bytes = std_core(&len);
	uint8_t back[64];
	struct core *c;
	struct err e;

	ck_assert_int_eq(open_bytes("std.core", bytes, len, &c, &e), 0);
	check_std(c);
	ck_assert_str_eq(c->path, tmp_path("std.core"));
	ck_assert_ptr_null(c->compression);
	ck_assert_uint_eq(c->size, len);
	ck_assert_int_eq(core_read(c, len - 64, back, 64, &e), 0);
	ck_assert_mem_eq(back, bytes + len - 64, 64);
	ck_assert_int_eq(core_read(c, len - 63, back, 64, &e), SS_EIO);
	ck_assert_int_eq(core_read(c, UINT64_MAX, back, 64, &e), SS_EIO);
	core_free(c);
	free(bytes);
}
END_TEST

START_TEST(test_core_memory)
{
	size_t len;
	uint8_t *bytes = std_core(&len);
	uint8_t buf[0x100], want[0x100];
	struct mem_span spans[4];
	struct mem_reader *m;
	struct core *c;
	struct fb fb = { 0 };
	struct err e;

	ck_assert_int_eq(open_bytes("mem.core", bytes, len, &c, &e), 0);
	free(bytes);

	/* Without a fallback: dumped bytes, across two segments. */
	m = core_mem_new(c, NULL, NULL);
	fill(want, 0x40, A_LO + 0xfe0);
	ck_assert_int_eq(mem_read(m, A_LO + 0xfe0, buf, 0x40, &e), 0);
	ck_assert_mem_eq(buf, want, 0x40);
	/* Past B's filesz: not dumped, and no file. */
	ck_assert_int_eq(mem_read(m, B_LO + 0x7f0, buf, 0x20, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "not dumped"));
	ck_assert_int_eq(mem_read(m, C_LO, buf, 8, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, G_LO, buf, 8, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "not dumped"));
	ck_assert_int_eq(mem_read(m, 0x500000, buf, 8, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "not in the core"));
	/* Past D's dumped half. */
	ck_assert_int_eq(mem_read(m, D_LO + 0x1ff8, buf, 0x10, &e), SS_EREAD);
	mem_reader_free(m);

	/* With one. */
	m = core_mem_new(c, fb_read, &fb);
	ck_assert_int_eq(mem_read(m, B_LO + 0x7f0, buf, 0x20, &e), 0);
	fill(want, 0x10, B_LO + 0x7f0);
	ck_assert_mem_eq(buf, want, 0x10);
	/* The file offset: pgoff 1 × 4096 + 0x800. */
	ck_assert_int_eq(fb.calls, 1);
	ck_assert_uint_eq(fb.last_off, 0x1800);
	ck_assert_str_eq(fb.last_path, "/usr/bin/python3");
	for (size_t i = 0; i < 0x10; i++)
		ck_assert_uint_eq(buf[0x10 + i], fpat(0x1800 + i));
	/* A segment that holds nothing. */
	ck_assert_int_eq(mem_read(m, C_LO + 0x0, buf, 0x10, &e), 0);
	ck_assert_uint_eq(buf[3], fpat(3));
	ck_assert_uint_eq(fb.last_off, 0);
	/* From B's undumped end into G, which has no PT_LOAD: the file,
	 * to its end and past it (zeros). */
	ck_assert_int_eq(mem_read(m, G_LO - 0x10, buf, 0x20, &e), 0);
	for (size_t i = 0; i < 0x20; i++)
		ck_assert_uint_eq(buf[i], fpat(0x2ff0 + i));
	ck_assert_int_eq(mem_read(m, G_LO + 0x17f0, buf, 0x20, &e), 0);
	ck_assert_uint_eq(buf[0], fpat(0x47f0));
	ck_assert_uint_eq(buf[0x10], 0);
	ck_assert_int_eq(mem_read(m, G_LO + 0x1ff8, buf, 0x10, &e), SS_EREAD);
	/* Anonymous memory past filesz: the file cannot help. */
	fb.calls = 0;
	ck_assert_int_eq(mem_read(m, D_LO + 0xff8, buf, 0x10, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "anonymous"));
	ck_assert_int_eq(fb.calls, 0);
	/* The file fails. */
	fb.fail = true;
	ck_assert_int_eq(mem_read(m, B_LO + 0x800, buf, 8, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "/usr/bin/python3"));
	fb.fail = false;

	/* Batched reads: each span on its own. */
	spans[0] = (struct mem_span){ A_LO + 8, buf, 8, false };
	spans[1] = (struct mem_span){ 0x500000, buf + 8, 8, true };
	spans[2] = (struct mem_span){ B_LO + 0x7fc, buf + 16, 8, false };
	spans[3] = (struct mem_span){ D_LO + 0x1000, buf + 24, 8, true };
	ck_assert_uint_eq(mem_read_spans(m, spans, 4), 2);
	ck_assert(spans[0].ok && !spans[1].ok && spans[2].ok && !spans[3].ok);
	ck_assert_uint_eq(buf[0], pat(A_LO + 8));

	/* Through the page cache, across all the big segment. */
	mem_cache_enable(m, true);
	for (uint64_t a = F_LO + 0x7f0; a + sizeof(buf) < F_LO + F_LEN;
	     a += 0x1003) {
		fill(want, sizeof(buf), a);
		ck_assert_int_eq(mem_read(m, a, buf, sizeof(buf), &e), 0);
		ck_assert_mem_eq(buf, want, sizeof(buf));
	}
	ck_assert_int_eq(mem_read(m, F_LO + F_LEN - 4, buf, 8, &e), SS_EREAD);
	mem_reader_free(m);
	core_free(c);
}
END_TEST

START_TEST(test_core_build_id)
{
	size_t len;
	uint8_t *bytes = std_core(&len);
	unsigned char id[32];
	struct mem_reader *m;
	struct core *c;
	struct err e;

	ck_assert_int_eq(open_bytes("id.core", bytes, len, &c, &e), 0);
	free(bytes);
	m = core_mem_new(c, NULL, NULL);
	ck_assert_uint_eq(core_build_id(m, maps_first(&c->maps,
			  "/lib/libbuild.so"), id, sizeof(id)), 20);
	ck_assert_mem_eq(id, BUILD_ID, 20);
	/* Too small a buffer, not an ELF header, not in the core. */
	ck_assert_uint_eq(core_build_id(m, maps_first(&c->maps,
			  "/lib/libbuild.so"), id, 19), 0);
	ck_assert_uint_eq(core_build_id(m, &c->maps.e[0], id, sizeof(id)), 0);
	ck_assert_uint_eq(core_build_id(m, maps_first(&c->maps,
			  "/lib/libx.so"), id, sizeof(id)), 0);
	mem_reader_free(m);
	core_free(c);
}
END_TEST

/* The generic segment backend on its own: piecewise over adjacent
 * segments; overlapping, empty and wrapping ones left out. */
static int seg_bytes(void *arg, uint64_t off, void *buf, size_t len,
		     struct err *e)
{
	const uint8_t *src = arg;

	if (off + len > 256)
		return err_set(e, SS_EREAD, "past the source");
	memcpy(buf, src + off, len);
	return 0;
}

static const struct mem_segments_ops seg_ops = { .read_bytes = seg_bytes };

START_TEST(test_mem_segments)
{
	uint8_t src[256], buf[64];
	struct mem_segment segs[] = {
		{ 0x2000, 0x10, 0x10, 0x10 },
		{ 0x1000, 0x1000, 0x0, 0x20 }, /* filesz < memsz */
		{ 0x1008, 0x10, 0x80, 0x10 }, /* overlaps: left out */
		{ 0x3000, 0, 0x0, 0 },        /* empty */
		{ UINT64_MAX - 4, 0x10, 0, 0 }, /* wraps */
		{ 0x4000, 0x10, UINT64_MAX - 4, 0x10 }, /* stored part wraps */
		{ 0x2010, 0x10, 0x40, 0x20 }, /* filesz > memsz: cut */
	};
	struct mem_reader *m;
	struct err e;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	m = mem_segments_new(segs, sizeof(segs) / sizeof(segs[0]), &seg_ops,
			     src);
	ck_assert_int_eq(mem_read(m, 0x1008, buf, 8, &e), 0);
	ck_assert_uint_eq(buf[0], 8);
	ck_assert_int_eq(mem_read(m, 0x1018, buf, 16, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "no file"));
	/* Across 0x2000 | 0x2010. */
	ck_assert_int_eq(mem_read(m, 0x2008, buf, 16, &e), 0);
	ck_assert_uint_eq(buf[0], 0x18);
	ck_assert_uint_eq(buf[8], 0x40);
	ck_assert_int_eq(mem_read(m, 0x2018, buf, 16, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, 0x3000, buf, 1, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, 0x4000, buf, 1, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, UINT64_MAX - 2, buf, 1, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, UINT64_MAX - 2, buf, 8, &e), SS_EREAD);
	ck_assert_int_eq(mem_read(m, 0x1000, buf, 0, &e), 0);
	mem_reader_free(m);
	m = mem_segments_new(NULL, 0, &seg_ops, src);
	ck_assert_int_eq(mem_read(m, 0, buf, 1, &e), SS_EREAD);
	mem_reader_free(m);
}
END_TEST

/* ---- compressed cores ----------------------------------------------- */

static uint8_t *compress_as(int fmt, const uint8_t *src, size_t n,
			    size_t *out)
{
	size_t cap = n + n / 2 + 65536;
	uint8_t *dst = xmalloc(cap);

	switch (fmt) {
	case 0:
		*out = ZSTD_compress(dst, cap, src, n, 3);
		ck_assert(!ZSTD_isError(*out));
		break;
	case 1:
		*out = LZ4F_compressFrame(dst, cap, src, n, NULL);
		ck_assert(!LZ4F_isError(*out));
		break;
	case 2:
		*out = 0;
		ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64,
				 NULL, src, n, dst, out, cap), LZMA_OK);
		break;
	default: {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8,
					      Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = (uint8_t *)src;
		zs.avail_in = (uInt)n;
		zs.next_out = dst;
		zs.avail_out = (uInt)cap;
		ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
		*out = zs.total_out;
		deflateEnd(&zs);
	}
	}
	return dst;
}

static const char *const fmt_names[] = { "zstd", "lz4", "xz", "gzip" };

START_TEST(test_core_compressed)
{
	size_t len, zlen;
	uint8_t *bytes = std_core(&len);
	uint8_t *z = compress_as(_i, bytes, len, &zlen);
	uint8_t *back = xmalloc(len);
	char name[32];
	struct mem_reader *m;
	struct core *c;
	struct err e;
	int fd;

	snprintf(name, sizeof(name), "std.core.%s", fmt_names[_i]);
	ck_assert_int_eq(open_bytes(name, z, zlen, &c, &e), 0);
	ck_assert_str_eq(c->compression, fmt_names[_i]);
	ck_assert_uint_eq(c->size, len);
	check_std(c);
	ck_assert_int_eq(core_read(c, 0, back, len, &e), 0);
	ck_assert_mem_eq(back, bytes, len);
	m = core_mem_new(c, NULL, NULL);
	ck_assert_int_eq(mem_read(m, F_LO + F_LEN - 0x100, back, 0x100, &e),
			 0);
	ck_assert_mem_eq(back, seg_f + F_LEN - 0x100, 0x100);
	mem_reader_free(m);
	core_free(c);

	/* Cut short: the stream ends inside a frame. */
	ck_assert_int_lt(open_bytes(name, z, zlen / 2, &c, &e), 0);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(e.msg, fmt_names[_i]));
	ck_assert_ptr_nonnull(strstr(e.msg, name));
	/* Garbage after the magic. */
	memset(z + 6, 0xa5, zlen - 6 < 64 ? zlen - 6 : 64);
	ck_assert_int_lt(open_bytes(name, z, zlen, &c, &e), 0);
	ck_assert_ptr_null(c);
	/* Over the bound on the decompressed size. */
	free(z);
	z = compress_as(_i, bytes, len, &zlen);
	write_file(tmp_path(name), z, zlen);
	fd = open(tmp_path(name), O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(core_open_fd(fd, name, len - 1, &c, &e), SS_ELIMIT);
	ck_assert_ptr_nonnull(strstr(e.msg, "decompresses to more than"));
	ck_assert_int_eq(core_open_fd(fd, name, len, &c, &e), 0);
	check_std(c);
	core_free(c);
	close(fd);
	free(back);
	free(z);
	free(bytes);
}
END_TEST

/* A core whose size is a multiple of the decoders' 64 KiB output chunk:
 * the frame ends as a chunk fills, and a call past it, at the start of
 * no next frame, once made every format but xz say "truncated". */
START_TEST(test_core_compressed_chunk_end)
{
	size_t len, padded, zlen;
	uint8_t *bytes = std_core(&len);
	uint8_t *z;
	char name[40];
	struct core *c;
	struct err e;

	padded = (len / 65536 + 2) * 65536;
	bytes = xrealloc(bytes, padded);
	memset(bytes + len, 0, padded - len);
	z = compress_as(_i, bytes, padded, &zlen);
	snprintf(name, sizeof(name), "chunk.core.%s", fmt_names[_i]);
	ck_assert_msg(open_bytes(name, z, zlen, &c, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(c->size, padded);
	check_std(c);
	core_free(c);
	free(z);
	free(bytes);
}
END_TEST

/* ---- malformed cores ------------------------------------------------- */

/* Expect bytes to be refused with code and a message containing what. */
static void refuse(const void *bytes, size_t len, int code, const char *what)
{
	struct core *c = (struct core *)1;
	struct err e;

	ck_assert_int_eq(open_bytes("bad.core", bytes, len, &c, &e), code);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(e.msg, what), "'%s' not in '%s'", what, e.msg);
}

START_TEST(test_core_malformed)
{
	size_t len;
	uint8_t *good = std_core(&len);
	uint8_t *b = xmalloc(len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	uint32_t *note0;

#define RESET() memcpy(b, good, len)
	RESET();
	refuse(b, 0, SS_EIO, "not a core file (not ELF)");
	refuse(b, 40, SS_EIO, "truncated: the ELF header");
	refuse("\x7f" "ELF", 4, SS_EIO, "not ELF");
	eh->e_type = ET_EXEC;
	refuse(b, len, SS_EIO, "is not a core file (ELF type 2)");
	RESET();
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	refuse(b, len, SS_EUNSUPPORTED, "32-bit");
	RESET();
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	refuse(b, len, SS_EUNSUPPORTED, "little-endian");
	RESET();
	eh->e_machine = EM_AARCH64;
	refuse(b, len, SS_EUNSUPPORTED, "x86-64");
	RESET();
	eh->e_phoff = UINT64_MAX - 8;
	refuse(b, len, SS_EIO, "program headers at");
	RESET();
	eh->e_phnum = 0;
	refuse(b, len, SS_EIO, "no program headers");
	RESET();
	eh->e_phnum = PN_XNUM;
	refuse(b, len, SS_EIO, "PN_XNUM");
	RESET();
	eh->e_phentsize = 32;
	refuse(b, len, SS_EIO, "program headers of 32 bytes");
	/* The program headers cut off. */
	RESET();
	refuse(b, sizeof(Elf64_Ehdr) + 100, SS_EIO, "truncated");

	/* Sizes of 2^63. */
	RESET();
	phdr(b, 1)->p_memsz = UINT64_C(1) << 63;
	refuse(b, len, SS_EIO, "not a user-space range");
	RESET();
	phdr(b, 1)->p_filesz = UINT64_C(1) << 63;
	refuse(b, len, SS_EIO, "holds more bytes");
	RESET();
	phdr(b, 1)->p_filesz = phdr(b, 1)->p_memsz = UINT64_C(1) << 63;
	refuse(b, len, SS_EIO, "not a user-space range");
	RESET();
	phdr(b, 1)->p_offset = UINT64_MAX - 0x10;
	refuse(b, len, SS_EIO, "wrap");
	RESET();
	phdr(b, 0)->p_filesz = UINT64_C(1) << 63;
	refuse(b, len, SS_EIO, "truncated: the notes at");
	RESET();
	phdr(b, 0)->p_offset = UINT64_C(1) << 63;
	refuse(b, len, SS_EIO, "truncated: the notes at");
	/* Overlapping segments. */
	RESET();
	phdr(b, 2)->p_vaddr = D_LO + 0x1000;
	refuse(b, len, SS_EIO, "overlap");

	/* Notes: sizes past the end of their segment. */
	note0 = (uint32_t *)(b + phdr(good, 0)->p_offset);
	RESET();
	note0[1] = 0xfffffff0;
	refuse(b, len, SS_EIO, "truncated: the note at");
	RESET();
	note0[0] = 0xffffffff;
	refuse(b, len, SS_EIO, "truncated: the note at");
	RESET();
	phdr(b, 0)->p_filesz = 7;
	refuse(b, len, SS_EIO, "truncated: the note at");
	RESET();
	note0[1] = 16; /* a PRSTATUS too short for its struct */
	refuse(b, len, SS_EIO, "NT_PRSTATUS");
	free(b);
	free(good);
#undef RESET
}
END_TEST

/* Cores built from notes alone (plus one segment). */
static void refuse_notes(const struct tnote *notes, size_t nn, int code,
			 const char *what)
{
	uint8_t data[16] = { 0 };
	struct tload load = { 0x1000, 0x1000, 16, PF_R, data };
	size_t len;
	uint8_t *b = build_core(notes, nn, &load, 1, &len);

	refuse(b, len, code, what);
	free(b);
}

START_TEST(test_core_bad_notes)
{
	struct elf_prstatus t0 = prstatus(7, 0, 0);
	static const struct tfile one[] = { { 0x1000, 0x2000, 0, "/bin/x" } };
	static const struct tfile bad[] = { { 0x2000, 0x1000, 0, "/bin/x" } };
	uint8_t file[256];
	size_t n;
	struct tnote notes[] = {
		{ "CORE", NT_PRSTATUS, &t0, sizeof(t0) },
		{ "CORE", NT_FILE, file, 0 },
		{ "CORE", NT_FILE, file, 0 },
	};

	/* No thread at all. */
	refuse_notes(NULL, 0, SS_EIO, "no NT_PRSTATUS");
	/* NT_FILE counts that overflow count × 24, or do not fit. */
	notes[1].len = nt_file(file, sizeof(file), UINT64_C(0x0aaaaaaaaaaaaaab),
			       one, 1);
	refuse_notes(notes, 2, SS_EIO, "more than its");
	notes[1].len = nt_file(file, sizeof(file), UINT64_C(1) << 63, one, 1);
	refuse_notes(notes, 2, SS_EIO, "more than its");
	notes[1].len = nt_file(file, sizeof(file), 2, one, 1);
	refuse_notes(notes, 2, SS_EIO, "more than its");
	notes[1].len = 8;
	refuse_notes(notes, 2, SS_EIO, "no room");
	/* A name without its NUL; an empty range; a page offset whose
	 * byte offset wraps; a bad page size. */
	n = nt_file(file, sizeof(file), 1, one, 1);
	notes[1].len = n - 1;
	refuse_notes(notes, 2, SS_EIO, "NT_FILE name 0");
	notes[1].len = nt_file(file, sizeof(file), 1, bad, 1);
	refuse_notes(notes, 2, SS_EIO, "malformed");
	notes[1].len = nt_file(file, sizeof(file), 1, one, 1);
	memset(file + 32, 0xff, 8); /* pgoff */
	refuse_notes(notes, 2, SS_EIO, "malformed");
	notes[1].len = nt_file(file, sizeof(file), 1, one, 1);
	memset(file + 8, 0x11, 8); /* page size */
	refuse_notes(notes, 2, SS_EIO, "page size");
	/* Two NT_FILE notes. */
	notes[1].len = notes[2].len = nt_file(file, sizeof(file), 1, one, 1);
	refuse_notes(notes, 3, SS_EIO, "second NT_FILE");
	/* Short PRPSINFO, SIGINFO. */
	notes[1] = (struct tnote){ "CORE", NT_PRPSINFO, file, 10 };
	refuse_notes(notes, 2, SS_EIO, "NT_PRPSINFO");
	notes[1] = (struct tnote){ "CORE", NT_SIGINFO, file, 10 };
	refuse_notes(notes, 2, SS_EIO, "NT_SIGINFO");
	/* Other owners' notes of the same types are not ours. */
	notes[1] = (struct tnote){ "LINUX", NT_SIGINFO, file, 10 };
	notes[2] = (struct tnote){ "COR", NT_PRSTATUS, file, 10 };
	{
		struct core *c;
		struct err e;
		uint8_t data[16] = { 0 };
		struct tload load = { 0x1000, 0x1000, 16, PF_R, data };
		size_t len;
		uint8_t *b = build_core(notes, 3, &load, 1, &len);

		ck_assert_int_eq(open_bytes("ok.core", b, len, &c, &e), 0);
		ck_assert_uint_eq(c->nthreads, 1);
		ck_assert(!c->has_siginfo);
		ck_assert_int_eq(c->pid, 0);
		core_free(c);
		free(b);
	}
}
END_TEST

/* A core cut short: it opens, says so, and the lost bytes cannot be
 * read, not even from the file. */
START_TEST(test_core_truncated)
{
	size_t len;
	uint8_t *bytes = std_core(&len);
	uint8_t buf[16];
	struct mem_reader *m;
	struct core *c;
	struct fb fb = { 0 };
	struct err e;

	ck_assert_int_eq(open_bytes("cut.core", bytes, len - F_LEN / 2, &c, &e),
			 0);
	ck_assert(c->truncated);
	m = core_mem_new(c, fb_read, &fb);
	ck_assert_int_eq(mem_read(m, F_LO, buf, 8, &e), 0);
	ck_assert_uint_eq(buf[0], pat(F_LO));
	ck_assert_int_eq(mem_read(m, F_LO + F_LEN - 8, buf, 8, &e), SS_EREAD);
	ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
	ck_assert_int_eq(fb.calls, 0);
	mem_reader_free(m);
	core_free(c);
	free(bytes);
}
END_TEST

START_TEST(test_core_not_a_file)
{
	struct core *c;
	struct err e;

	ck_assert_int_eq(core_open(tmp_path("absent"), &c, &e), SS_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "cannot open"));
	ck_assert_int_eq(core_open(tmpdir, &c, &e), SS_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	/* A FIFO: refused, without waiting for a writer. */
	ck_assert_int_eq(mkfifo(tmp_path("fifo"), 0600), 0);
	ck_assert_int_eq(core_open(tmp_path("fifo"), &c, &e), SS_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	ck_assert_ptr_null(c);
}
END_TEST

/* ---- a real core ----------------------------------------------------- */

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Run argv with its output to /dev/null: its exit status, or -1. */
static int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* core_write: a core with known threads, files and segments reads back
 * with core_open() as written; bad input is refused; a bound refuses. */
START_TEST(test_core_write_roundtrip)
{
	static uint8_t page_a[8192], page_b[4096];
	struct core_write_thread th[3];
	struct core_write_file files[2] = {
		{ 0x400000, 0x402000, 0, "/usr/bin/python3.12" },
		{ 0x7f0000000000, 0x7f0000003000, 0x2000,
		  "/usr/lib/libpython3.12.so.1.0 (deleted)" },
	};
	struct core_write_segment segs[2] = {
		{ 0x400000, sizeof(page_a), page_a, true, false, true },
		{ 0x7ffd0000f000, sizeof(page_b), page_b, true, true, false },
	};
	struct core_write cw = {
		.pid = 4242, .ppid = 1, .uid = 1000, .gid = 1000,
		.fname = "python3.12", .psargs = "python3.12 -c pass",
		.threads = th, .nthreads = 3, .files = files, .nfiles = 2,
		.segs = segs, .nsegs = 2,
	};
	const char *path = tmp_path("written.core");
	uint64_t auxv[4] = { 6 /* AT_PAGESZ */, 4096, 0, 0 }, size = 0, word;
	struct core *c = NULL;
	struct mem_reader *m;
	struct err e;

	cw.auxv = auxv;
	cw.auxv_len = sizeof(auxv);
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 3; i++) {
		th[i].tid = 4242 + i;
		th[i].regs.rip = 0x400100 + (unsigned)i;
		th[i].regs.rsp = 0x7ffd0000f800 - 8 * (unsigned)i;
	}
	for (size_t i = 0; i < sizeof(page_a); i++)
		page_a[i] = (uint8_t)(i * 7);
	memset(page_b, 0xab, sizeof(page_b));
	err_clear(&e);
	ck_assert_int_eq(core_write_file(path, &cw, UINT64_C(1) << 30, &size,
					 &e), 0);
	ck_assert_uint_eq(size, core_write_size(&cw));
	ck_assert_int_eq(core_open(path, &c, &e), 0);
	ck_assert_int_eq(c->pid, 4242);
	ck_assert_uint_eq(c->uid, 1000);
	ck_assert_str_eq(c->comm, "python3.12");
	ck_assert_str_eq(c->args, "python3.12 -c pass");
	ck_assert_uint_eq(c->nthreads, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(c->threads[i].tid, 4242 + i);
		ck_assert_uint_eq(c->threads[i].regs.rip, 0x400100 + (unsigned)i);
		ck_assert_uint_eq(c->threads[i].regs.rsp,
				  0x7ffd0000f800 - 8 * (unsigned)i);
	}
	ck_assert_uint_eq(c->nsegs, 2);
	ck_assert_uint_eq(c->segs[0].vaddr, 0x400000);
	ck_assert_uint_eq(c->segs[0].memsz, sizeof(page_a));
	ck_assert(c->segs[0].r && !c->segs[0].w && c->segs[0].x);
	ck_assert(c->segs[1].r && c->segs[1].w && !c->segs[1].x);
	ck_assert_uint_eq(c->maps.n, 2);
	ck_assert_str_eq(c->maps.e[0].path, "/usr/bin/python3.12");
	ck_assert_uint_eq(c->maps.e[1].lo, 0x7f0000000000);
	ck_assert_uint_eq(c->maps.e[1].offset, 0x2000);
	ck_assert_str_eq(c->maps.e[1].path, "/usr/lib/libpython3.12.so.1.0");
	ck_assert(c->maps.e[1].deleted);
	ck_assert(!c->has_siginfo);
	ck_assert(!c->truncated);
	m = core_mem_new(c, NULL, NULL);
	ck_assert_int_eq(mem_read_u64(m, 0x400000 + 4096, &word, NULL), 0);
	ck_assert_int_eq(memcmp(&word, page_a + 4096, 8), 0);
	ck_assert_int_eq(mem_read_u64(m, 0x7ffd0000fff8, &word, NULL), 0);
	ck_assert_uint_eq(word, UINT64_C(0xabababababababab));
	ck_assert_int_ne(mem_read_u64(m, 0x7ffd00010000, &word, NULL), 0);
	mem_reader_free(m);
	core_free(c);

	/* Over the bound: refused, nothing left behind. */
	unlink(path);
	ck_assert_int_eq(core_write_file(path, &cw, 4096, NULL, &e),
			 SS_ELIMIT);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* Overlapping or unaligned segments, no thread: refused. */
	segs[1].vaddr = 0x401000;
	ck_assert_int_eq(core_write_file(path, &cw, UINT64_C(1) << 30, NULL,
					 &e), SS_EINVAL);
	segs[1].vaddr = 0x7ffd0000f001;
	ck_assert_int_eq(core_write_file(path, &cw, UINT64_C(1) << 30, NULL,
					 &e), SS_EINVAL);
	segs[1].vaddr = 0x7ffd0000f000;
	cw.nthreads = 0;
	ck_assert_int_eq(core_write_file(path, &cw, UINT64_C(1) << 30, NULL,
					 &e), SS_EINVAL);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* The real file behind a mapping, zeros past its end. */
static int real_read(void *arg, const struct maps_entry *me, uint64_t off,
		     void *buf, size_t len)
{
	int fd = open(me->path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	(void)arg;
	if (fd < 0)
		return SS_EREAD;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	if (n < 0)
		return SS_EREAD;
	memset((uint8_t *)buf + n, 0, len - (size_t)n);
	return 0;
}

START_TEST(test_core_gcore)
{
	char exe[4096], corefile[4160], mempath[64];
	uint8_t live[4096], live_text[4096], dumped[4096];
	unsigned char id[64];
	const struct maps_entry *me, *text;
	struct maps pm;
	struct core *c;
	struct mem_reader *m;
	struct err e;
	int pipefd[2], fd, rc;
	ssize_t n;
	pid_t pid;
	char pidstr[16];

	if (!in_path("gcore")) {
		printf("SKIP: test_core_gcore: gcore not found (Debian: gdb)\n");
		return;
	}
	/* A child that sleeps: the pipe closes on its exec. */
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execlp("sleep", "sleep", "300", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	ck_assert_int_eq(read(pipefd[0], exe, 1), 0);
	close(pipefd[0]);
	snprintf(mempath, sizeof(mempath), "/proc/%d/exe", (int)pid);
	n = readlink(mempath, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';

	/* What its executable's first mapping holds, read live. */
	ck_assert_int_eq(maps_load(pid, &pm, &e), 0);
	me = maps_first(&pm, exe);
	ck_assert_ptr_nonnull(me);
	snprintf(mempath, sizeof(mempath), "/proc/%d/mem", (int)pid);
	fd = open(mempath, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, live, sizeof(live), (off_t)me->lo),
			 (ssize_t)sizeof(live));
	/* And its code, which gcore does not dump. */
	text = me + 1;
	ck_assert(text < pm.e + pm.n && !strcmp(text->path, exe) && text->x);
	ck_assert_int_eq(pread(fd, live_text, sizeof(live_text),
			       (off_t)text->lo), (ssize_t)sizeof(live_text));
	close(fd);

	/* gcore needs ptrace: say so rather than fail where it is refused. */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0 ||
	    waitpid(pid, NULL, __WALL) != pid) {
		printf("SKIP: test_core_gcore: ptrace refused (%s)\n",
		       strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		maps_release(&pm);
		return;
	}
	ptrace(PTRACE_DETACH, pid, 0, 0);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	{
		char *argv[] = { "gcore", "-o", (char *)tmp_path("gcore"),
				 pidstr, NULL };

		rc = run_quiet(argv);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(rc, 0);
	snprintf(corefile, sizeof(corefile), "%s.%d", tmp_path("gcore"),
		 (int)pid);

	ck_assert_int_eq(core_open(corefile, &c, &e), 0);
	ck_assert_int_eq(c->pid, pid);
	ck_assert_uint_eq(c->nthreads, 1);
	ck_assert_int_eq(c->threads[0].tid, pid);
	ck_assert_str_eq(c->comm, "sleep");
	ck_assert_ptr_nonnull(maps_first(&c->maps, exe));
	ck_assert_uint_eq(maps_first(&c->maps, exe)->lo, me->lo);

	m = core_mem_new(c, real_read, NULL);
	ck_assert_int_eq(mem_read(m, me->lo, dumped, sizeof(dumped), &e), 0);
	ck_assert_mem_eq(dumped, live, sizeof(live));
	ck_assert_int_eq(mem_read(m, text->lo, dumped, sizeof(dumped), &e), 0);
	ck_assert_mem_eq(dumped, live_text, sizeof(live_text));
	/* Debian's sleep has a build-id. */
	ck_assert_uint_eq(core_build_id(m, maps_first(&c->maps, exe), id,
					sizeof(id)), 20);
	mem_reader_free(m);
	core_free(c);
	maps_release(&pm);
	unlink(corefile);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_core_parse);
	tcase_add_test(tc, test_core_memory);
	tcase_add_test(tc, test_core_build_id);
	tcase_add_test(tc, test_mem_segments);
	tcase_add_loop_test(tc, test_core_compressed, 0, 4);
	tcase_add_loop_test(tc, test_core_compressed_chunk_end, 0, 4);
	tcase_add_test(tc, test_core_malformed);
	tcase_add_test(tc, test_core_bad_notes);
	tcase_add_test(tc, test_core_truncated);
	tcase_add_test(tc, test_core_not_a_file);
	tcase_add_test(tc, test_core_gcore);
	tcase_add_test(tc, test_core_write_roundtrip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	rc = check_run(core_suite());
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
