/*
 * object.h - decode CPython objects from the target: type names, str,
 * bytes, int, dict and instance attributes.
 *
 * All functions read through p->mem and validate what they read: wrong
 * type, implausible length or pointer gives SS_ECORRUPT, never a crash.
 */
#ifndef SNAKESCOPE_OBJECT_H
#define SNAKESCOPE_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "pystructs/pyproc.h"

/* Longest string decoded; longer ones are cut (and marked by the caller). */
#define PY_STR_MAX (1u << 20)

/* Copy the type's tp_name of the object at addr into buf (NUL-terminated,
 * at most size-1 bytes).  Returns 0 or an error. */
int py_type_name(struct py_proc *p, uint64_t obj, char *buf, size_t size,
		 struct err *e);

/* The same for a type object's own address. */
int py_type_name_at(struct py_proc *p, uint64_t type, char *buf, size_t size,
		    struct err *e);

/*
 * Is obj exactly of the type whose tp_name is 'want'?  *cache holds that
 * type's address once learnt (0 before), so later checks cost one word
 * read.  0, or SS_ECORRUPT for another type.
 */
int py_check_type(struct py_proc *p, uint64_t obj, const char *want,
		  uint64_t *cache, struct err *e);

/* The address of the object's type (ob_type). */
int py_type_of(struct py_proc *p, uint64_t obj, uint64_t *type,
	       struct err *e);

/*
 * Decode a str object to UTF-8 in a malloc'ed NUL-terminated buffer
 * (*out; caller frees); at most max_chars characters, and a string cut
 * there ends in "...".  Two code points that UTF-8 has no place for are
 * carried so that nothing after them is lost and the writers can print
 * them as Python would (see common/escape.h): an embedded NUL becomes the
 * pair C0 80 (as in Java's modified UTF-8), a lone surrogate (from
 * surrogateescape, say) its three-byte form ED A0 80..ED BF BF (WTF-8).
 */
int py_str_read(struct py_proc *p, uint64_t obj, size_t max_chars,
		char **out, size_t *len, struct err *e);

/*
 * Where a str object's characters are in the target: the address of the
 * first one in *data, their size in bytes (length x bytes per character;
 * 2.7 'str': its bytes) in *nbytes, and the bytes per character in *kind.
 * CPython ends the characters with a NUL character of that size.
 */
int py_str_data(struct py_proc *p, uint64_t obj, uint64_t *data,
		size_t *nbytes, unsigned *kind, struct err *e);

/*
 * The code points of a str object (2.7: of a 'str' its bytes, of a
 * 'unicode' its characters): the first 'max' of them in a malloc'ed array
 * (*cps, *n; caller frees) and the full length in *length.
 */
int py_str_codepoints(struct py_proc *p, uint64_t obj, size_t max,
		      uint32_t **cps, size_t *n, size_t *length,
		      struct err *e);

/* Copy a bytes object's contents into a malloc'ed buffer (*out, *len);
 * SS_ELIMIT when longer than max. */
int py_bytes_read(struct py_proc *p, uint64_t obj, size_t max,
		  uint8_t **out, size_t *len, struct err *e);

/* Decode an int that fits in 64 bits (unsigned; negative values give
 * SS_ELIMIT too). */
int py_long_read_u64(struct py_proc *p, uint64_t obj, uint64_t *out,
		     struct err *e);

/*
 * Call fn(key, value, arg) for each entry of the dict at addr (object
 * addresses, not decoded).  Stops early when fn returns non-zero and
 * returns that value.  At most 'limit' entries are visited.
 */
typedef int (*py_dict_fn)(struct py_proc *p, uint64_t key, uint64_t value,
			  void *arg);
int py_dict_each(struct py_proc *p, uint64_t dict, size_t limit,
		 py_dict_fn fn, void *arg, struct err *e);

/* Find the value of str key 'name' in a dict.  Returns 0 and *value, or
 * SS_ECORRUPT ("no key") / read errors. */
int py_dict_get_str(struct py_proc *p, uint64_t dict, const char *name,
		    uint64_t *value, struct err *e);

/* Look up an instance attribute stored in the object's __dict__ (or its
 * inline / split values). */
int py_getattr_str(struct py_proc *p, uint64_t obj, const char *name,
		   uint64_t *value, struct err *e);

/* sys.modules[name] of the interpreter at interp. */
int py_module_get(struct py_proc *p, uint64_t interp, const char *name,
		  uint64_t *module, struct err *e);

/* A module's global 'name'. */
int py_module_attr(struct py_proc *p, uint64_t module, const char *name,
		   uint64_t *value, struct err *e);

/* ---- containers and small objects (containers.c) ------------------ */

/* Longest list / tuple / set read; more is cut (SS_ELIMIT is not raised:
 * callers get the first 'limit' items). */
#define PY_ITEMS_MAX (1u << 20)

/* Items of a list or tuple (any subclass): a malloc'ed array of object
 * addresses in *items (caller frees), at most 'limit'. */
int py_list_items(struct py_proc *p, uint64_t list, size_t limit,
		  uint64_t **items, size_t *n, struct err *e);
int py_tuple_items(struct py_proc *p, uint64_t tuple, size_t limit,
		   uint64_t **items, size_t *n, struct err *e);

/* Keys of a set or frozenset (NULL and deleted slots skipped), like
 * py_list_items. */
int py_set_items(struct py_proc *p, uint64_t set, size_t limit,
		 uint64_t **items, size_t *n, struct err *e);

/* The object a weakref points at, or 0 when it is dead. */
int py_weakref_target(struct py_proc *p, uint64_t ref, uint64_t *obj,
		      struct err *e);

/* A float's value. */
int py_float_read(struct py_proc *p, uint64_t obj, double *out,
		  struct err *e);

/* Is 'type' (a type object address) or one of its bases (tp_base chain)
 * named 'name'?  Returns 1 yes, 0 no, negative error. */
int py_type_inherits(struct py_proc *p, uint64_t type, const char *name,
		     struct err *e);

/* An attribute of obj from its instance dict, else from a __slots__
 * member, else a class attribute, of its class or a base class. */
int py_getattr_any(struct py_proc *p, uint64_t obj, const char *name,
		   uint64_t *value, struct err *e);

/* Offset in instances of 'type' of its (or a base's) __slots__ member
 * 'name'. */
int py_slot_offset(struct py_proc *p, uint64_t type, const char *name,
		   int64_t *offset, struct err *e);

/* Read one pointer-sized field of obj at the layout offset 'off'. */
int py_field(struct py_proc *p, uint64_t obj, int off, uint64_t *value,
	     struct err *e);

/* Read one int field of obj; a field the version lacks (LAYOUT_NONE)
 * reads as 0. */
int py_field_i32(struct py_proc *p, uint64_t obj, int off, int32_t *value,
		 struct err *e);

#endif
