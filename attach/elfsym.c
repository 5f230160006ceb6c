#include <config.h>

#include "attach/elfsym.h"
#include "common/xalloc.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Half type;
	size_t shstrndx;
};

struct elf_file *elfsym_open(int fd, const char *name, struct err *e)
{
	struct elf_file *ef;
	GElf_Ehdr eh;

	if (fd < 0) {
		err_set(e, SS_EELF, "cannot open '%s'", name);
		return NULL;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		err_set(e, SS_EELF, "libelf is unusable: %s", elf_errmsg(-1));
		return NULL;
	}
	ef = xcalloc(1, sizeof(*ef));
	ef->fd = fd;
	ef->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &eh) ||
	    elf_getshdrstrndx(ef->elf, &ef->shstrndx) != 0) {
		err_set(e, SS_EELF, "'%s' is not a readable ELF file", name);
		elfsym_free(ef);
		return NULL;
	}
	ef->type = eh.e_type;
	return ef;
}

void elfsym_free(struct elf_file *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	close(ef->fd);
	free(ef);
}

size_t elfsym_build_id_of(Elf *elf, unsigned char *id, size_t size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *data;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    !(data = elf_getdata(scn, NULL)) || !data->d_buf)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0)
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + noff, "GNU", 4) &&
			    nh.n_descsz > 0 && nh.n_descsz <= size) {
				memcpy(id, (char *)data->d_buf + doff,
				       nh.n_descsz);
				return nh.n_descsz;
			}
	}
	return 0;
}

size_t elfsym_build_id(const struct elf_file *ef, unsigned char *id,
		       size_t size)
{
	return elfsym_build_id_of(ef->elf, id, size);
}

static bool lookup_in(const struct elf_file *ef, Elf64_Word type,
		      const char *name, uint64_t *value, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	size_t namelen = strlen(name);

	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		GElf_Shdr sh, strsh;
		Elf_Data *data, *strdata;
		Elf_Scn *strscn;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type ||
		    sh.sh_entsize == 0)
			continue;
		data = elf_getdata(scn, NULL);
		strscn = elf_getscn(ef->elf, sh.sh_link);
		strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
		if (!data || !strdata || !gelf_getshdr(strscn, &strsh))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		/* Compare names in the string table directly: a libpython
		 * .symtab has tens of thousands of entries, and going
		 * through elf_strptr() for each dominates a dump. */
		for (size_t i = 1; i < n; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    sym.st_shndx == SHN_UNDEF ||
			    sym.st_name + namelen >= strdata->d_size)
				continue;
			s = (const char *)strdata->d_buf + sym.st_name;
			if (s[0] == name[0] && !memcmp(s, name, namelen + 1)) {
				*value = sym.st_value;
				if (size)
					*size = sym.st_size;
				return true;
			}
		}
	}
	return false;
}

bool elfsym_lookup(const struct elf_file *ef, const char *name,
		   uint64_t *value, uint64_t *size)
{
	/* .dynsym first: it is a fraction of .symtab's size and holds every
	 * exported symbol; .symtab adds the static ones (and survives in
	 * unstripped executables whose .dynsym is minimal). */
	return lookup_in(ef, SHT_DYNSYM, name, value, size) ||
	       lookup_in(ef, SHT_SYMTAB, name, value, size);
}

bool elfsym_section(const struct elf_file *ef, const char *name,
		    uint64_t *addr, uint64_t *size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *s;

		if (!gelf_getshdr(scn, &sh))
			continue;
		s = elf_strptr(ef->elf, ef->shstrndx, sh.sh_name);
		if (s && !strcmp(s, name) && sh.sh_addr != 0) {
			*addr = sh.sh_addr;
			*size = sh.sh_size;
			return true;
		}
	}
	return false;
}

bool elfsym_unwind_info(const struct elf_file *ef, uint64_t *eh_frame_hdr,
			uint64_t *text_lo, uint64_t *text_hi)
{
	size_t nph;
	bool hdr = false, text = false;

	if (elf_getphdrnum(ef->elf, &nph) != 0)
		return false;
	for (size_t j = 0; j < nph; j++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)j, &ph))
			continue;
		if (ph.p_type == PT_GNU_EH_FRAME) {
			*eh_frame_hdr = ph.p_vaddr;
			hdr = true;
		} else if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			if (!text || ph.p_vaddr < *text_lo)
				*text_lo = ph.p_vaddr;
			if (!text || ph.p_vaddr + ph.p_memsz > *text_hi)
				*text_hi = ph.p_vaddr + ph.p_memsz;
			text = true;
		}
	}
	return hdr && text;
}

bool elfsym_is_fixed(const struct elf_file *ef)
{
	return ef->type == ET_EXEC;
}

int elfsym_bias(const struct elf_file *ef, const struct maps *m,
		const char *mapped_path, uint64_t *bias, struct err *e)
{
	size_t nph;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (ef->type == ET_EXEC) {
		*bias = 0;
		return 0;
	}
	if (elf_getphdrnum(ef->elf, &nph) != 0)
		return err_set(e, SS_EELF, "'%s' has no program headers",
			       mapped_path);
	/*
	 * Match a mapping of the file to the PT_LOAD that covers its file
	 * offset.  Using the segment rather than "the first mapping" keeps
	 * this right for files rewritten by patchelf, whose first PT_LOAD is
	 * not the one at file offset 0.
	 */
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *me = &m->e[i];

		if (strcmp(me->path, mapped_path))
			continue;
		for (size_t j = 0; j < nph; j++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(ef->elf, (int)j, &ph) ||
			    ph.p_type != PT_LOAD)
				continue;
			if ((ph.p_offset & ~(page - 1)) == me->offset) {
				*bias = me->lo - (ph.p_vaddr & ~(page - 1));
				return 0;
			}
		}
	}
	return err_set(e, SS_EELF, "no mapping of '%s' matches its segments",
		       mapped_path);
}
