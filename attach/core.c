/*
 * core.c - reading an ELF core file (core.h): decompressing it when it is
 * compressed, then its program headers and notes.
 *
 * The layouts are the kernel's (fs/binfmt_elf.c, fill_note_info) and
 * gdb's (gcore, linux-tdep.c): notes named "CORE" with 4-byte padding,
 * struct elf_prstatus per thread, one NT_PRPSINFO, NT_FILE and, for a
 * crash, NT_SIGINFO after the PRSTATUS of the thread that took the
 * signal.  Every count, size and offset comes from the file and is
 * checked before it is used.
 */
#include <config.h>

#include "attach/core.h"
#include "common/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

/* Compressed input is read, and output written, this much at a time. */
#define CORE_CHUNK (64 * 1024)
/* xz: the most memory its decoder may take (xz -9 needs 65 MiB). */
#define CORE_XZ_MEMLIMIT (UINT64_C(256) << 20)
/* x86-64 user space ends below 2^57 (with 5-level paging); the one page
 * above it a core holds is the vsyscall page. */
#define CORE_USER_END (UINT64_C(1) << 57)
#define CORE_VSYSCALL UINT64_C(0xffffffffff600000)
/* NT_FILE's page size: a power of two up to this. */
#define CORE_MAX_PAGE_SIZE (UINT64_C(1) << 30)
/* core_build_id: program headers and PT_NOTE bytes read at most. */
#define CORE_BUILD_ID_MAX_PHDRS 256
#define CORE_BUILD_ID_MAX_NOTE 65536

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* Read len bytes at off: 0, 1 when the file ends first (errno 0), -1
 * with errno. */
static int pread_full(int fd, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	errno = 0;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 1;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- decompression ------------------------------------------------ */

/* Where a decompressor writes: a temporary file, bounded. */
struct sink {
	int fd;
	uint64_t size, max;
	const char *name, *fmt;
};

static int sink_write(struct sink *s, const void *buf, size_t len,
		      struct err *e)
{
	const uint8_t *p = buf;

	if (len > s->max - s->size)
		return err_set(e, SS_ELIMIT, "'%s': %s: decompresses to more "
			       "than %llu bytes", s->name, s->fmt,
			       (unsigned long long)s->max);
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, SS_EIO, "'%s': cannot write its "
				       "decompressed copy: %s", s->name,
				       n < 0 ? strerror(errno) : "no space");
		p += n;
		s->size += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next chunk of compressed input at *off: its length (0 at the end),
 * or -1 with *e filled. */
static ssize_t source_read(int fd, uint64_t *off, void *buf, const char *name,
			   struct err *e)
{
	for (;;) {
		ssize_t n = pread(fd, buf, CORE_CHUNK, (off_t)*off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, SS_EIO, "cannot read '%s': %s", name,
				strerror(errno));
			return -1;
		}
		*off += (uint64_t)n;
		return n;
	}
}

static int truncated(struct sink *s, struct err *e)
{
	return err_set(e, SS_EIO, "'%s': %s: truncated (the file ends inside "
		       "a compressed frame)", s->name, s->fmt);
}

static int unzstd(int in, struct sink *s, uint8_t *ib, uint8_t *ob,
		  struct err *e)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	uint64_t off = 0;
	size_t last = 1; /* nonzero: inside a frame */
	int rc = 0;

	if (!ds)
		return err_set(e, SS_EIO, "'%s': zstd: cannot set up the "
			       "decoder", s->name);
	ZSTD_initDStream(ds);
	for (;;) {
		ssize_t n = source_read(in, &off, ib, s->name, e);
		ZSTD_inBuffer zi = { ib, n > 0 ? (size_t)n : 0, 0 };
		ZSTD_outBuffer zo;

		if (n < 0) {
			rc = e ? e->code : SS_EIO;
			break;
		}
		if (n == 0)
			break;
		do {
			zo = (ZSTD_outBuffer){ ob, CORE_CHUNK, 0 };
			last = ZSTD_decompressStream(ds, &zo, &zi);
			if (ZSTD_isError(last)) {
				rc = err_set(e, SS_EIO, "'%s': zstd: %s",
					     s->name,
					     ZSTD_getErrorName(last));
				goto out;
			}
			rc = sink_write(s, ob, zo.pos, e);
			if (rc)
				goto out;
			/* A full output chunk may have more behind it,
			 * unless the frame ended with it: a call past the
			 * end would start a next frame and say so. */
		} while (zi.pos < zi.size || (zo.pos == zo.size && last));
	}
	if (!rc && last != 0)
		rc = truncated(s, e);
out:
	ZSTD_freeDStream(ds);
	return rc;
}

static int unlz4(int in, struct sink *s, uint8_t *ib, uint8_t *ob,
		 struct err *e)
{
	LZ4F_dctx *dctx;
	uint64_t off = 0;
	size_t hint = 1; /* nonzero: inside a frame */
	int rc = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
		return err_set(e, SS_EIO, "'%s': lz4: cannot set up the "
			       "decoder", s->name);
	for (;;) {
		ssize_t n = source_read(in, &off, ib, s->name, e);
		const uint8_t *p = ib;
		size_t left = n > 0 ? (size_t)n : 0, isz, osz;

		if (n < 0) {
			rc = e ? e->code : SS_EIO;
			break;
		}
		if (n == 0)
			break;
		do {
			isz = left;
			osz = CORE_CHUNK;
			hint = LZ4F_decompress(dctx, ob, &osz, p, &isz, NULL);
			if (LZ4F_isError(hint)) {
				rc = err_set(e, SS_EIO, "'%s': lz4: %s",
					     s->name,
					     LZ4F_getErrorName(hint));
				goto out;
			}
			p += isz;
			left -= isz;
			rc = sink_write(s, ob, osz, e);
			if (rc)
				goto out;
			if (!isz && !osz)
				break; /* wants more input */
			/* as in unzstd(): not past the frame's end */
		} while (left > 0 || (osz == CORE_CHUNK && hint));
	}
	if (!rc && hint != 0)
		rc = truncated(s, e);
out:
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

static int unxz(int in, struct sink *s, uint8_t *ib, uint8_t *ob,
		struct err *e)
{
	lzma_stream zs = LZMA_STREAM_INIT;
	lzma_action action = LZMA_RUN;
	uint64_t off = 0;
	lzma_ret ret;
	int rc = 0;

	if (lzma_stream_decoder(&zs, CORE_XZ_MEMLIMIT, LZMA_CONCATENATED) !=
	    LZMA_OK)
		return err_set(e, SS_EIO, "'%s': xz: cannot set up the "
			       "decoder", s->name);
	for (;;) {
		if (zs.avail_in == 0 && action == LZMA_RUN) {
			ssize_t n = source_read(in, &off, ib, s->name, e);

			if (n < 0) {
				rc = e ? e->code : SS_EIO;
				break;
			}
			zs.next_in = ib;
			zs.avail_in = (size_t)n;
			if (n == 0)
				action = LZMA_FINISH;
		}
		zs.next_out = ob;
		zs.avail_out = CORE_CHUNK;
		ret = lzma_code(&zs, action);
		rc = sink_write(s, ob, CORE_CHUNK - zs.avail_out, e);
		if (rc || ret == LZMA_STREAM_END)
			break;
		if (ret == LZMA_OK)
			continue;
		if (ret == LZMA_BUF_ERROR)
			rc = truncated(s, e);
		else if (ret == LZMA_MEMLIMIT_ERROR)
			rc = err_set(e, SS_ELIMIT, "'%s': xz: needs more than "
				     "%llu MiB to decompress", s->name,
				     (unsigned long long)(CORE_XZ_MEMLIMIT >>
							  20));
		else if (ret == LZMA_MEM_ERROR)
			rc = err_set(e, SS_EIO, "'%s': xz: out of memory",
				     s->name);
		else
			rc = err_set(e, SS_EIO, "'%s': xz: %s", s->name,
				     ret == LZMA_FORMAT_ERROR ?
				     "not in the xz format" :
				     ret == LZMA_OPTIONS_ERROR ?
				     "unsupported options" :
				     "corrupt data");
		break;
	}
	lzma_end(&zs);
	return rc;
}

static int ungzip(int in, struct sink *s, uint8_t *ib, uint8_t *ob,
		  struct err *e)
{
	z_stream zs;
	uint64_t off = 0;
	bool ended = false; /* at the end of a member */
	int rc = 0, ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return err_set(e, SS_EIO, "'%s': gzip: cannot set up the "
			       "decoder", s->name);
	for (;;) {
		ssize_t n = source_read(in, &off, ib, s->name, e);

		if (n < 0) {
			rc = e ? e->code : SS_EIO;
			break;
		}
		if (n == 0)
			break;
		zs.next_in = ib;
		zs.avail_in = (uInt)n;
		do {
			/* Members one after the other (pigz, cat a.gz
			 * b.gz) make one stream. */
			if (ended) {
				inflateReset(&zs);
				ended = false;
			}
			zs.next_out = ob;
			zs.avail_out = CORE_CHUNK;
			ret = inflate(&zs, Z_NO_FLUSH);
			if (ret != Z_OK && ret != Z_STREAM_END &&
			    ret != Z_BUF_ERROR) {
				rc = err_set(e, SS_EIO, "'%s': gzip: %s",
					     s->name, zs.msg ? zs.msg :
					     "corrupt data");
				goto out;
			}
			rc = sink_write(s, ob, CORE_CHUNK - zs.avail_out, e);
			if (rc)
				goto out;
			if (ret == Z_STREAM_END)
				ended = true;
			else if (ret == Z_BUF_ERROR)
				break; /* wants more input */
			/* as in unzstd(): not past a member's end */
		} while (zs.avail_in > 0 || (zs.avail_out == 0 && !ended));
	}
	if (!rc && !ended)
		rc = truncated(s, e);
out:
	inflateEnd(&zs);
	return rc;
}

/* An unnamed temporary file for the decompressed bytes: on disk under
 * $TMPDIR or /var/tmp when it can (a core can be larger than memory),
 * else in memory. */
static int tmp_open(void)
{
	const char *dirs[] = { secure_getenv("TMPDIR"), "/var/tmp", "/tmp" };
	int fd;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || !dirs[i][0])
			continue;
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC,
			  0600);
		if (fd >= 0)
			return fd;
	}
	return memfd_create("snakescope-core", MFD_CLOEXEC);
}

enum core_fmt { FMT_PLAIN, FMT_ZSTD, FMT_LZ4, FMT_XZ, FMT_GZIP };

static enum core_fmt sniff(const uint8_t *m, size_t n)
{
	if (n >= 4 && !memcmp(m, "\x28\xb5\x2f\xfd", 4))
		return FMT_ZSTD;
	if (n >= 4 && !memcmp(m, "\x04\x22\x4d\x18", 4))
		return FMT_LZ4;
	if (n >= 6 && !memcmp(m, "\xfd\x37\x7a\x58\x5a\x00", 6))
		return FMT_XZ;
	if (n >= 2 && !memcmp(m, "\x1f\x8b", 2))
		return FMT_GZIP;
	return FMT_PLAIN;
}

static int decompress(int in, enum core_fmt fmt, struct core *c,
		      uint64_t max, struct err *e)
{
	static const char *const names[] = {
		[FMT_ZSTD] = "zstd", [FMT_LZ4] = "lz4",
		[FMT_XZ] = "xz", [FMT_GZIP] = "gzip",
	};
	struct sink s = { .max = max, .name = c->path, .fmt = names[fmt] };
	uint8_t *ib, *ob;
	int rc;

	s.fd = tmp_open();
	if (s.fd < 0)
		return err_set(e, SS_EIO, "'%s': cannot make a temporary "
			       "file to decompress it into: %s", c->path,
			       strerror(errno));
	ib = xmalloc(CORE_CHUNK);
	ob = xmalloc(CORE_CHUNK);
	switch (fmt) {
	case FMT_ZSTD:
		rc = unzstd(in, &s, ib, ob, e);
		break;
	case FMT_LZ4:
		rc = unlz4(in, &s, ib, ob, e);
		break;
	case FMT_XZ:
		rc = unxz(in, &s, ib, ob, e);
		break;
	default:
		rc = ungzip(in, &s, ib, ob, e);
		break;
	}
	free(ib);
	free(ob);
	if (rc) {
		close(s.fd);
		return rc;
	}
	c->fd = s.fd;
	c->size = s.size;
	c->compression = xstrdup(names[fmt]);
	return 0;
}

/* ---- parsing ------------------------------------------------------- */

/* One NT_FILE entry before it becomes a maps entry. */
struct nt_file {
	uint64_t lo, hi, offset;
	char *path;
	bool deleted;
};

struct parse {
	struct core *c;
	size_t threads_cap, segs_cap;
	pid_t last_tid;       /* the NT_PRSTATUS before the current note */
	bool have_psinfo, have_file;
	struct nt_file *files;
	size_t nfiles;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct core_segment *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int file_cmp(const void *a, const void *b)
{
	const struct nt_file *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The segment holding addr, or NULL. */
static const struct core_segment *seg_find(const struct core *c,
					   uint64_t addr)
{
	size_t lo = 0, hi = c->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->segs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - c->segs[lo - 1].vaddr >= c->segs[lo - 1].memsz)
		return NULL;
	return &c->segs[lo - 1];
}

static int add_load(struct parse *p, size_t i, const Elf64_Phdr *ph,
		    struct err *e)
{
	struct core *c = p->c;
	struct core_segment *s;
	uint64_t end;

	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_filesz > ph->p_memsz)
		return err_set(e, SS_EIO, "'%s': PT_LOAD %zu holds more bytes "
			       "(0x%llx) than it maps (0x%llx)", c->path, i,
			       (unsigned long long)ph->p_filesz,
			       (unsigned long long)ph->p_memsz);
	end = ph->p_vaddr + ph->p_memsz;
	if (!((end > ph->p_vaddr && end <= CORE_USER_END) ||
	      (ph->p_vaddr >= CORE_VSYSCALL &&
	       ph->p_memsz - 1 <= UINT64_MAX - ph->p_vaddr)))
		return err_set(e, SS_EIO, "'%s': PT_LOAD %zu [0x%llx, +0x%llx) "
			       "is not a user-space range", c->path, i,
			       (unsigned long long)ph->p_vaddr,
			       (unsigned long long)ph->p_memsz);
	if (ph->p_offset + ph->p_filesz < ph->p_offset)
		return err_set(e, SS_EIO, "'%s': PT_LOAD %zu: offset 0x%llx "
			       "and size 0x%llx wrap", c->path, i,
			       (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz);
	if (c->nsegs >= CORE_MAX_SEGMENTS)
		return err_set(e, SS_ELIMIT, "'%s': more than %d PT_LOAD "
			       "segments", c->path, CORE_MAX_SEGMENTS);
	/* Bytes past the end of the file: a core cut short.  Its other
	 * segments are still good. */
	if (ph->p_offset + ph->p_filesz > c->size)
		c->truncated = true;
	c->segs = xgrow(c->segs, &p->segs_cap, c->nsegs + 1, sizeof(*c->segs));
	s = &c->segs[c->nsegs++];
	s->vaddr = ph->p_vaddr;
	s->memsz = ph->p_memsz;
	s->offset = ph->p_offset;
	s->filesz = ph->p_filesz;
	s->r = ph->p_flags & PF_R;
	s->w = ph->p_flags & PF_W;
	s->x = ph->p_flags & PF_X;
	return 0;
}

static int note_prstatus(struct parse *p, const uint8_t *d, uint32_t n,
			 uint64_t at, struct err *e)
{
	struct core *c = p->c;
	struct elf_prstatus st;
	struct core_thread *t;

	if (n < sizeof(st))
		return err_set(e, SS_EIO, "'%s': the NT_PRSTATUS at 0x%llx has "
			       "%u bytes, not %zu", c->path,
			       (unsigned long long)at, n, sizeof(st));
	if (c->nthreads >= CORE_MAX_THREADS)
		return err_set(e, SS_ELIMIT, "'%s': more than %d threads",
			       c->path, CORE_MAX_THREADS);
	memcpy(&st, d, sizeof(st));
	c->threads = xgrow(c->threads, &p->threads_cap, c->nthreads + 1,
			   sizeof(*c->threads));
	t = &c->threads[c->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = st.pr_pid;
	t->cursig = st.pr_cursig;
	_Static_assert(sizeof(t->regs) == sizeof(st.pr_reg),
		       "pr_reg is a struct user_regs_struct");
	memcpy(&t->regs, &st.pr_reg, sizeof(t->regs));
	p->last_tid = st.pr_pid;
	return 0;
}

/* A fixed-size text field: up to its first NUL, trailing spaces cut. */
static void copy_field(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);

	while (len > 0 && src[len - 1] == ' ')
		len--;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int note_prpsinfo(struct parse *p, const uint8_t *d, uint32_t n,
			 uint64_t at, struct err *e)
{
	struct core *c = p->c;
	struct elf_prpsinfo ps;

	if (n < sizeof(ps))
		return err_set(e, SS_EIO, "'%s': the NT_PRPSINFO at 0x%llx has "
			       "%u bytes, not %zu", c->path,
			       (unsigned long long)at, n, sizeof(ps));
	if (p->have_psinfo)
		return 0;
	p->have_psinfo = true;
	memcpy(&ps, d, sizeof(ps));
	c->pid = ps.pr_pid;
	c->uid = ps.pr_uid;
	_Static_assert(sizeof(c->comm) == sizeof(ps.pr_fname) + 1, "comm");
	_Static_assert(sizeof(c->args) == sizeof(ps.pr_psargs) + 1, "args");
	copy_field(c->comm, ps.pr_fname, sizeof(ps.pr_fname));
	copy_field(c->args, ps.pr_psargs, sizeof(ps.pr_psargs));
	return 0;
}

static int note_siginfo(struct parse *p, const uint8_t *d, uint32_t n,
			uint64_t at, struct err *e)
{
	struct core *c = p->c;
	siginfo_t si;

	if (n < sizeof(si))
		return err_set(e, SS_EIO, "'%s': the NT_SIGINFO at 0x%llx has "
			       "%u bytes, not %zu", c->path,
			       (unsigned long long)at, n, sizeof(si));
	memcpy(&si, d, sizeof(si));
	/* The kernel writes one, after the thread that took the signal;
	 * gcore one per thread, mostly empty: keep the first real one. */
	if (c->has_siginfo || si.si_signo == 0)
		return 0;
	c->has_siginfo = true;
	c->si_signo = si.si_signo;
	c->si_code = si.si_code;
	c->si_tid = p->last_tid;
	/* si_addr is in the union only for a fault the kernel raised (a
	 * positive si_code); kill() puts si_pid/si_uid there. */
	if ((si.si_signo == SIGSEGV || si.si_signo == SIGBUS ||
	     si.si_signo == SIGILL || si.si_signo == SIGFPE) &&
	    si.si_code > 0)
		c->si_fault_addr = (uint64_t)(uintptr_t)si.si_addr;
	return 0;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * NT_FILE: count, page size, count × (start, end, page offset), then
 * count NUL-terminated names.
 */
static int note_file(struct parse *p, const uint8_t *d, uint32_t n,
		     uint64_t at, struct err *e)
{
	struct core *c = p->c;
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	uint64_t count, page, names;

	if (p->have_file)
		return err_set(e, SS_EIO, "'%s': a second NT_FILE note at "
			       "0x%llx", c->path, (unsigned long long)at);
	p->have_file = true;
	if (n < 16)
		return err_set(e, SS_EIO, "'%s': the NT_FILE at 0x%llx has %u "
			       "bytes: no room for its header", c->path,
			       (unsigned long long)at, n);
	count = get64(d);
	page = get64(d + 8);
	if ((n - 16) / 24 < count)
		return err_set(e, SS_EIO, "'%s': the NT_FILE at 0x%llx says "
			       "%llu files, more than its %u bytes hold",
			       c->path, (unsigned long long)at,
			       (unsigned long long)count, n);
	if (count > CORE_MAX_SEGMENTS)
		return err_set(e, SS_ELIMIT, "'%s': NT_FILE: more than %d "
			       "files", c->path, CORE_MAX_SEGMENTS);
	if (page == 0 || (page & (page - 1)) || page > CORE_MAX_PAGE_SIZE)
		return err_set(e, SS_EIO, "'%s': NT_FILE: bad page size %llu",
			       c->path, (unsigned long long)page);
	names = 16 + count * 24;
	p->files = xcalloc(count ? count : 1, sizeof(*p->files));
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *ent = d + 16 + i * 24;
		struct nt_file *f = &p->files[p->nfiles];
		uint64_t pgoff = get64(ent + 16);
		const char *name = (const char *)d + names;
		const char *nul;
		size_t len;

		nul = names < n ? memchr(name, '\0', n - names) : NULL;
		if (!nul)
			return err_set(e, SS_EIO, "'%s': truncated: NT_FILE "
				       "name %llu runs past its note",
				       c->path, (unsigned long long)i);
		len = (size_t)(nul - name);
		names += len + 1;
		f->lo = get64(ent);
		f->hi = get64(ent + 8);
		if (f->lo >= f->hi || pgoff > UINT64_MAX / page)
			return err_set(e, SS_EIO, "'%s': NT_FILE entry %llu "
				       "(0x%llx-0x%llx, page %llu) is "
				       "malformed", c->path,
				       (unsigned long long)i,
				       (unsigned long long)f->lo,
				       (unsigned long long)f->hi,
				       (unsigned long long)pgoff);
		f->offset = pgoff * page;
		if (len >= dlen && !memcmp(name + len - dlen, deleted, dlen)) {
			f->deleted = true;
			len -= dlen;
		}
		f->path = xstrndup(name, len);
		p->nfiles++;
	}
	return 0;
}

/* Walk the notes of one PT_NOTE, read whole into d[len] from file
 * offset base. */
static int parse_notes(struct parse *p, const uint8_t *d, uint64_t len,
		       uint64_t base, struct err *e)
{
	struct core *c = p->c;
	uint64_t pos = 0;

	while (pos < len) {
		uint32_t namesz, descsz, type;
		uint64_t desc, next, at = base + pos;
		const uint8_t *name;
		int rc = 0;

		if (len - pos < 12)
			return err_set(e, SS_EIO, "'%s': truncated: the note "
				       "at 0x%llx runs past its segment",
				       c->path, (unsigned long long)at);
		memcpy(&namesz, d + pos, 4);
		memcpy(&descsz, d + pos + 4, 4);
		memcpy(&type, d + pos + 8, 4);
		name = d + pos + 12;
		/* 32-bit sizes padded to 4 in 64 bits: no wrap. */
		desc = pos + 12 + (((uint64_t)namesz + 3) & ~UINT64_C(3));
		next = desc + (((uint64_t)descsz + 3) & ~UINT64_C(3));
		if (desc > len || descsz > len - desc)
			return err_set(e, SS_EIO, "'%s': truncated: the note "
				       "at 0x%llx (%u + %u bytes) runs past "
				       "its segment", c->path,
				       (unsigned long long)at, namesz,
				       descsz);
		if (namesz == 5 && !memcmp(name, "CORE", 5)) {
			switch (type) {
			case NT_PRSTATUS:
				rc = note_prstatus(p, d + desc, descsz, at, e);
				break;
			case NT_PRPSINFO:
				rc = note_prpsinfo(p, d + desc, descsz, at, e);
				break;
			case NT_SIGINFO:
				rc = note_siginfo(p, d + desc, descsz, at, e);
				break;
			case NT_FILE:
				rc = note_file(p, d + desc, descsz, at, e);
				break;
			}
		}
		if (rc)
			return rc;
		/* The last note's padding may be missing. */
		pos = next < len ? next : len;
	}
	return 0;
}

static int read_notes(struct parse *p, const Elf64_Phdr *ph, struct err *e)
{
	struct core *c = p->c;
	uint8_t *d;
	int rc;

	if (ph->p_filesz == 0)
		return 0;
	if (ph->p_offset > c->size || ph->p_filesz > c->size - ph->p_offset)
		return err_set(e, SS_EIO, "'%s': truncated: the notes at "
			       "0x%llx (0x%llx bytes) run past the end of the "
			       "file (0x%llx bytes)", c->path,
			       (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz,
			       (unsigned long long)c->size);
	if (ph->p_filesz > CORE_MAX_NOTES)
		return err_set(e, SS_ELIMIT, "'%s': notes of %llu bytes, more "
			       "than %llu", c->path,
			       (unsigned long long)ph->p_filesz,
			       (unsigned long long)CORE_MAX_NOTES);
	d = xmalloc((size_t)ph->p_filesz);
	rc = core_read(c, ph->p_offset, d, (size_t)ph->p_filesz, e);
	if (!rc)
		rc = parse_notes(p, d, ph->p_filesz, ph->p_offset, e);
	free(d);
	return rc;
}

/* NT_FILE's entries as the memory map, with each one's permissions from
 * the PT_LOAD that maps it. */
static void build_maps(struct parse *p)
{
	struct core *c = p->c;

	if (!p->nfiles)
		return;
	qsort(p->files, p->nfiles, sizeof(*p->files), file_cmp);
	c->maps.e = xcalloc(p->nfiles, sizeof(*c->maps.e));
	c->maps.cap = p->nfiles;
	for (size_t i = 0; i < p->nfiles; i++) {
		struct maps_entry *me = &c->maps.e[c->maps.n++];
		const struct core_segment *s = seg_find(c, p->files[i].lo);

		me->lo = p->files[i].lo;
		me->hi = p->files[i].hi;
		me->offset = p->files[i].offset;
		me->path = p->files[i].path;
		me->deleted = p->files[i].deleted;
		p->files[i].path = NULL;
		if (s) {
			me->r = s->r;
			me->w = s->w;
			me->x = s->x;
		} else {
			/* gcore writes no PT_LOAD for a file mapping it
			 * does not dump (unmodified code and read-only
			 * data); the kernel writes one for every mapping.
			 * Such a mapping was readable, most likely. */
			me->r = true;
		}
	}
}

static int parse(struct core *c, struct err *e)
{
	struct parse p = { .c = c };
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	uint64_t phnum;
	int rc;

	if (c->size < EI_NIDENT ||
	    core_read(c, 0, ident, sizeof(ident), NULL) ||
	    memcmp(ident, ELFMAG, SELFMAG))
		return err_set(e, SS_EIO, "'%s' is not a core file (not ELF)",
			       c->path);
	if (ident[EI_CLASS] == ELFCLASS32)
		return err_set(e, SS_EUNSUPPORTED, "'%s' is a 32-bit ELF file: "
			       "only x86-64 cores are supported", c->path);
	if (ident[EI_CLASS] != ELFCLASS64)
		return err_set(e, SS_EIO, "'%s': bad ELF class %u", c->path,
			       ident[EI_CLASS]);
	if (ident[EI_DATA] != ELFDATA2LSB)
		return err_set(e, SS_EUNSUPPORTED, "'%s' is not little-endian: "
			       "only x86-64 cores are supported", c->path);
	if (c->size < sizeof(eh) || core_read(c, 0, &eh, sizeof(eh), NULL))
		return err_set(e, SS_EIO, "'%s': truncated: the ELF header "
			       "needs %zu bytes, the file has %llu", c->path,
			       sizeof(eh), (unsigned long long)c->size);
	if (eh.e_type != ET_CORE)
		return err_set(e, SS_EIO, "'%s' is not a core file (ELF type "
			       "%u)", c->path, eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return err_set(e, SS_EUNSUPPORTED, "'%s' is a core of another "
			       "machine (ELF machine %u): only x86-64 cores "
			       "are supported", c->path, eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return err_set(e, SS_EIO, "'%s': program headers of %u bytes, "
			       "not %zu", c->path, eh.e_phentsize,
			       sizeof(Elf64_Phdr));
	phnum = eh.e_phnum;
	/* More than 65534 headers: the count is in section header 0. */
	if (phnum == PN_XNUM) {
		Elf64_Shdr sh;

		if (eh.e_shoff == 0 || eh.e_shoff > c->size ||
		    c->size - eh.e_shoff < sizeof(sh) ||
		    core_read(c, eh.e_shoff, &sh, sizeof(sh), NULL))
			return err_set(e, SS_EIO, "'%s': truncated: no section "
				       "header 0 for its PN_XNUM program "
				       "headers", c->path);
		phnum = sh.sh_info;
	}
	if (phnum == 0)
		return err_set(e, SS_EIO, "'%s': no program headers", c->path);
	if (phnum > CORE_MAX_SEGMENTS + 1)
		return err_set(e, SS_ELIMIT, "'%s': %llu program headers, more "
			       "than %d", c->path, (unsigned long long)phnum,
			       CORE_MAX_SEGMENTS + 1);
	if (eh.e_phoff > c->size ||
	    phnum * sizeof(Elf64_Phdr) > c->size - eh.e_phoff)
		return err_set(e, SS_EIO, "'%s': truncated: the program headers "
			       "at 0x%llx run past the end of the file (0x%llx "
			       "bytes)", c->path,
			       (unsigned long long)eh.e_phoff,
			       (unsigned long long)c->size);
	ph = xmalloc((size_t)phnum * sizeof(*ph));
	rc = core_read(c, eh.e_phoff, ph, (size_t)phnum * sizeof(*ph), e);
	for (size_t i = 0; !rc && i < phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			rc = add_load(&p, i, &ph[i], e);
	if (!rc && c->nsegs) {
		qsort(c->segs, c->nsegs, sizeof(*c->segs), seg_cmp);
		for (size_t i = 1; !rc && i < c->nsegs; i++)
			if (c->segs[i].vaddr - c->segs[i - 1].vaddr <
			    c->segs[i - 1].memsz)
				rc = err_set(e, SS_EIO, "'%s': PT_LOAD segments "
					     "overlap at 0x%llx", c->path,
					     (unsigned long long)
					     c->segs[i].vaddr);
	}
	for (size_t i = 0; !rc && i < phnum; i++)
		if (ph[i].p_type == PT_NOTE)
			rc = read_notes(&p, &ph[i], e);
	free(ph);
	if (!rc && c->nthreads == 0)
		rc = err_set(e, SS_EIO, "'%s': no NT_PRSTATUS note: the core "
			     "holds no thread", c->path);
	if (!rc)
		build_maps(&p);
	for (size_t i = 0; i < p.nfiles; i++)
		free(p.files[i].path);
	free(p.files);
	return rc;
}

/* ---- the interface ------------------------------------------------- */

int core_open_fd(int fd, const char *name, uint64_t max_decompressed,
		 struct core **out, struct err *e)
{
	struct core *c;
	struct stat st;
	uint8_t magic[6];
	size_t nmagic;
	enum core_fmt fmt;
	int rc;

	*out = NULL;
	if (fstat(fd, &st) < 0)
		return err_set(e, SS_EIO, "cannot read '%s': %s", name,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, SS_EIO, "'%s' is not a regular file", name);
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(name);
	c->fd = -1;
	nmagic = st.st_size < (off_t)sizeof(magic) ? (size_t)st.st_size :
		 sizeof(magic);
	if (pread_full(fd, 0, magic, nmagic)) {
		rc = err_set(e, SS_EIO, "cannot read '%s': %s", name,
			     errno ? strerror(errno) : "the file shrank");
		goto fail;
	}
	fmt = sniff(magic, nmagic);
	if (fmt == FMT_PLAIN) {
		c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (c->fd < 0) {
			rc = err_set(e, SS_EIO, "cannot read '%s': %s", name,
				     strerror(errno));
			goto fail;
		}
		c->size = (uint64_t)st.st_size;
	} else {
		rc = decompress(fd, fmt, c, max_decompressed, e);
		if (rc)
			goto fail;
	}
	rc = parse(c, e);
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	core_free(c);
	return rc;
}

int core_open(const char *path, struct core **out, struct err *e)
{
	int fd, rc;

	*out = NULL;
	/* O_NONBLOCK: a FIFO named as a core must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, SS_EIO, "cannot open '%s': %s", path,
			       strerror(errno));
	rc = core_open_fd(fd, path, CORE_MAX_DECOMPRESSED, out, e);
	close(fd);
	return rc;
}

void core_free(struct core *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c->compression);
	free(c->threads);
	free(c->segs);
	maps_release(&c->maps);
	free(c);
}

int core_read(const struct core *c, uint64_t off, void *buf, size_t len,
	      struct err *e)
{
	int rc;

	if (len > c->size || off > c->size - len)
		return err_set(e, SS_EIO, "'%s': cannot read %zu bytes at "
			       "offset 0x%llx: the file has 0x%llx",
			       base_name(c->path), len,
			       (unsigned long long)off,
			       (unsigned long long)c->size);
	rc = pread_full(c->fd, off, buf, len);
	if (rc)
		return err_set(e, SS_EIO, "cannot read '%s' at offset 0x%llx: "
			       "%s", c->path, (unsigned long long)off,
			       rc < 0 ? strerror(errno) : "the file shrank");
	return 0;
}

/* ---- memory -------------------------------------------------------- */

struct core_mem {
	const struct core *c;
	core_file_read_fn file_read;
	void *arg;
};

static int cm_read_bytes(void *arg, uint64_t off, void *buf, size_t len,
			 struct err *e)
{
	struct core_mem *cm = arg;

	if (core_read(cm->c, off, buf, len, e))
		return SS_EREAD; /* e says why */
	return 0;
}

/* What a segment does not hold: a truncated core's missing bytes fail;
 * a file-backed mapping's undumped pages come from its file, piece by
 * piece when NT_FILE splits the range. */
static int cm_fallback(void *arg, uint64_t addr, void *buf, size_t len,
		       struct err *e)
{
	struct core_mem *cm = arg;
	const struct core *c = cm->c;
	const struct core_segment *s = seg_find(c, addr);
	uint8_t *out = buf;

	if (s && addr - s->vaddr < s->filesz)
		return err_set(e, SS_EREAD, "cannot read 0x%llx: '%s' is "
			       "truncated (it ends before the bytes of this "
			       "segment)", (unsigned long long)addr,
			       base_name(c->path));
	while (len > 0) {
		const struct maps_entry *me = maps_find(&c->maps, addr);
		uint64_t rel, off;
		size_t n;

		if (!me)
			return err_set(e, SS_EREAD, "cannot read 0x%llx: not "
				       "dumped in the core (anonymous memory)",
				       (unsigned long long)addr);
		rel = addr - me->lo;
		off = me->offset + rel;
		n = me->hi - addr < len ? (size_t)(me->hi - addr) : len;
		if (!cm->file_read)
			return err_set(e, SS_EREAD, "cannot read 0x%llx: not "
				       "dumped in the core (a page of '%s')",
				       (unsigned long long)addr, me->path);
		if (off < me->offset ||
		    cm->file_read(cm->arg, me, off, out, n))
			return err_set(e, SS_EREAD, "cannot read 0x%llx: not "
				       "dumped in the core, and '%s' cannot "
				       "be read at offset 0x%llx",
				       (unsigned long long)addr, me->path,
				       (unsigned long long)off);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static const struct mem_segments_ops core_mem_ops = {
	.read_bytes = cm_read_bytes,
	.fallback = cm_fallback,
	.free = free,
};

/* The first segment that starts above addr: its index, c->nsegs when
 * none does. */
static size_t seg_above(const struct core *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->segs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Segments of nothing stored (filesz 0) for the parts of NT_FILE
 * mappings that no PT_LOAD covers, appended to segs[*n]: their reads go
 * to the file.  One pass over the sorted entries and segments, so that
 * overlapping entries cost no more than disjoint ones. */
static struct mem_segment *file_gaps(const struct core *c,
				     struct mem_segment *segs, size_t *n,
				     size_t *cap)
{
	uint64_t done = 0; /* everything below was handled */

	for (size_t i = 0; i < c->maps.n; i++) {
		uint64_t cur = c->maps.e[i].lo > done ? c->maps.e[i].lo : done;
		uint64_t hi = c->maps.e[i].hi;

		while (cur < hi) {
			const struct core_segment *s = seg_find(c, cur);
			size_t next;
			uint64_t end;

			if (s) {
				end = s->vaddr + s->memsz;
				cur = end < hi ? end : hi;
				continue;
			}
			next = seg_above(c, cur);
			end = next < c->nsegs && c->segs[next].vaddr < hi ?
			      c->segs[next].vaddr : hi;
			segs = xgrow(segs, cap, *n + 1, sizeof(*segs));
			segs[(*n)++] = (struct mem_segment){ cur, end - cur,
							     0, 0 };
			cur = end;
		}
		if (hi > done)
			done = hi;
	}
	return segs;
}

struct mem_reader *core_mem_new(const struct core *c,
				core_file_read_fn file_read, void *arg)
{
	struct core_mem *cm = xcalloc(1, sizeof(*cm));
	size_t cap = c->nsegs ? c->nsegs : 1, n = c->nsegs;
	struct mem_segment *segs = xcalloc(cap, sizeof(*segs));
	struct mem_reader *m;

	cm->c = c;
	cm->file_read = file_read;
	cm->arg = arg;
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct core_segment *s = &c->segs[i];

		segs[i].vaddr = s->vaddr;
		segs[i].memsz = s->memsz;
		segs[i].offset = s->offset;
		/* Stored bytes the file does not have go to the fallback,
		 * which fails them. */
		segs[i].filesz = s->offset >= c->size ? 0 :
				 s->filesz < c->size - s->offset ?
				 s->filesz : c->size - s->offset;
	}
	segs = file_gaps(c, segs, &n, &cap);
	m = mem_segments_new(segs, n, &core_mem_ops, cm);
	free(segs);
	return m;
}

size_t core_build_id(struct mem_reader *mem, const struct maps_entry *me,
		     unsigned char *id, size_t size)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[CORE_BUILD_ID_MAX_PHDRS];
	uint8_t *note;
	uint64_t bias = 0;
	bool have_bias = false;
	size_t found = 0;

	if (me->offset != 0 || mem_read(mem, me->lo, &eh, sizeof(eh), NULL) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > CORE_BUILD_ID_MAX_PHDRS ||
	    me->lo + eh.e_phoff < me->lo ||
	    mem_read(mem, me->lo + eh.e_phoff, ph,
		     eh.e_phnum * sizeof(Elf64_Phdr), NULL))
		return 0;
	/* The load bias: where the first PT_LOAD (the one mapping the
	 * header) landed. */
	for (size_t i = 0; i < eh.e_phnum && !have_bias; i++) {
		if (ph[i].p_type == PT_LOAD) {
			bias = me->lo - (ph[i].p_vaddr - ph[i].p_offset);
			have_bias = true;
		}
	}
	if (!have_bias)
		return 0;
	note = xmalloc(CORE_BUILD_ID_MAX_NOTE);
	for (size_t i = 0; i < eh.e_phnum && !found; i++) {
		uint64_t len = ph[i].p_filesz, pos = 0;

		if (ph[i].p_type != PT_NOTE || len == 0)
			continue;
		if (len > CORE_BUILD_ID_MAX_NOTE)
			len = CORE_BUILD_ID_MAX_NOTE;
		if (mem_read(mem, bias + ph[i].p_vaddr, note, (size_t)len,
			     NULL))
			continue;
		while (len - pos >= 12) {
			uint32_t namesz, descsz, type;
			uint64_t desc;

			memcpy(&namesz, note + pos, 4);
			memcpy(&descsz, note + pos + 4, 4);
			memcpy(&type, note + pos + 8, 4);
			desc = pos + 12 + (((uint64_t)namesz + 3) &
					   ~UINT64_C(3));
			if (desc > len || descsz > len - desc)
				break;
			if (type == NT_GNU_BUILD_ID && namesz == 4 &&
			    !memcmp(note + pos + 12, "GNU", 4) &&
			    descsz > 0 && descsz <= size) {
				memcpy(id, note + desc, descsz);
				found = descsz;
				break;
			}
			pos = desc + (((uint64_t)descsz + 3) & ~UINT64_C(3));
		}
	}
	free(note);
	return found;
}
