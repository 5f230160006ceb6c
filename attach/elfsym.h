/*
 * elfsym.h - symbols, sections and load bias of an ELF file (libelf).
 *
 * Files come open: a target's are opened as the target sees them, by
 * rootfs_open_mapped() (rootfs.h).
 */
#ifndef SNAKESCOPE_ELFSYM_H
#define SNAKESCOPE_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

#include "attach/maps.h"
#include "common/err.h"

struct elf_file;

/* Read the ELF file open at fd, which the result then owns ('name' is
 * for messages).  Returns NULL (and SS_EELF in *e) when fd is negative or
 * the file is not ELF; fd is closed then.  Free with elfsym_free(). */
struct elf_file *elfsym_open(int fd, const char *name, struct err *e);

void elfsym_free(struct elf_file *ef);

/* The GNU build-id of an ELF file (its NT_GNU_BUILD_ID note), into
 * id[size]; returns its length, 0 when it has none (or it is longer). */
size_t elfsym_build_id(const struct elf_file *ef, unsigned char *id,
		       size_t size);

/* The same from a libelf handle (attach/symbols.c). */
size_t elfsym_build_id_of(Elf *elf, unsigned char *id, size_t size);

/*
 * Look up a defined symbol by name in .dynsym, then .symtab.  On success
 * stores its link-time value (and size if 'size' is not NULL) and returns
 * true; false when the file does not define it.
 */
bool elfsym_lookup(const struct elf_file *ef, const char *name,
		   uint64_t *value, uint64_t *size);

/* Find a section by name: its link-time address and size.  False when the
 * file has no such section (or it has no address). */
bool elfsym_section(const struct elf_file *ef, const char *name,
		    uint64_t *addr, uint64_t *size);

/*
 * What unwinding needs of the file, as link-time addresses: its
 * .eh_frame_hdr (the PT_GNU_EH_FRAME segment) and the range [lo, hi) its
 * executable PT_LOAD segments cover.  False when it has no such segments.
 */
bool elfsym_unwind_info(const struct elf_file *ef, uint64_t *eh_frame_hdr,
			uint64_t *text_lo, uint64_t *text_hi);

/* True for ET_EXEC files (their link-time addresses are final). */
bool elfsym_is_fixed(const struct elf_file *ef);

/*
 * Load bias of the file in a process: the value to add to link-time
 * addresses.  'm' is the process map and 'mapped_path' the file's path as
 * it appears there.  Returns 0 and stores the bias, or SS_EELF when no
 * mapping of the file matches a PT_LOAD segment.
 */
int elfsym_bias(const struct elf_file *ef, const struct maps *m,
		const char *mapped_path, uint64_t *bias, struct err *e);

#endif
