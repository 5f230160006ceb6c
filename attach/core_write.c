/*
 * core_write.c - an ELF core file from parts (core_write.h).
 *
 * The layout is the kernel's (fs/binfmt_elf.c): the ELF header, the
 * program headers (the PT_NOTE first), the notes named "CORE" with 4-byte
 * padding, then each PT_LOAD's bytes at a page-aligned offset.  gdb takes
 * the first NT_PRSTATUS for the current thread.
 */
#include <config.h>

#include "attach/core_write.h"
#include "common/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#define CW_PAGE 4096u

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t note_size(size_t desc)
{
	return 12 + 8 /* "CORE\0" padded */ + align_up(desc, 4);
}

static size_t file_note_len(const struct core_write *cw)
{
	size_t n = 16 + cw->nfiles * 24;

	for (size_t i = 0; i < cw->nfiles; i++)
		n += strlen(cw->files[i].path) + 1;
	return n;
}

static uint64_t notes_len(const struct core_write *cw)
{
	uint64_t n = cw->nthreads * note_size(sizeof(struct elf_prstatus)) +
		     note_size(sizeof(struct elf_prpsinfo)) +
		     note_size(file_note_len(cw));

	if (cw->auxv)
		n += note_size(cw->auxv_len);
	return n;
}

/* Where the first segment's bytes go. */
static uint64_t data_start(const struct core_write *cw)
{
	return align_up(sizeof(Elf64_Ehdr) +
			(cw->nsegs + 1) * sizeof(Elf64_Phdr) + notes_len(cw),
			CW_PAGE);
}

uint64_t core_write_size(const struct core_write *cw)
{
	uint64_t n = data_start(cw);

	for (size_t i = 0; i < cw->nsegs; i++)
		n = align_up(n, CW_PAGE) + cw->segs[i].len;
	return n;
}

/* ---- a buffered sequential writer ----------------------------------- */

struct out {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint64_t pos;   /* bytes written, buffered included */
	int err;        /* errno of the first failed write */
};

static void out_flush(struct out *o)
{
	size_t done = 0;

	while (!o->err && done < o->len) {
		ssize_t w = write(o->fd, o->buf + done, o->len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			o->err = w < 0 ? errno : EIO;
		else
			done += (size_t)w;
	}
	o->len = 0;
}

static void out_put(struct out *o, const void *p, size_t n)
{
	const uint8_t *s = p;

	o->pos += n;
	while (n) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == o->cap)
			out_flush(o);
	}
}

static void out_zeros(struct out *o, uint64_t n)
{
	static const uint8_t zero[256];

	while (n) {
		size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);

		out_put(o, zero, k);
		n -= k;
	}
}

static void put_note(struct out *o, uint32_t type, const void *desc,
		     size_t len)
{
	uint32_t hdr[3] = { 5, (uint32_t)len, type };
	static const char name[8] = "CORE";

	out_put(o, hdr, sizeof(hdr));
	out_put(o, name, sizeof(name));
	out_put(o, desc, len);
	out_zeros(o, align_up(len, 4) - len);
}

static void put_prstatus(struct out *o, const struct core_write *cw,
			 const struct core_write_thread *t)
{
	struct elf_prstatus st;

	memset(&st, 0, sizeof(st));
	st.pr_pid = t->tid;
	st.pr_ppid = cw->ppid;
	st.pr_pgrp = cw->pid;
	st.pr_sid = cw->pid;
	_Static_assert(sizeof(st.pr_reg) == sizeof(t->regs),
		       "pr_reg is a struct user_regs_struct");
	memcpy(&st.pr_reg, &t->regs, sizeof(st.pr_reg));
	put_note(o, NT_PRSTATUS, &st, sizeof(st));
}

static void put_prpsinfo(struct out *o, const struct core_write *cw)
{
	struct elf_prpsinfo ps;

	memset(&ps, 0, sizeof(ps));
	ps.pr_sname = 'R';
	ps.pr_uid = cw->uid;
	ps.pr_gid = cw->gid;
	ps.pr_pid = cw->pid;
	ps.pr_ppid = cw->ppid;
	ps.pr_pgrp = cw->pid;
	ps.pr_sid = cw->pid;
	if (cw->fname)
		strncpy(ps.pr_fname, cw->fname, sizeof(ps.pr_fname) - 1);
	if (cw->psargs)
		strncpy(ps.pr_psargs, cw->psargs, sizeof(ps.pr_psargs) - 1);
	put_note(o, NT_PRPSINFO, &ps, sizeof(ps));
}

static void put_file_note(struct out *o, const struct core_write *cw)
{
	size_t len = file_note_len(cw), at = 16;
	uint8_t *d = xcalloc(1, len);
	uint64_t v[2] = { cw->nfiles, CW_PAGE };

	memcpy(d, v, sizeof(v));
	for (size_t i = 0; i < cw->nfiles; i++) {
		uint64_t ent[3] = { cw->files[i].lo, cw->files[i].hi,
				    cw->files[i].offset / CW_PAGE };

		memcpy(d + at, ent, sizeof(ent));
		at += sizeof(ent);
	}
	for (size_t i = 0; i < cw->nfiles; i++) {
		size_t n = strlen(cw->files[i].path) + 1;

		memcpy(d + at, cw->files[i].path, n);
		at += n;
	}
	put_note(o, NT_FILE, d, len);
	free(d);
}

static int check(const struct core_write *cw, struct err *e)
{
	if (!cw->nthreads)
		return err_set(e, SS_EINVAL, "a core needs a thread");
	if (cw->nsegs > CORE_WRITE_MAX_SEGMENTS)
		return err_set(e, SS_EINVAL, "%zu segments, more than %d",
			       cw->nsegs, CORE_WRITE_MAX_SEGMENTS);
	for (size_t i = 0; i < cw->nsegs; i++) {
		const struct core_write_segment *s = &cw->segs[i];

		if (s->vaddr % CW_PAGE || s->len % CW_PAGE || !s->len ||
		    s->vaddr + s->len < s->vaddr)
			return err_set(e, SS_EINVAL, "segment 0x%llx+%zu is not "
				       "whole pages", (unsigned long long)s->vaddr,
				       s->len);
		if (i && s->vaddr < cw->segs[i - 1].vaddr + cw->segs[i - 1].len)
			return err_set(e, SS_EINVAL, "segments unsorted or "
				       "overlapping at 0x%llx",
				       (unsigned long long)s->vaddr);
	}
	return 0;
}

int core_write_fd(int fd, const struct core_write *cw, struct err *e)
{
	struct out o = { .fd = fd, .cap = 1 << 20 };
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint64_t off;
	int rc = check(cw, e);

	if (rc)
		return rc;
	o.buf = xmalloc(o.cap);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = (uint16_t)(cw->nsegs + 1);
	out_put(&o, &eh, sizeof(eh));

	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = sizeof(eh) + (cw->nsegs + 1) * sizeof(ph);
	ph.p_filesz = notes_len(cw);
	ph.p_align = 4;
	out_put(&o, &ph, sizeof(ph));
	off = data_start(cw);
	for (size_t i = 0; i < cw->nsegs; i++) {
		const struct core_write_segment *s = &cw->segs[i];

		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_flags = (s->r ? PF_R : 0) | (s->w ? PF_W : 0) |
			     (s->x ? PF_X : 0);
		ph.p_offset = off;
		ph.p_vaddr = s->vaddr;
		ph.p_filesz = ph.p_memsz = s->len;
		ph.p_align = CW_PAGE;
		out_put(&o, &ph, sizeof(ph));
		off = align_up(off + s->len, CW_PAGE);
	}

	put_prstatus(&o, cw, &cw->threads[0]);
	put_prpsinfo(&o, cw);
	if (cw->auxv)
		put_note(&o, NT_AUXV, cw->auxv, cw->auxv_len);
	put_file_note(&o, cw);
	for (size_t i = 1; i < cw->nthreads; i++)
		put_prstatus(&o, cw, &cw->threads[i]);

	for (size_t i = 0; i < cw->nsegs; i++) {
		out_zeros(&o, align_up(o.pos, CW_PAGE) - o.pos);
		out_put(&o, cw->segs[i].data, cw->segs[i].len);
	}
	out_flush(&o);
	free(o.buf);
	if (o.err)
		return err_set(e, SS_EIO, "cannot write the core: %s",
			       strerror(o.err));
	return 0;
}

int core_write_file(const char *path, const struct core_write *cw,
		    uint64_t max_size, uint64_t *size, struct err *e)
{
	uint64_t want = core_write_size(cw);
	size_t n = strlen(path) + 32;
	char *tmp;
	int fd, rc;

	if (want > max_size)
		return err_set(e, SS_ELIMIT, "the core would be %llu MiB, over "
			       "the bound of %llu MiB: not written",
			       (unsigned long long)(want >> 20),
			       (unsigned long long)(max_size >> 20));
	tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(e, SS_EIO, "cannot create '%s': %s", tmp,
			     strerror(errno));
		free(tmp);
		return rc;
	}
	rc = core_write_fd(fd, cw, e);
	if (!rc && fsync(fd))
		rc = err_set(e, SS_EIO, "cannot write '%s': %s", tmp,
			     strerror(errno));
	if (close(fd) && !rc)
		rc = err_set(e, SS_EIO, "cannot write '%s': %s", tmp,
			     strerror(errno));
	if (!rc && rename(tmp, path))
		rc = err_set(e, SS_EIO, "cannot rename '%s' to '%s': %s", tmp,
			     path, strerror(errno));
	if (rc)
		unlink(tmp);
	else if (size)
		*size = want;
	free(tmp);
	return rc;
}
