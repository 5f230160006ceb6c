#include <config.h>

#include "fuzz/harness.h"
#include "common/xalloc.h"
#include "pystructs/asyncio.h"
#include "pystructs/code.h"
#include "pystructs/futures.h"
#include "pystructs/linetable.h"
#include "pystructs/locals.h"
#include "pystructs/locks.h"
#include "pystructs/object.h"
#include "pystructs/pyproc.h"
#include "pystructs/reader.h"
#include "pystructs/repr.h"
#include "pystructs/sampler.h"
#include "model/snapshot.h"
#include "pystructs/threads.h"
#include "pystructs/with_stack.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Children of a container root decoded one by one. */
#define FUZZ_CHILDREN 64
/* Locations looked up per code object or line table. */
#define FUZZ_SWEEP 64
/* Largest frame header copied (the decoders bound theirs too). */
#define FUZZ_FRAME_HDR_MAX 4096
/* A repr as wide as a --repr-width a user could ask for. */
#define FUZZ_WIDE_REPR 4096

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

struct mem_reader *fuzz_image_parse(const uint8_t *data, size_t size,
				    struct fuzz_hdr *h)
{
	struct mem_reader *m;
	size_t pos = FUZZ_HDR_SIZE;

	if (size < FUZZ_HDR_SIZE)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->layout = data[0];
	h->flags = data[1];
	h->version_hex = get32(data + 4);
	h->runtime = get64(data + 8);
	h->tstate_current = get64(data + 16);
	h->asyncio_debug = get64(data + 24);
	h->root[0] = get64(data + 32);
	h->root[1] = get64(data + 40);
	m = mem_image_new();
	/* Segments are copies of the input: at most size bytes in all. */
	for (size_t n = 0; n < FUZZ_MAX_SEGS && size - pos >= FUZZ_SEG_HDR;
	     n++) {
		uint64_t addr = get64(data + pos);
		size_t len = get32(data + pos + 8);

		pos += FUZZ_SEG_HDR;
		if (len > size - pos)
			len = size - pos;
		if (len)
			mem_image_add(m, addr, data + pos, len);
		pos += len;
	}
	return m;
}

void fuzz_hdr_write(const struct fuzz_hdr *h, uint8_t *out)
{
	memset(out, 0, FUZZ_HDR_SIZE);
	out[0] = h->layout;
	out[1] = h->flags;
	memcpy(out + 4, &h->version_hex, 4);
	put64(out + 8, h->runtime);
	put64(out + 16, h->tstate_current);
	put64(out + 24, h->asyncio_debug);
	put64(out + 32, h->root[0]);
	put64(out + 40, h->root[1]);
}

int fuzz_layout_index(unsigned major, unsigned minor)
{
	size_t n;
	const struct py_layout *const *all = layout_builtin_all(&n);

	for (size_t i = 0; i < n; i++)
		if (all[i]->major == major && all[i]->minor == minor)
			return (int)i;
	return -1;
}

/* Set up p the way inspect_open() does, from the header. */
static bool proc_setup(struct py_proc *p, struct mem_reader *mem,
		       const struct fuzz_hdr *h)
{
	size_t n;
	const struct py_layout *const *all = layout_builtin_all(&n);
	const struct py_layout *L = all[h->layout % n];
	struct py_runtime_info info;

	memset(&info, 0, sizeof(info));
	info.runtime_kind = L->runtime.kind;
	info.runtime = h->runtime;
	info.tstate_current = h->tstate_current;
	info.debug_build = h->flags & FUZZ_F_DEBUG;
	info.version_hex = h->version_hex;
	info.major = L->major;
	info.minor = L->minor;
	if (py_proc_open(p, mem, &info, NULL)) {
		py_proc_release(p);
		return false;
	}
	if (h->asyncio_debug && p->L.asyncio.ts_tasks_head != LAYOUT_NONE) {
		uint64_t words[ASYNCIO_DEBUG_WORDS];

		if (!mem_read(mem, h->asyncio_debug, words, sizeof(words), NULL))
			py_asyncio_debug_apply(&p->L, words);
	}
	return true;
}

/* ---- objects ------------------------------------------------------ */

/* Every object decoder on obj; each fails cleanly on the wrong type. */
static void decode_object(struct py_proc *p, uint64_t obj)
{
	char tname[64];
	char *s;
	size_t len, n, length;
	uint32_t *cps;
	uint8_t *bytes;
	uint64_t u, *items, type;
	double d;

	py_type_name(p, obj, tname, sizeof(tname), NULL);
	if (!py_str_read(p, obj, PY_STR_MAX, &s, &len, NULL))
		free(s);
	if (!py_str_codepoints(p, obj, PY_STR_MAX, &cps, &n, &length, NULL))
		free(cps);
	if (!py_bytes_read(p, obj, PY_STR_MAX, &bytes, &len, NULL))
		free(bytes);
	py_long_read_u64(p, obj, &u, NULL);
	py_float_read(p, obj, &d, NULL);
	py_weakref_target(p, obj, &u, NULL);
	if (!py_list_items(p, obj, PY_ITEMS_MAX, &items, &n, NULL))
		free(items);
	if (!py_tuple_items(p, obj, PY_ITEMS_MAX, &items, &n, NULL))
		free(items);
	if (!py_set_items(p, obj, PY_ITEMS_MAX, &items, &n, NULL))
		free(items);
	free(py_repr(p, obj, PY_REPR_WIDTH_DEFAULT));
	free(py_repr(p, obj, FUZZ_WIDE_REPR));
	if (!py_type_of(p, obj, &type, NULL))
		py_type_inherits(p, type, "Thread", NULL);
	py_getattr_any(p, obj, "_name", &u, NULL);
}

struct child_walk {
	size_t n;
};

static int decode_entry(struct py_proc *p, uint64_t key, uint64_t value,
			void *arg)
{
	struct child_walk *w = arg;

	decode_object(p, key);
	decode_object(p, value);
	return ++w->n >= FUZZ_CHILDREN;
}

/* obj, and one level of what it contains. */
static void decode_tree(struct py_proc *p, uint64_t obj)
{
	struct child_walk w = { 0 };
	uint64_t *items, v;
	size_t n;

	decode_object(p, obj);
	py_dict_each(p, obj, PY_ITEMS_MAX, decode_entry, &w, NULL);
	py_dict_get_str(p, obj, "__name__", &v, NULL);
	if (!py_list_items(p, obj, FUZZ_CHILDREN, &items, &n, NULL)) {
		for (size_t i = 0; i < n; i++)
			decode_object(p, items[i]);
		free(items);
	}
	if (!py_tuple_items(p, obj, FUZZ_CHILDREN, &items, &n, NULL)) {
		for (size_t i = 0; i < n; i++)
			decode_object(p, items[i]);
		free(items);
	}
}

static void run_objects(struct py_proc *p, const struct fuzz_hdr *h)
{
	decode_tree(p, h->root[0]);
	if (h->root[1] != h->root[0])
		decode_tree(p, h->root[1]);
}

/* ---- code objects and frames -------------------------------------- */

static void run_frame(struct py_proc *p, const struct py_code *c,
		      uint64_t frame)
{
	static const char *const names[] = { "self", "name", "lock", NULL };
	const struct py_layout *L = &p->L;
	size_t hdr = (size_t)L->frame.localsplus;
	struct py_var_slot slots[3];
	struct py_stack_cache *cache;
	struct py_frame_stack stack;
	struct py_location loc;
	struct snapshot *s;
	struct snap_frame *f;
	uint64_t vals[PY_MAX_LOCALS];
	uint8_t *fr;

	if (hdr > FUZZ_FRAME_HDR_MAX)
		return;
	fr = xmalloc(hdr ? hdr : 1);
	if (!mem_read(p->mem, frame, fr, hdr, NULL)) {
		py_code_location(p, c, py_frame_lasti(p, fr, c->addr, c), &loc);
		py_frame_stack_end(p, frame, fr);
	}
	free(fr);
	s = snap_new();
	f = snap_add_frame(snap_add_thread(s));
	py_frame_locals(p, c, frame, PY_REPR_WIDTH_DEFAULT, f);
	snap_free(s);
	py_frame_values(p, c->addr, frame, vals, PY_MAX_LOCALS);
	free(py_frame_first_str(p, frame));
	py_code_var_slots(p, c->addr, names, slots);
	for (size_t i = 0; i < 3; i++)
		py_frame_slot_value(p, frame, &slots[i]);
	cache = py_stack_cache_new();
	py_frame_stack_scan(p, cache, frame, c->addr, true, &stack, NULL);
	py_frame_stack_scan(p, cache, frame, c->addr, false, &stack, NULL);
	py_stack_cache_free(cache);
}

static void run_code(struct py_proc *p, const struct fuzz_hdr *h)
{
	const struct py_code *c = py_code_get(p, h->root[0], NULL);
	struct py_location loc;
	size_t span;

	if (!c)
		return;
	/* Instructions over the whole code (or what the table may cover). */
	span = c->ncode_units ? c->ncode_units : c->linetable_len * 4 + 16;
	py_code_location(p, c, -1, &loc);
	for (size_t k = 0; k <= FUZZ_SWEEP; k++)
		py_code_location(p, c, (int)(span * k / FUZZ_SWEEP), &loc);
	if (h->root[1])
		run_frame(p, c, h->root[1]);
}

/* ---- threads, tasks, locks ---------------------------------------- */

static void run_sampler(struct py_proc *p)
{
	struct py_sampler_opts so = { 0 };
	struct py_sampler *smp = py_sampler_new(p, &so);
	struct sample sample = { 0 };

	/* The second take, a "second" later, re-checks the cached code. */
	py_sampler_take(smp, 1, &sample, NULL);
	py_sampler_take(smp, 2000000001ULL, &sample, NULL);
	sample_release(&sample);
	py_sampler_free(smp);
}

/* record --tasks' tracer over the snapshot's threads: twice, the second
 * time past its caches' second. */
static void run_tracer(struct py_proc *p, const struct snapshot *s)
{
	struct py_task_tracer *tr = py_task_tracer_new(p);
	struct sample smp = { 0 };
	const struct task_chain *c;
	size_t n;

	if (!tr)
		return;
	smp.threads = xcalloc(s->nthreads ? s->nthreads : 1,
			      sizeof(*smp.threads));
	for (size_t i = 0; i < s->nthreads; i++) {
		smp.threads[i].thread_id = s->threads[i].thread_id;
		smp.threads[i].tstate = s->threads[i].tstate;
	}
	smp.nthreads = s->nthreads;
	for (uint64_t k = 0; k < 2; k++)
		py_task_tracer_take(tr, &smp, k * 2000000000ull, &c, &n);
	free(smp.threads);
	py_task_tracer_free(tr);
}

static void run_snapshot(struct py_proc *p, enum fuzz_target t,
			 const struct fuzz_hdr *h)
{
	struct py_read_opts o = { 0 };
	struct snapshot *s = snap_new();

	o.locals = h->flags & FUZZ_F_LOCALS;
	o.check_torn = h->flags & FUZZ_F_TORN;
	if (py_read_threads(p, &o, s, NULL) == 0 && t != FUZZ_THREADS) {
		py_read_tasks(p, s);
		snap_find_blocked_loops(s);
		if (t == FUZZ_TASKS)
			run_tracer(p, s);
		if (t == FUZZ_LOCKS) {
			py_read_locks(p, s);
			py_read_futures(p, s);
		}
	}
	snap_free(s);
	if (t == FUZZ_THREADS && (h->flags & FUZZ_F_SAMPLER)) {
		py_proc_forget(p);
		run_sampler(p);
	}
}

bool fuzz_run(enum fuzz_target t, struct mem_reader *mem,
	      const struct fuzz_hdr *h)
{
	struct py_proc p;

	if (!proc_setup(&p, mem, h))
		return false;
	switch (t) {
	case FUZZ_OBJECTS:
		run_objects(&p, h);
		break;
	case FUZZ_CODE:
		run_code(&p, h);
		break;
	case FUZZ_THREADS:
	case FUZZ_TASKS:
	case FUZZ_LOCKS:
		run_snapshot(&p, t, h);
		break;
	}
	py_proc_release(&p);
	return true;
}

/* ---- line tables -------------------------------------------------- */

static void linetable_at(const uint8_t *tab, size_t len, int first, int off)
{
	struct py_location loc;

	linetable_lnotab_line(tab, len, first, off);
	linetable_lnotab27_line(tab, len, first, off);
	linetable_310_line(tab, len, first, off);
	linetable_locations(tab, len, first, off, &loc);
}

void fuzz_run_linetable(const uint8_t *data, size_t size)
{
	const uint8_t *tab = data + FUZZ_LINETABLE_HDR;
	size_t len, span;
	int32_t first, off;

	if (size < FUZZ_LINETABLE_HDR)
		return;
	len = size - FUZZ_LINETABLE_HDR;
	memcpy(&first, data, 4);
	memcpy(&off, data + 4, 4);
	linetable_at(tab, len, first, off);
	/* A location table entry covers up to 8 code units, a byte offset
	 * pair up to 255 bytes: sweep past the table's end. */
	span = len * 256 + 16;
	if (span > INT_MAX)
		span = INT_MAX;
	for (size_t k = 0; k <= FUZZ_SWEEP; k++)
		linetable_at(tab, len, first, (int)(span * k / FUZZ_SWEEP));
}
