/*
 * containers.c - general decoders for lists, tuples, sets, weakrefs,
 * floats, type inheritance and __slots__ attributes (see object.h).
 */
#include <config.h>

#include "pystructs/object.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Bounds on what the target may claim. */
#define TYPE_CHAIN_MAX 32     /* tp_base links followed */
#define SET_MAX_MASK (1u << 24)
#define TNAME_MAX 128

int py_field(struct py_proc *p, uint64_t obj, int off, uint64_t *value,
	     struct err *e)
{
	if (off == LAYOUT_NONE)
		return err_set(e, SS_EUNSUPPORTED, "field not known for "
			       "Python %u.%u", p->L.major, p->L.minor);
	if (!py_ptr_ok(obj))
		return err_set(e, SS_ECORRUPT, "bad object pointer 0x%llx",
			       (unsigned long long)obj);
	return mem_read_u64(p->mem, obj + (uint64_t)off, value, e);
}

int py_field_i32(struct py_proc *p, uint64_t obj, int off, int32_t *value,
		 struct err *e)
{
	*value = 0;
	if (off == LAYOUT_NONE)
		return 0;
	if (!py_ptr_ok(obj))
		return err_set(e, SS_ECORRUPT, "bad object pointer 0x%llx",
			       (unsigned long long)obj);
	return mem_read(p->mem, obj + (uint64_t)off, value, sizeof(*value), e);
}

/* Read 'count' pointers at addr into a fresh array. */
static int read_ptr_array(struct py_proc *p, uint64_t addr, size_t count,
			  uint64_t **items, size_t *n, struct err *e)
{
	uint64_t *v = xmalloc((count + 1) * sizeof(*v));
	int rc = count ? mem_read(p->mem, addr, v, count * sizeof(*v), e) : 0;

	if (rc) {
		free(v);
		return rc;
	}
	*items = v;
	*n = count;
	return 0;
}

/* ob_size of a variable-size object, bounded by limit. */
static int var_size(struct py_proc *p, uint64_t obj, size_t limit,
		    size_t *count, struct err *e)
{
	int64_t size;
	int rc = py_field(p, obj, p->L.object.ob_size, (uint64_t *)&size, e);

	if (rc)
		return rc;
	if (size < 0 || size > (int64_t)PY_ITEMS_MAX)
		return err_set(e, SS_ECORRUPT, "implausible size %lld of the "
			       "object at 0x%llx", (long long)size,
			       (unsigned long long)obj);
	*count = (size_t)size < limit ? (size_t)size : limit;
	return 0;
}

int py_list_items(struct py_proc *p, uint64_t list, size_t limit,
		  uint64_t **items, size_t *n, struct err *e)
{
	uint64_t array;
	size_t count = 0;
	int rc = var_size(p, list, limit, &count, e);

	if (!rc)
		rc = py_field(p, list, p->L.container.list_items, &array, e);
	if (rc)
		return rc;
	if (count && !py_ptr_ok(array))
		return err_set(e, SS_ECORRUPT, "list at 0x%llx has no items",
			       (unsigned long long)list);
	return read_ptr_array(p, array, count, items, n, e);
}

int py_tuple_items(struct py_proc *p, uint64_t tuple, size_t limit,
		   uint64_t **items, size_t *n, struct err *e)
{
	size_t count = 0;
	int rc = var_size(p, tuple, limit, &count, e);

	if (rc)
		return rc;
	return read_ptr_array(p, tuple + (uint64_t)p->L.container.tuple_items,
			      count, items, n, e);
}

int py_set_items(struct py_proc *p, uint64_t set, size_t limit,
		 uint64_t **items, size_t *n, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t mask, table, *out;
	size_t esize = (size_t)L->container.set_entry_size, slots, got = 0;
	int key_off = L->container.set_entry_key;
	int hash_off = key_off == 0 ? 8 : 0;
	uint8_t *buf;
	int rc;

	rc = py_field(p, set, L->container.set_mask, &mask, e);
	if (!rc)
		rc = py_field(p, set, L->container.set_table, &table, e);
	if (rc)
		return rc;
	if (mask >= SET_MAX_MASK || (mask & (mask + 1)) || !py_ptr_ok(table) ||
	    esize < 16 || esize > 64)
		return err_set(e, SS_ECORRUPT, "implausible set at 0x%llx",
			       (unsigned long long)set);
	slots = (size_t)mask + 1;
	buf = xmalloc(slots * esize);
	rc = mem_read(p->mem, table, buf, slots * esize, e);
	out = xmalloc((slots < limit ? slots : limit) * sizeof(*out) + 8);
	for (size_t i = 0; !rc && i < slots && got < limit; i++) {
		uint64_t key = py_rd64(buf, (int)(i * esize) + key_off);
		int64_t hash = (int64_t)py_rd64(buf, (int)(i * esize) + hash_off);

		/* A deleted slot keeps the dummy key with hash -1. */
		if (key && hash != -1)
			out[got++] = key;
	}
	free(buf);
	if (rc) {
		free(out);
		return rc;
	}
	*items = out;
	*n = got;
	return 0;
}

int py_weakref_target(struct py_proc *p, uint64_t ref, uint64_t *obj,
		      struct err *e)
{
	char name[TNAME_MAX];
	uint64_t target;
	int rc = py_field(p, ref, p->L.container.weakref_object, &target, e);

	if (rc)
		return rc;
	/* A dead reference points at None (or, 3.13+, is cleared). */
	*obj = 0;
	if (!py_ptr_ok(target))
		return 0;
	if (py_type_name(p, target, name, sizeof(name), NULL) ||
	    !strcmp(name, "NoneType"))
		return 0;
	*obj = target;
	return 0;
}

int py_float_read(struct py_proc *p, uint64_t obj, double *out,
		  struct err *e)
{
	char name[TNAME_MAX];
	int rc = py_type_name(p, obj, name, sizeof(name), e);

	if (rc)
		return rc;
	if (strcmp(name, "float"))
		return err_set(e, SS_ECORRUPT, "a %s, not a float", name);
	return mem_read(p->mem, obj + (uint64_t)p->L.container.float_value, out,
			sizeof(*out), e);
}

int py_type_inherits(struct py_proc *p, uint64_t type, const char *name,
		     struct err *e)
{
	char buf[TNAME_MAX];

	for (int i = 0; i < TYPE_CHAIN_MAX && type; i++) {
		int rc = py_type_name_at(p, type, buf, sizeof(buf), e);

		if (rc)
			return rc;
		if (!strcmp(buf, name))
			return 1;
		rc = py_field(p, type, p->L.type.tp_base, &type, e);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Look 'name' up in the dicts of type and its bases: *value is the class
 * attribute, *is_slot tells whether it is a __slots__ member descriptor.
 */
static int class_lookup(struct py_proc *p, uint64_t type, const char *name,
			uint64_t *value, bool *is_slot, struct err *e)
{
	uint64_t dict;
	char tn[TNAME_MAX];
	int rc = 0;

	for (int i = 0; !rc && i < TYPE_CHAIN_MAX && type; i++) {
		if (!py_field(p, type, p->L.type.tp_dict, &dict, NULL) &&
		    py_ptr_ok(dict) &&
		    !py_dict_get_str(p, dict, name, value, NULL)) {
			rc = py_type_name(p, *value, tn, sizeof(tn), e);
			*is_slot = !rc && !strcmp(tn, "member_descriptor");
			return rc;
		}
		rc = py_field(p, type, p->L.type.tp_base, &type, e);
	}
	return rc ? rc : err_set(e, SS_ECORRUPT, "no attribute '%s'", name);
}

int py_slot_offset(struct py_proc *p, uint64_t type, const char *name,
		   int64_t *offset, struct err *e)
{
	const struct py_layout *L = &p->L;
	uint64_t descr, def;
	bool is_slot = false;
	int rc = class_lookup(p, type, name, &descr, &is_slot, e);

	if (rc)
		return rc;
	if (!is_slot)
		return err_set(e, SS_ECORRUPT, "'%s' is not a slot", name);
	rc = py_field(p, descr, L->container.memberdescr_member, &def, e);
	if (!rc && !py_ptr_ok(def & ~(uint64_t)7))
		rc = err_set(e, SS_ECORRUPT, "bad member def");
	if (!rc)
		rc = mem_read(p->mem, def + (uint64_t)L->container.memberdef_offset,
			      offset, sizeof(*offset), e);
	if (!rc && (*offset < 16 || *offset > (1 << 16)))
		rc = err_set(e, SS_ECORRUPT, "implausible slot offset %lld",
			     (long long)*offset);
	return rc;
}

/* Not in the instance dict: a __slots__ member, else a class attribute
 * (a default that the instance has not overridden). */
int py_getattr_any(struct py_proc *p, uint64_t obj, const char *name,
		   uint64_t *value, struct err *e)
{
	uint64_t type, v;
	int64_t offset;
	bool is_slot = false;
	int rc;

	if (!py_getattr_str(p, obj, name, value, NULL))
		return 0;
	rc = py_type_of(p, obj, &type, e);
	if (!rc)
		rc = class_lookup(p, type, name, &v, &is_slot, e);
	if (rc)
		return rc;
	if (!is_slot) {
		*value = v;
		return 0;
	}
	rc = py_slot_offset(p, type, name, &offset, e);
	if (!rc)
		rc = mem_read_u64(p->mem, obj + (uint64_t)offset, value, e);
	if (!rc && !*value)
		rc = err_set(e, SS_ECORRUPT, "slot '%s' is unset", name);
	return rc;
}
