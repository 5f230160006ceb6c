#include <config.h>

#include "attach/unwind.h"
#include "attach/elfsym.h"
#include "attach/maps.h"
#include "attach/symbols.h"
#include "common/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>
#include <unistd.h>

/*
 * libunwind's binary search of a remote .eh_frame_hdr table.  It is what
 * libunwind-ptrace's own find_proc_info calls, exported by the generic
 * library under this name, but not declared in its public headers.
 */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
					      unw_word_t ip,
					      unw_dyn_info_t *di,
					      unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

/* DWARF pointer encodings used by .eh_frame_hdr. */
#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_datarel_sdata4 0x3b
#define VDSO_MAX_SIZE (1u << 20)
#define MAX_OBJECTS 4096

/* One mapped ELF object (its mappings are contiguous in the map). */
struct unwind_obj {
	uint64_t lo, hi;     /* [lo, hi) covering all its mappings */
	uint64_t bias;       /* load bias: runtime = link-time + bias */
	bool bias_ok;
	char *path;          /* as the target maps it */
	const char *name;    /* its last component (in path) */
	struct maps_entry first; /* its first mapping (path: the above) */
	bool info_tried, info_ok;
	uint64_t eh_hdr, table, fde_count; /* runtime addresses */
	uint64_t text_lo, text_hi;
	struct symtab *syms; /* loaded on first use */
};

struct unwinder {
	struct mem_reader *mem;
	unwind_open_fn open_file;
	void *open_arg;
	unw_addr_space_t as;
	struct unwind_obj *obj; /* sorted by lo */
	size_t nobj;
	int root;               /* the target's root, for debug files; or -1 */
	struct maps maps;       /* as of the last unwind_begin() */
	struct user_regs_struct regs; /* the thread being unwound */
};

/* ---- objects ------------------------------------------------------- */

static void obj_release(struct unwind_obj *o)
{
	free(o->path);
	symtab_free(o->syms);
}

static bool same_obj(const struct unwind_obj *o, const struct maps_entry *me,
		     uint64_t hi)
{
	return o->lo == me->lo && o->hi == hi && !strcmp(o->path, me->path);
}

/* Rebuild the object table from the current map; objects that did not
 * move keep their symbols and unwind tables.  Returns whether anything
 * changed. */
static bool objects_update(struct unwinder *u, const struct maps *m)
{
	struct unwind_obj *old = u->obj;
	size_t nold = u->nobj, reused = 0;
	struct unwind_obj *fresh = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < m->n && n < MAX_OBJECTS; i++) {
		const struct maps_entry *me = &m->e[i];
		uint64_t hi = me->hi;
		size_t j = i;
		struct unwind_obj *o = NULL;

		if (!me->path[0] || (me->path[0] == '[' &&
				     strcmp(me->path, "[vdso]")))
			continue;
		while (j + 1 < m->n && !strcmp(m->e[j + 1].path, me->path)) {
			j++;
			hi = m->e[j].hi;
		}
		fresh = xgrow(fresh, &cap, n + 1, sizeof(*fresh));
		for (size_t k = 0; k < nold; k++)
			if (old[k].path && same_obj(&old[k], me, hi)) {
				fresh[n] = old[k];
				old[k].path = NULL; /* moved */
				old[k].syms = NULL;
				o = &fresh[n];
				reused++;
				break;
			}
		if (!o) {
			o = &fresh[n];
			memset(o, 0, sizeof(*o));
			o->lo = me->lo;
			o->hi = hi;
			o->path = xstrdup(me->path);
			o->first = *me;
		}
		o->name = strrchr(o->path, '/') ? strrchr(o->path, '/') + 1 :
			  o->path;
		o->first.path = o->path;
		n++;
		i = j;
	}
	for (size_t k = 0; k < nold; k++)
		obj_release(&old[k]);
	free(old);
	u->obj = fresh;
	u->nobj = n;
	return reused != n || reused != nold;
}

static struct unwind_obj *obj_find(struct unwinder *u, uint64_t addr)
{
	size_t lo = 0, hi = u->nobj;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < u->obj[mid].lo)
			hi = mid;
		else if (addr >= u->obj[mid].hi)
			lo = mid + 1;
		else
			return &u->obj[mid];
	}
	return NULL;
}

/* The vDSO has no file: its ELF image is read from the target. */
static void *read_vdso(struct unwinder *u, const struct unwind_obj *o,
		       size_t *len)
{
	size_t size = (size_t)(o->hi - o->lo);
	void *buf;

	if (size == 0 || size > VDSO_MAX_SIZE)
		return NULL;
	buf = xmalloc(size);
	if (mem_read(u->mem, o->lo, buf, size, NULL)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* Load bias and unwind segments of the vDSO, from its in-memory image. */
static bool vdso_info(const void *image, size_t len, uint64_t lo,
		      uint64_t *bias, uint64_t *eh, uint64_t *tlo,
		      uint64_t *thi)
{
	const Elf64_Ehdr *eh64 = image;
	bool have_eh = false, have_text = false, have_load = false;

	if (len < sizeof(*eh64) || memcmp(eh64->e_ident, ELFMAG, SELFMAG) ||
	    eh64->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh64->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh64->e_phoff > len ||
	    (len - eh64->e_phoff) / sizeof(Elf64_Phdr) < eh64->e_phnum)
		return false;
	for (unsigned i = 0; i < eh64->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, (const char *)image + eh64->e_phoff + i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type == PT_LOAD && !have_load) {
			*bias = lo - ph.p_vaddr;
			have_load = true;
		}
		if (ph.p_type == PT_GNU_EH_FRAME) {
			*eh = ph.p_vaddr;
			have_eh = true;
		} else if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			*tlo = ph.p_vaddr;
			*thi = ph.p_vaddr + ph.p_memsz;
			have_text = true;
		}
	}
	return have_load && have_eh && have_text;
}

/* Size in bytes of an encoded .eh_frame_hdr field, 0 if unsupported. */
static unsigned enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		return 8;
	default:
		return 0;
	}
}

/* Find the object's bias, unwind table and symbols (once). */
static void obj_load(struct unwinder *u, struct unwind_obj *o)
{
	uint64_t eh = 0, tlo = 0, thi = 0;
	uint8_t hdr[4];
	unsigned ptr_size;
	uint32_t count;
	bool have = false;

	if (o->info_tried)
		return;
	o->info_tried = true;
	if (!strcmp(o->path, "[vdso]")) {
		size_t len;
		void *image = read_vdso(u, o, &len);

		if (image) {
			have = vdso_info(image, len, o->lo, &o->bias, &eh, &tlo,
					 &thi);
			o->bias_ok = have;
			o->syms = symtab_load_image(image, len);
			free(image);
		}
	} else {
		struct elf_file *ef;
		int fd;

		if (u->open_file(u->open_arg, &o->first, &fd))
			return;
		o->syms = symtab_load(fd, o->path, u->root);
		ef = elfsym_open(fd, o->path, NULL);
		if (ef) {
			o->bias_ok = !elfsym_bias(ef, &u->maps, o->path,
						  &o->bias, NULL);
			have = o->bias_ok &&
			       elfsym_unwind_info(ef, &eh, &tlo, &thi);
			elfsym_free(ef);
		}
	}
	if (!have)
		return;
	o->eh_hdr = eh + o->bias;
	o->text_lo = tlo + o->bias;
	o->text_hi = thi + o->bias;
	/* version, eh_frame_ptr_enc, fde_count_enc, table_enc */
	if (mem_read(u->mem, o->eh_hdr, hdr, sizeof(hdr), NULL) || hdr[0] != 1 ||
	    hdr[3] != DW_EH_PE_datarel_sdata4 || enc_size(hdr[2]) != 4)
		return;
	ptr_size = enc_size(hdr[1]);
	if (!ptr_size || mem_read(u->mem, o->eh_hdr + 4 + ptr_size, &count,
				  sizeof(count), NULL) ||
	    count == 0 || count > (1u << 24))
		return;
	o->fde_count = count;
	o->table = o->eh_hdr + 4 + ptr_size + 4;
	o->info_ok = true;
}

/* ---- libunwind accessors ------------------------------------------- */

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip,
			      unw_proc_info_t *pi, int need_unwind_info,
			      void *arg)
{
	struct unwinder *u = arg;
	struct unwind_obj *o = obj_find(u, ip);
	unw_dyn_info_t di;

	if (!o)
		return -UNW_ENOINFO;
	obj_load(u, o);
	if (!o->info_ok || ip < o->text_lo || ip >= o->text_hi)
		return -UNW_ENOINFO;
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = o->text_lo;
	di.end_ip = o->text_hi;
	di.u.rti.segbase = o->eh_hdr;
	di.u.rti.table_data = o->table;
	di.u.rti.table_len = o->fde_count * 8 / sizeof(unw_word_t);
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi,
						  need_unwind_info, arg);
}

static void acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
				void *arg)
{
	/* Table-format info is freed by libunwind itself. */
	(void)as;
	(void)pi;
	(void)arg;
}

static int acc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr,
				      void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int acc_access_mem(unw_addr_space_t as, unw_word_t addr,
			  unw_word_t *val, int write, void *arg)
{
	struct unwinder *u = arg;

	(void)as;
	if (write || mem_read(u->mem, addr, val, sizeof(*val), NULL))
		return -UNW_EINVAL;
	return 0;
}

static int acc_access_reg(unw_addr_space_t as, unw_regnum_t reg,
			  unw_word_t *val, int write, void *arg)
{
	const struct user_regs_struct *r = &((struct unwinder *)arg)->regs;

	(void)as;
	if (write)
		return -UNW_EINVAL;
	switch (reg) {
	case UNW_X86_64_RAX: *val = r->rax; break;
	case UNW_X86_64_RDX: *val = r->rdx; break;
	case UNW_X86_64_RCX: *val = r->rcx; break;
	case UNW_X86_64_RBX: *val = r->rbx; break;
	case UNW_X86_64_RSI: *val = r->rsi; break;
	case UNW_X86_64_RDI: *val = r->rdi; break;
	case UNW_X86_64_RBP: *val = r->rbp; break;
	case UNW_X86_64_RSP: *val = r->rsp; break;
	case UNW_X86_64_R8: *val = r->r8; break;
	case UNW_X86_64_R9: *val = r->r9; break;
	case UNW_X86_64_R10: *val = r->r10; break;
	case UNW_X86_64_R11: *val = r->r11; break;
	case UNW_X86_64_R12: *val = r->r12; break;
	case UNW_X86_64_R13: *val = r->r13; break;
	case UNW_X86_64_R14: *val = r->r14; break;
	case UNW_X86_64_R15: *val = r->r15; break;
	case UNW_X86_64_RIP: *val = r->rip; break;
	default:
		return -UNW_EBADREG;
	}
	return 0;
}

static int acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			    unw_fpreg_t *val, int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static int acc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			     size_t len, unw_word_t *off, void *arg)
{
	(void)as;
	(void)addr;
	(void)buf;
	(void)len;
	(void)off;
	(void)arg;
	return -UNW_ENOINFO;
}

/* Does an unwind table cover pc?  Without one libunwind steps by the
 * frame pointer (x86-64's fallback). */
static bool has_table(struct unwinder *u, uint64_t pc)
{
	struct unwind_obj *o = obj_find(u, pc);

	if (!o)
		return false;
	obj_load(u, o);
	return o->info_ok && pc >= o->text_lo && pc < o->text_hi;
}

/* Stack scanned above a frame without unwind information or frame
 * pointer, for its return address. */
#define SCAN_BYTES 8192

/* Is ret just after an x86-64 call instruction: e8 rel32, or ff /2
 * (call r/m64, 2 to 7 bytes with a REX prefix and displacement)? */
static bool after_call(struct unwinder *u, uint64_t ret)
{
	uint8_t b[8];

	if (ret < sizeof(b) || mem_read(u->mem, ret - sizeof(b), b, sizeof(b),
					NULL))
		return false;
	if (b[3] == 0xe8)
		return true;
	for (unsigned len = 2; len <= 7; len++)
		if (b[8 - len] == 0xff && ((b[9 - len] >> 3) & 7) == 2)
			return true;
	return false;
}

/* At most this many return-address candidates are tried. */
#define SCAN_CANDIDATES 16

/*
 * Does a stack unwound from u->regs (a candidate caller) hold together
 * to its end: every frame covered by an unwind table, the stack pointer
 * going up, the last step ending the stack?  Stale return addresses left
 * on the stack by earlier calls lead to stacks that do not.
 */
static bool trial_unwind(struct unwinder *u)
{
	unw_cursor_t c;
	uint64_t last = 0;

	if (unw_init_remote(&c, u->as, u) < 0)
		return false;
	for (int i = 0; i < UNWIND_MAX_FRAMES; i++) {
		unw_word_t ip = 0, sp = 0;
		int rc;

		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&c, UNW_REG_SP, &sp) < 0)
			return false;
		if (ip == 0)
			return true;
		if ((i > 0 && sp <= last) || !has_table(u, ip - 1))
			return false;
		last = sp;
		rc = unw_step(&c);
		if (rc <= 0)
			return rc == 0;
	}
	return false;
}

/* Words under a return address looked at for its caller's rbp, and
 * how far above it that frame pointer may point. */
#define SCAN_RBP_WORDS 32
#define SCAN_RBP_REACH (1u << 20)
/* Trial unwinds one scan may make. */
#define SCAN_TRIALS 64

/*
 * u->regs for a caller returning to ret, whose return address is at
 * 'slot' (the scan began at sp): the stack above must unwind to its end.
 * The caller's rbp is the one the frame had, or, when the caller's
 * unwind rule needs it (a frame-pointer function, as 3.14's evaluation
 * loop in Debian's build), one of the words under the return address
 * that point just above it (JIT code saves it there, as a frame pointer
 * or a callee-saved register).
 */
static bool try_caller(struct unwinder *u, const struct user_regs_struct *regs,
		       uint64_t ret, uint64_t slot, uint64_t sp,
		       unsigned *trials)
{
	u->regs = *regs;
	u->regs.rip = ret;
	u->regs.rsp = slot + 8;
	if ((*trials)++ < SCAN_TRIALS && trial_unwind(u))
		return true;
	for (uint64_t k = 1; k <= SCAN_RBP_WORDS && slot - 8 * k >= sp; k++) {
		uint64_t rbp;

		if (mem_read(u->mem, slot - 8 * k, &rbp, sizeof(rbp), NULL))
			return false;
		if (rbp <= slot || rbp - slot >= SCAN_RBP_REACH)
			continue;
		if ((*trials)++ >= SCAN_TRIALS)
			return false;
		u->regs.rbp = rbp;
		if (trial_unwind(u))
			return true;
	}
	return false;
}

/*
 * The caller of a frame that has neither unwind information nor a
 * frame-pointer chain (3.14's JIT code: its entry shim was called from
 * the evaluation loop, and it calls C from a frame of its own size): the
 * first word from sp up that returns just after a call into code an
 * unwind table covers, and from which the rest of the stack unwinds to
 * its end.  Restarts the cursor there (pc that word, sp above it, the
 * callee-saved registers as they were); false when none is found within
 * SCAN_BYTES.
 */
static bool scan_for_caller(struct unwinder *u, unw_cursor_t *cur,
			    uint64_t sp)
{
	static const struct { int reg; size_t off; } saved[] = {
		{ UNW_X86_64_RBX, offsetof(struct user_regs_struct, rbx) },
		{ UNW_X86_64_RBP, offsetof(struct user_regs_struct, rbp) },
		{ UNW_X86_64_R12, offsetof(struct user_regs_struct, r12) },
		{ UNW_X86_64_R13, offsetof(struct user_regs_struct, r13) },
		{ UNW_X86_64_R14, offsetof(struct user_regs_struct, r14) },
		{ UNW_X86_64_R15, offsetof(struct user_regs_struct, r15) },
	};
	struct user_regs_struct regs = u->regs;
	unsigned tried = 0, trials = 0;
	uint64_t words[64];

	/* The registers the frame had, before u->regs changes under the
	 * cursor (libunwind reads them lazily). */
	for (size_t k = 0; k < sizeof(saved) / sizeof(*saved); k++) {
		unw_word_t v;

		if (unw_get_reg(cur, saved[k].reg, &v) == 0)
			memcpy((char *)&regs + saved[k].off, &v, sizeof(v));
	}
	for (uint64_t at = sp; at - sp < SCAN_BYTES; at += sizeof(words)) {
		if (mem_read(u->mem, at, words, sizeof(words), NULL))
			return false;
		for (size_t i = 0; i < sizeof(words) / 8; i++) {
			uint64_t ret = words[i];

			if (!has_table(u, ret - 1) || !after_call(u, ret))
				continue;
			if (tried++ >= SCAN_CANDIDATES)
				return false;
			if (try_caller(u, &regs, ret, at + i * 8, sp, &trials))
				return unw_init_remote(cur, u->as, u) >= 0;
		}
	}
	return false;
}

/* ---- public -------------------------------------------------------- */

struct unwinder *unwinder_new(struct mem_reader *mem, unwind_open_fn open_file,
			      void *arg, int root)
{
	static unw_accessors_t acc = {
		.find_proc_info = acc_find_proc_info,
		.put_unwind_info = acc_put_unwind_info,
		.get_dyn_info_list_addr = acc_get_dyn_info_list_addr,
		.access_mem = acc_access_mem,
		.access_reg = acc_access_reg,
		.access_fpreg = acc_access_fpreg,
		.resume = acc_resume,
		.get_proc_name = acc_get_proc_name,
	};
	struct unwinder *u = xcalloc(1, sizeof(*u));

	u->mem = mem;
	u->open_file = open_file;
	u->open_arg = arg;
	u->root = root;
	u->as = unw_create_addr_space(&acc, 0);
	if (u->as)
		unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nobj; i++)
		obj_release(&u->obj[i]);
	free(u->obj);
	maps_release(&u->maps);
	if (u->as)
		unw_destroy_addr_space(u->as);
	free(u);
}

void unwind_begin(struct unwinder *u, const struct maps *m)
{
	maps_release(&u->maps);
	u->maps.e = xcalloc(m->n + 1, sizeof(*u->maps.e));
	for (size_t i = 0; i < m->n; i++) {
		u->maps.e[i] = m->e[i];
		u->maps.e[i].path = xstrdup(m->e[i].path);
	}
	u->maps.n = u->maps.cap = m->n;
	if (objects_update(u, &u->maps) && u->as)
		unw_flush_cache(u->as, 0, 0);
}

void unwind_symbolize(struct unwinder *u, uint64_t pc, bool caller,
		      struct unwind_frame *f)
{
	struct unwind_obj *o = obj_find(u, pc);
	uint64_t start;

	memset(f, 0, sizeof(*f));
	f->pc = pc;
	f->source = SYM_SOURCE_NONE;
	if (!o) {
		const struct maps_entry *me = maps_find(&u->maps, pc);

		/* Anonymous executable memory holds generated code. */
		if (me && me->x && !me->path[0]) {
			f->library = "[jit]";
			f->lib_offset = pc - me->lo;
		}
		return;
	}
	obj_load(u, o);
	f->library = o->name;
	f->path = o->path;
	f->lib_offset = pc - (o->bias_ok ? o->bias : o->lo);
	if (!o->bias_ok || !o->syms)
		return;
	/* A return address may be just past its call's function. */
	f->function = symtab_find(o->syms, pc - o->bias - (caller ? 1 : 0),
				  &start, &f->source);
	if (f->function) {
		f->offset = pc - o->bias - start;
		f->function = symtab_demangle(o->syms, f->function);
	}
}

static void add(struct unwind_stack *s, const struct unwind_frame *f)
{
	s->frames = xgrow(s->frames, &s->cap, s->n + 1, sizeof(*s->frames));
	s->frames[s->n++] = *f;
}

static void stop(struct unwind_stack *s, const char *why)
{
	if (!s->error)
		s->error = xstrdup(why);
}

int unwind_thread(struct unwinder *u, const struct user_regs_struct *regs,
		  struct unwind_stack *out, struct err *e)
{
	unw_cursor_t cur;
	uint64_t last_sp = 0;
	bool caller = false;
	char why[128];
	int rc;

	if (!u->as)
		return err_set(e, SS_EPTRACE, "libunwind could not create an "
			       "address space");
	u->regs = *regs;
	rc = unw_init_remote(&cur, u->as, u);
	if (rc < 0) {
		struct unwind_frame f;

		unwind_symbolize(u, u->regs.rip, false, &f);
		f.sp = u->regs.rsp;
		add(out, &f);
		snprintf(why, sizeof(why), "cannot start unwinding: %s",
			 unw_strerror(rc));
		stop(out, why);
		return 0;
	}
	for (int i = 0; i < UNWIND_MAX_FRAMES; i++) {
		unw_word_t ip = 0, sp = 0;
		struct unwind_frame f;
		bool table;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&cur, UNW_REG_SP, &sp) < 0) {
			stop(out, "cannot read a frame's registers");
			return 0;
		}
		if (ip == 0)
			return 0; /* the outermost frame's caller */
		if (i > 0 && caller && sp <= last_sp) {
			stop(out, "the stack pointer went backwards");
			return 0;
		}
		unwind_symbolize(u, ip, caller, &f);
		f.sp = sp;
		table = has_table(u, caller ? ip - 1 : ip);
		add(out, &f);
		last_sp = sp;
		/* After a signal frame, the next pc is where the signal hit,
		 * not a return address. */
		caller = unw_is_signal_frame(&cur) <= 0;
		rc = unw_step(&cur);
		if (rc > 0 && !table)
			out->frames[out->n - 1].caller_by = UNWIND_BY_FP;
		/* libunwind ends a stack where its frame-pointer fallback
		 * finds no chain: code without a table is no thread's first
		 * frame (3.14's JIT code keeps no frame pointer). */
		if (rc <= 0 && !table && f.library) {
			if (scan_for_caller(u, &cur, sp)) {
				out->frames[out->n - 1].caller_by =
					UNWIND_BY_SCAN;
				caller = true;
				continue;
			}
			snprintf(why, sizeof(why), "unwinding stopped: no unwind "
				 "information for %s code, no frame-pointer "
				 "chain, no return address above it", f.library);
			stop(out, why);
			return 0;
		}
		if (rc == 0)
			return 0;
		if (rc < 0) {
			snprintf(why, sizeof(why), "unwinding stopped: %s",
				 unw_strerror(rc));
			stop(out, why);
			return 0;
		}
	}
	stop(out, "more native frames than the limit");
	return 0;
}

void unwind_stack_release(struct unwind_stack *s)
{
	free(s->frames);
	free(s->error);
	memset(s, 0, sizeof(*s));
}
