/*
 * symbols.h - function names for addresses in one ELF object, from its own
 * .symtab and .dynsym and from its separate debug file when one is
 * installed (found by build-id or .gnu_debuglink, verified).
 *
 * Only a symbol whose [start, start+size) covers an address names it: an
 * address outside every sized symbol has no name (a stripped file's local
 * functions), rather than the nearest exported one.
 */
#ifndef SNAKESCOPE_SYMBOLS_H
#define SNAKESCOPE_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a name came from (JSON "symbol_source"). */
enum sym_source {
	SYM_SOURCE_NONE = 0, /* no symbol covers the address */
	SYM_SOURCE_SYMTAB,   /* the object's own .symtab */
	SYM_SOURCE_DYNSYM,   /* its .dynsym (exported symbols only) */
	SYM_SOURCE_DEBUGINFO /* the separate debug file's .symtab */
};

/* "none", "symtab", "dynsym", "debuginfo". */
const char *sym_source_name(int source);

struct symtab;

/*
 * Load the function symbols of the ELF file open at fd (rootfs.h; fd stays
 * the caller's); 'mapped_path' is the target's own name for it, used to
 * look for its debug file inside 'root', a directory descriptor of the
 * target's root (-1: none), and then in ours by build-id.  Never fails: an
 * unreadable file gives an empty table.  Free with symtab_free().
 */
struct symtab *symtab_load(int fd, const char *mapped_path, int root);

/* The same from an ELF image in memory (the vDSO, copied out of the
 * target); 'image' is only read during the call. */
struct symtab *symtab_load_image(const void *image, size_t len);

void symtab_free(struct symtab *st);

/*
 * The function covering link-time address 'vaddr': its name (owned by st)
 * and start, and where the name came from.  NULL when no symbol covers it.
 */
const char *symtab_find(const struct symtab *st, uint64_t vaddr,
			uint64_t *start, int *source);

/*
 * 'name' (a name symtab_find() returned for st) as a person reads it: a
 * C++ name demangled (attach/demangle.h), once, kept in st; else 'name'
 * itself.  Owned by st.
 */
const char *symtab_demangle(struct symtab *st, const char *name);

/* The debug file used, or NULL (owned by st). */
const char *symtab_debug_file(const struct symtab *st);

/* Number of symbols held (tests and benchmarks). */
size_t symtab_count(const struct symtab *st);

#endif
