#include <config.h>

#include "pystructs/locks.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "pystructs/locals.h"
#include "pystructs/object.h"
#include "pystructs/with_stack.h"

#include <stdlib.h>
#include <string.h>

#define KIND_CACHE 128
#define TYPE_DEPTH_MAX 16   /* tp_base links followed */
#define CANDIDATES_MAX 96   /* objects looked at for a user-level wait */
#define NAME_MAX_CHARS 512
#define HELD_MAX 100000

/* Private kinds: the public types plus what classify() tells apart. */
enum {
	K_RLOCK_PY = SNAP_LOCK_TYPES, /* 2.7's threading._RLock */
};

static const struct {
	const char *module; /* NULL: tp_name says it all */
	const char *name;
	int kind;
} known_types[] = {
	{ NULL, "_thread.lock", SNAP_LOCK_LOCK },
	{ NULL, "thread.lock", SNAP_LOCK_LOCK },
	{ NULL, "_thread.RLock", SNAP_LOCK_RLOCK },
	{ "threading", "_RLock", K_RLOCK_PY },
	{ "threading", "Condition", SNAP_LOCK_CONDITION },
	{ "threading", "_Condition", SNAP_LOCK_CONDITION },
	{ "threading", "Semaphore", SNAP_LOCK_SEMAPHORE },
	{ "threading", "_Semaphore", SNAP_LOCK_SEMAPHORE },
	{ "threading", "BoundedSemaphore", SNAP_LOCK_BOUNDED_SEMAPHORE },
	{ "threading", "_BoundedSemaphore", SNAP_LOCK_BOUNDED_SEMAPHORE },
	{ "threading", "Event", SNAP_LOCK_EVENT },
	{ "threading", "_Event", SNAP_LOCK_EVENT },
	{ "threading", "Barrier", SNAP_LOCK_BARRIER },
	{ "threading", "Thread", SNAP_LOCK_THREAD },
	{ "queue", "Queue", SNAP_LOCK_QUEUE },
	{ "Queue", "Queue", SNAP_LOCK_QUEUE },
	{ "_frozen_importlib", "_ModuleLock", SNAP_LOCK_IMPORT },
	{ "importlib._bootstrap", "_ModuleLock", SNAP_LOCK_IMPORT },
	{ "asyncio.locks", "Lock", SNAP_LOCK_ASYNC_LOCK },
	{ "asyncio.locks", "Semaphore", SNAP_LOCK_ASYNC_SEMAPHORE },
	{ "asyncio.locks", "BoundedSemaphore",
	  SNAP_LOCK_ASYNC_BOUNDED_SEMAPHORE },
	{ "asyncio.locks", "Condition", SNAP_LOCK_ASYNC_CONDITION },
	{ "asyncio.locks", "Event", SNAP_LOCK_ASYNC_EVENT },
	{ "asyncio.queues", "Queue", SNAP_LOCK_ASYNC_QUEUE },
};

/* Files whose frames are the machinery of a wait, not the waiter. */
static const char *const library_files[] = {
	"/threading.py", "/queue.py", "/Queue.py",
	"<frozen importlib._bootstrap>", "/importlib/_bootstrap.py",
	"/asyncio/locks.py", "/asyncio/queues.py", "/asyncio/tasks.py",
	"/asyncio/futures.py", "/concurrent/futures/_base.py",
};

/* A lock entered by a with statement of some party's frame. */
struct holding {
	uint64_t obj;
	int kind;
	struct snap_party who;
	const struct snap_frame *frame;
	int line;
	size_t seq;  /* order found: a party's outermost with first */
};

/* The variables library frames are asked for, by code object. */
enum { VAR_SELF, VAR_TIMEOUT, NVARS };
static const char *const var_names[NVARS + 1] = { "self", "timeout", NULL };
#define VAR_CACHE 256

struct code_vars {
	uint64_t code;
	struct py_var_slot slot[NVARS];
};

struct lctx {
	struct code_vars vars[VAR_CACHE];
	size_t nvars;
	struct py_proc *p;
	struct py_stack_cache *stacks;
	struct snapshot *s;
	struct { uint64_t type; int kind; } kinds[KIND_CACHE];
	size_t nkinds;
	struct holding *held;
	size_t nheld, held_cap;
};

/* ---- what an object is --------------------------------------------- */

static int kind_of_type(struct lctx *c, uint64_t type)
{
	struct py_proc *p = c->p;

	for (int depth = 0; type && depth < TYPE_DEPTH_MAX; depth++) {
		char name[PY_TNAME_CACHED], *module = NULL;
		uint64_t dict, mod;
		int kind = SNAP_LOCK_NONE;

		if (py_type_name_at(p, type, name, sizeof(name), NULL))
			return SNAP_LOCK_NONE;
		if (!py_field(p, type, p->L.type.tp_dict, &dict, NULL) &&
		    py_ptr_ok(dict) &&
		    !py_dict_get_str(p, dict, "__module__", &mod, NULL))
			py_str_read(p, mod, NAME_MAX_CHARS, &module, NULL, NULL);
		for (size_t i = 0; i < sizeof(known_types) / sizeof(*known_types);
		     i++) {
			if (strcmp(known_types[i].name, name))
				continue;
			if (known_types[i].module && (!module ||
			    strcmp(known_types[i].module, module)))
				continue;
			kind = known_types[i].kind;
			break;
		}
		free(module);
		if (kind != SNAP_LOCK_NONE)
			return kind;
		if (py_field(p, type, p->L.type.tp_base, &type, NULL) ||
		    !py_ptr_ok(type))
			break;
	}
	return SNAP_LOCK_NONE;
}

/* The kind of object obj is (enum snap_lock_type or a private K_*). */
static int classify(struct lctx *c, uint64_t obj)
{
	uint64_t type;
	int kind;

	if (!py_ptr_ok(obj) || py_type_of(c->p, obj, &type, NULL))
		return SNAP_LOCK_NONE;
	for (size_t i = 0; i < c->nkinds; i++)
		if (c->kinds[i].type == type)
			return c->kinds[i].kind;
	kind = kind_of_type(c, type);
	if (c->nkinds < KIND_CACHE) {
		c->kinds[c->nkinds].type = type;
		c->kinds[c->nkinds++].kind = kind;
	}
	return kind;
}

static int public_type(int kind)
{
	return kind == K_RLOCK_PY ? SNAP_LOCK_RLOCK : kind;
}

static bool is_none(struct lctx *c, uint64_t obj)
{
	char name[PY_TNAME_CACHED];

	return !obj || (!py_type_name(c->p, obj, name, sizeof(name), NULL) &&
			!strcmp(name, "NoneType"));
}

/* An attribute under its 3.x name or its 2.7 (name-mangled) one. */
static uint64_t attr2(struct lctx *c, uint64_t obj, const char *name,
		      const char *name27)
{
	uint64_t v = 0;

	if (!py_getattr_any(c->p, obj, name, &v, NULL) && py_ptr_ok(v))
		return v;
	if (name27 && !py_getattr_any(c->p, obj, name27, &v, NULL) &&
	    py_ptr_ok(v))
		return v;
	return 0;
}

/* A thread ident held in an int attribute, 0 when None / unreadable. */
static uint64_t ident_attr(struct lctx *c, uint64_t obj, const char *name,
			   const char *name27)
{
	uint64_t v = attr2(c, obj, name, name27), ident = 0;

	if (!v || is_none(c, v) || py_long_read_u64(c->p, v, &ident, NULL))
		return 0;
	return ident;
}

/* The lock inside a Condition (threading or asyncio). */
static uint64_t condition_lock(struct lctx *c, uint64_t cond)
{
	return attr2(c, cond, "_lock", "_Condition__lock");
}

/* The value of variable VAR_* of a frame (0: unbound or none). */
static uint64_t frame_var(struct lctx *c, const struct snap_frame *f, int var)
{
	struct code_vars *cv = NULL, tmp;

	for (size_t i = 0; i < c->nvars && !cv; i++)
		if (c->vars[i].code == f->code)
			cv = &c->vars[i];
	if (!cv) {
		cv = c->nvars < VAR_CACHE ? &c->vars[c->nvars++] : &tmp;
		cv->code = f->code;
		py_code_var_slots(c->p, f->code, var_names, cv->slot);
	}
	return py_frame_slot_value(c->p, f->addr, &cv->slot[var]);
}

/* ---- C lock state -------------------------------------------------- */

static uint64_t lock_word(struct lctx *c, uint64_t obj, int off)
{
	uint64_t v = 0;

	if (off == LAYOUT_NONE || mem_read_u64(c->p->mem, obj + (uint64_t)off, &v, NULL))
		return 0;
	return v;
}

/* The RLock's owner (a thread ident), 0 when free. */
static uint64_t rlock_owner(struct lctx *c, uint64_t obj, int kind)
{
	if (kind == K_RLOCK_PY)
		return ident_attr(c, obj, "_RLock__owner", NULL);
	return lock_word(c, obj, c->p->L.lock.rlock_owner);
}

/* Is a Lock (its flag, or bit 0 of a 3.14+ PyMutex) or an RLock (an
 * owner) locked?  False when it cannot be told (2.7's Lock). */
static bool is_locked(struct lctx *c, uint64_t obj, int kind)
{
	const struct py_layout *L = &c->p->L;
	uint8_t m = 0;

	if (kind == SNAP_LOCK_RLOCK)
		return rlock_owner(c, obj, kind) != 0;
	if (L->lock.locked == LAYOUT_NONE ||
	    mem_read(c->p->mem, obj + (uint64_t)L->lock.locked, &m, 1, NULL))
		return false;
	return L->lock.mutex ? m & 1 : m != 0;
}

/* ---- places and parties -------------------------------------------- */

static bool is_library(const struct snap_frame *f)
{
	for (size_t i = 0; i < sizeof(library_files) / sizeof(*library_files);
	     i++)
		if (str_ends_with(f->filename, library_files[i]))
			return true;
	return false;
}

/* "acquire" of "Condition.acquire" (3.11+ qualified names). */
static const char *short_name(const char *function)
{
	const char *dot = function ? strrchr(function, '.') : NULL;

	return dot ? dot + 1 : function ? function : "";
}

static void place_set(struct snap_place *pl, const struct snap_frame *f,
		      int line)
{
	pl->function = xstrdup(f->function ? f->function : "<unknown>");
	pl->filename = xstrdup(f->filename ? f->filename : "<unknown>");
	pl->line = line >= 0 ? line : f->line;
}

/* The running task a thread's frame belongs to, if any. */
static bool frame_task(const struct snapshot *s, const struct snap_thread *t,
		       uint64_t addr, struct snap_party *who)
{
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct snap_task *k = &s->tasks[i];

		if (k->state != SNAP_TASK_RUNNING || !k->has_thread ||
		    k->thread_id != t->thread_id)
			continue;
		for (size_t j = 0; j < k->nframes; j++) {
			if (k->frames[j].addr == addr) {
				who->is_task = true;
				who->id = k->id;
				return true;
			}
		}
	}
	return false;
}

/* ---- holdings: locks entered with `with` --------------------------- */

static void add_holding(struct lctx *c, uint64_t obj, int kind,
			const struct snap_party *who,
			const struct snap_frame *f, int line)
{
	struct holding *h;

	if (!obj || kind == SNAP_LOCK_NONE || c->nheld >= HELD_MAX)
		return;
	c->held = xgrow(c->held, &c->held_cap, c->nheld + 1, sizeof(*c->held));
	h = &c->held[c->nheld];
	h->seq = c->nheld++;
	h->obj = obj;
	h->kind = kind;
	h->who = *who;
	h->frame = f;
	h->line = line;
}

/*
 * The Condition a party waits on in Condition.wait(), or 0: wait()
 * releases the condition's lock although `with cond:` is still active.
 */
static uint64_t waited_condition(struct lctx *c, const struct snap_frame *fr,
				 size_t n)
{
	for (size_t i = 0; i < n && is_library(&fr[i]); i++) {
		const char *fn = short_name(fr[i].function);
		uint64_t self;
		int kind;

		if (strcmp(fn, "wait") && strcmp(fn, "wait_for"))
			continue;
		self = frame_var(c, &fr[i], VAR_SELF);
		kind = self ? classify(c, self) : SNAP_LOCK_NONE;
		if (kind == SNAP_LOCK_CONDITION ||
		    kind == SNAP_LOCK_ASYNC_CONDITION)
			return self;
	}
	return 0;
}

static void frame_holdings(struct lctx *c, const struct snap_party *who,
			   const struct snap_frame *f, uint64_t released)
{
	struct py_frame_stack st;

	if (!f->addr || !f->code ||
	    py_frame_stack_scan(c->p, c->stacks, f->addr, f->code, false, &st,
				NULL))
		return;
	for (size_t i = 0; i < st.nwith; i++) {
		uint64_t obj = st.with[i].object;
		int kind = classify(c, obj);

		if (obj == released)
			continue;
		add_holding(c, obj, kind, who, f, st.with[i].line);
		if (kind == SNAP_LOCK_CONDITION ||
		    kind == SNAP_LOCK_ASYNC_CONDITION) {
			uint64_t lock = condition_lock(c, obj);

			add_holding(c, lock, classify(c, lock), who, f,
				    st.with[i].line);
		}
	}
}

static int holding_cmp(const void *x, const void *y)
{
	const struct holding *a = x, *b = y;

	if (a->obj != b->obj)
		return a->obj < b->obj ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Frames are innermost first: walk them outermost first, so that a lock
 * entered twice (an RLock) is held since its outer with.  The holdings
 * end up sorted by object, in that order. */
static void collect_holdings(struct lctx *c)
{
	const struct snapshot *s = c->s;

	for (size_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		uint64_t released = waited_condition(c, t->frames, t->nframes);

		for (size_t j = t->nframes; j-- > 0;) {
			struct snap_party who = { false, t->thread_id };

			frame_task(s, t, t->frames[j].addr, &who);
			frame_holdings(c, &who, &t->frames[j], released);
		}
	}
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct snap_task *k = &s->tasks[i];
		struct snap_party who = { true, k->id };
		uint64_t released;

		if (k->state == SNAP_TASK_RUNNING)
			continue; /* its frames are on its thread's stack */
		released = waited_condition(c, k->frames, k->nframes);
		for (size_t j = k->nframes; j-- > 0;)
			frame_holdings(c, &who, &k->frames[j], released);
	}
	if (c->nheld)
		qsort(c->held, c->nheld, sizeof(*c->held), holding_cmp);
}

/* The first (outermost) holding of obj, by 'who' unless NULL. */
static const struct holding *holding_of(const struct lctx *c, uint64_t obj,
					const struct snap_party *who)
{
	size_t lo = 0, hi = c->nheld;

	while (lo < hi) { /* the first entry for obj */
		size_t mid = lo + (hi - lo) / 2;

		if (c->held[mid].obj < obj)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nheld && c->held[lo].obj == obj; lo++)
		if (!who || snap_same_party(&c->held[lo].who, who))
			return &c->held[lo];
	return NULL;
}

/* ---- waits --------------------------------------------------------- */

struct wait {
	uint64_t obj;
	int kind;
	const struct snap_frame *at; /* the waiter's own frame */
	bool timeout;
	bool exact;
};

/* Does the frame's call have a timeout (a 'timeout' that is not None)? */
static bool frame_timed(struct lctx *c, const struct snap_frame *f)
{
	uint64_t v = frame_var(c, f, VAR_TIMEOUT);

	return v && !is_none(c, v);
}

/*
 * What the frames inside threading / queue / importlib say: the lock
 * being acquired (a Condition's lock, 2.7's RLock, a module lock) wins;
 * else the outermost Event / Semaphore / Barrier / Queue / Thread waited
 * on; else the Condition waited on.
 */
static bool library_wait(struct lctx *c, const struct snap_thread *t,
			 size_t nlib, struct wait *w)
{
	struct found {
		uint64_t obj;
		int kind;
		const struct snap_frame *f;
	} lock = { 0 }, outer = { 0 }, cond = { 0 };
	const struct found *pick;

	for (size_t i = 0; i < nlib; i++) {
		const struct snap_frame *f = &t->frames[i];
		const char *fn = short_name(f->function);
		uint64_t self = frame_var(c, f, VAR_SELF);
		int kind = self ? classify(c, self) : SNAP_LOCK_NONE;
		bool acquiring = !strcmp(fn, "acquire") ||
				 !strcmp(fn, "__enter__") ||
				 !strcmp(fn, "_acquire_restore");
		struct found here = { self, kind, f };

		switch (kind) {
		case SNAP_LOCK_CONDITION:
			if (acquiring && !lock.obj) {
				here.obj = condition_lock(c, self);
				here.kind = classify(c, here.obj);
				lock = here;
			} else if (!strcmp(fn, "wait") || !strcmp(fn, "wait_for")) {
				cond = here;
			}
			break;
		case K_RLOCK_PY:
		case SNAP_LOCK_IMPORT:
			if (acquiring && !lock.obj)
				lock = here;
			break;
		case SNAP_LOCK_THREAD:
			if (strcmp(fn, "join") && strcmp(fn, "_wait_for_tstate_lock"))
				break;
			/* fall through */
		case SNAP_LOCK_EVENT:
		case SNAP_LOCK_SEMAPHORE:
		case SNAP_LOCK_BOUNDED_SEMAPHORE:
		case SNAP_LOCK_BARRIER:
		case SNAP_LOCK_QUEUE:
			outer = here; /* the outermost wins */
			break;
		}
	}
	pick = lock.obj ? &lock : outer.obj ? &outer : &cond;
	if (!pick->obj || pick->kind == SNAP_LOCK_NONE)
		return false;
	w->obj = pick->obj;
	w->kind = pick->kind;
	w->timeout = frame_timed(c, pick->f);
	return true;
}

/* Does the thread sleep on this lock's semaphore (<=3.13)? */
static bool futex_on(struct lctx *c, const struct snap_thread *t,
		     uint64_t lock)
{
	uint64_t sem = lock_word(c, lock, c->p->L.lock.word);

	return sem && t->os.arg0 >= sem && t->os.arg0 < sem + 32;
}

/*
 * A thread blocked in its own code: a Lock or RLock the innermost frame
 * operates on.  Up to 3.13, when the thread sleeps on a futex, the lock
 * whose semaphore that futex is (exact).  Else (3.14+, whose locks park
 * threads elsewhere, or a thread caught between a dump's resume and its
 * futex) the first locked one among the executing instruction's
 * operands - not one of its own RLocks, which would not block it.
 */
static bool user_wait(struct lctx *c, const struct snap_thread *t,
		      struct wait *w)
{
	const struct snap_frame *f = &t->frames[0];
	bool futex = !strcmp(t->os.syscall, "futex"), exact;
	uint64_t cand[CANDIDATES_MAX];
	size_t n = 0, npending;
	struct py_frame_stack st;

	/* Python code runs with the GIL: a holder (or a waiter) is not
	 * blocked in a C call; nor is a thread asleep in another system
	 * call (select, read, ...) */
	if (t->gil == SNAP_GIL_HOLDS || t->gil == SNAP_GIL_WAITS ||
	    (t->os.state && t->os.state != 'R' && !futex) ||
	    py_frame_stack_scan(c->p, c->stacks, f->addr, f->code, true, &st,
				NULL))
		return false;
	exact = futex && !c->p->L.lock.mutex;
	for (size_t i = 0; i < st.npending; i++)
		cand[n++] = st.pending[i];
	npending = n;
	if (exact)
		n += py_frame_values(c->p, f->code, f->addr, cand + n,
				     CANDIDATES_MAX - n);
	for (size_t i = 0; i < n; i++) {
		int kind = classify(c, cand[i]);
		bool hit;

		if (kind != SNAP_LOCK_LOCK && kind != SNAP_LOCK_RLOCK)
			continue;
		if (exact)
			hit = futex_on(c, t, cand[i]);
		else
			hit = i < npending && is_locked(c, cand[i], kind) &&
			      !(kind == SNAP_LOCK_RLOCK &&
				rlock_owner(c, cand[i], kind) == t->thread_id);
		if (hit) {
			w->obj = cand[i];
			w->kind = kind;
			w->exact = exact;
			return true;
		}
	}
	return false;
}

static bool thread_wait(struct lctx *c, const struct snap_thread *t,
			struct wait *w)
{
	size_t nlib = 0;

	memset(w, 0, sizeof(*w));
	if (!t->nframes)
		return false;
	while (nlib < t->nframes && is_library(&t->frames[nlib]))
		nlib++;
	w->at = &t->frames[nlib < t->nframes ? nlib : t->nframes - 1];
	/* Frames inside threading's waits say so whatever the OS says (a
	 * thread may be between a wakeup and its next futex) */
	if (nlib)
		return library_wait(c, t, nlib, w);
	return user_wait(c, t, w);
}

static int await_kind_type(int kind)
{
	switch (kind) {
	case SNAP_AWAIT_LOCK: return SNAP_LOCK_ASYNC_LOCK;
	case SNAP_AWAIT_EVENT: return SNAP_LOCK_ASYNC_EVENT;
	case SNAP_AWAIT_CONDITION: return SNAP_LOCK_ASYNC_CONDITION;
	case SNAP_AWAIT_SEMAPHORE: return SNAP_LOCK_ASYNC_SEMAPHORE;
	case SNAP_AWAIT_QUEUE: return SNAP_LOCK_ASYNC_QUEUE;
	default: return SNAP_LOCK_NONE;
	}
}

static bool task_wait(struct lctx *c, const struct snap_task *k,
		      struct wait *w)
{
	int kind = await_kind_type(k->awaiting.kind);
	size_t i = 0;

	memset(w, 0, sizeof(*w));
	if (kind == SNAP_LOCK_NONE || !k->awaiting.object || !k->nframes)
		return false;
	w->obj = k->awaiting.object;
	w->kind = classify(c, w->obj);
	if (w->kind == SNAP_LOCK_NONE)
		w->kind = kind;
	while (i + 1 < k->nframes && is_library(&k->frames[i]))
		i++;
	w->at = &k->frames[i];
	return true;
}

/* ---- the lock list ------------------------------------------------ */

/* A wait found, before the lock list exists. */
struct party_wait {
	struct snap_party who;
	struct wait w;
};

struct lock_want {
	uint64_t obj;
	int kind;
};

static int want_cmp(const void *x, const void *y)
{
	const struct lock_want *a = x, *b = y;

	return a->obj < b->obj ? -1 : a->obj > b->obj;
}

/* s->locks: one per object waited for or held (of a listed kind), in
 * address order. */
static void make_locks(struct lctx *c, struct lock_want *want, size_t n)
{
	struct snapshot *s = c->s;

	qsort(want, n, sizeof(*want), want_cmp);
	s->locks = xcalloc(n + 1, sizeof(*s->locks));
	for (size_t i = 0; i < n; i++) {
		struct snap_lock *l;

		if (i && want[i].obj == want[i - 1].obj)
			continue;
		l = &s->locks[s->nlocks++];
		l->address = want[i].obj;
		l->type = public_type(want[i].kind);
	}
}

static void add_waiter(struct snap_lock *l, const struct party_wait *pw)
{
	struct snap_lock_waiter *lw;

	l->waiters = xgrow(l->waiters, &l->waiters_cap, l->nwaiters + 1,
			   sizeof(*l->waiters));
	lw = &l->waiters[l->nwaiters++];
	memset(lw, 0, sizeof(*lw));
	lw->who = pw->who;
	if (pw->w.at)
		place_set(&lw->at, pw->w.at, -1);
	lw->timeout = pw->w.timeout;
	lw->exact = pw->w.exact;
}

static void set_holder(struct lctx *c, struct snap_lock *l,
		       const struct snap_party *who, int evidence)
{
	const struct holding *h = holding_of(c, l->address, who);

	l->has_holder = true;
	l->holder = *who;
	l->evidence = evidence;
	if (h && !l->has_held_since) {
		l->has_held_since = true;
		place_set(&l->held_since, h->frame, h->line);
	}
}

/* The importer of module 'name': its frame that runs the import. */
static void import_place(struct lctx *c, struct snap_lock *l)
{
	const struct snap_thread *t = snap_party_thread(c->s, &l->holder);

	for (size_t i = 0; t && l->name && i < t->nframes; i++) {
		if (!t->frames[i].importing ||
		    strcmp(t->frames[i].importing, l->name))
			continue;
		while (i < t->nframes && is_library(&t->frames[i]))
			i++;
		if (i < t->nframes) {
			l->has_held_since = true;
			place_set(&l->held_since, &t->frames[i], -1);
		}
		return;
	}
}

static void find_holder(struct lctx *c, struct snap_lock *l, int kind)
{
	struct snap_party who = { false, 0 };
	const struct holding *h;

	switch (kind) {
	case SNAP_LOCK_RLOCK:
	case K_RLOCK_PY:
		who.id = rlock_owner(c, l->address, kind);
		if (who.id)
			set_holder(c, l, &who, SNAP_EVIDENCE_OWNER);
		return;
	case SNAP_LOCK_IMPORT: {
		uint64_t name = attr2(c, l->address, "name", NULL);

		if (name && !l->name)
			py_str_read(c->p, name, NAME_MAX_CHARS, &l->name, NULL,
				    NULL);
		who.id = ident_attr(c, l->address, "owner", NULL);
		if (who.id) {
			set_holder(c, l, &who, SNAP_EVIDENCE_IMPORT);
			import_place(c, l);
		}
		return;
	}
	case SNAP_LOCK_THREAD:
		who.id = ident_attr(c, l->address, "_ident", "_Thread__ident");
		if (who.id)
			set_holder(c, l, &who, SNAP_EVIDENCE_THREAD);
		return;
	case SNAP_LOCK_LOCK:
	case SNAP_LOCK_ASYNC_LOCK:
		h = holding_of(c, l->address, NULL);
		if (h)
			set_holder(c, l, &h->who, SNAP_EVIDENCE_WITH);
		return;
	default:
		return; /* no one holds an Event, a Condition, ... */
	}
}

static bool listed_when_held(int kind)
{
	return kind == SNAP_LOCK_LOCK || kind == SNAP_LOCK_RLOCK ||
	       kind == K_RLOCK_PY || kind == SNAP_LOCK_ASYNC_LOCK;
}

void py_read_locks(struct py_proc *p, struct snapshot *s)
{
	struct party_wait *waits;
	struct lock_want *want;
	size_t nwaits = 0, nwant = 0;
	struct lctx c;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.s = s;
	c.stacks = py_stack_cache_new();
	snap_locks_release(s);
	s->locks_read = true;
	collect_holdings(&c);
	waits = xcalloc(s->nthreads + s->ntasks + 1, sizeof(*waits));
	for (size_t i = 0; i < s->nthreads; i++) {
		struct party_wait *pw = &waits[nwaits];

		pw->who.id = s->threads[i].thread_id;
		if (thread_wait(&c, &s->threads[i], &pw->w)) {
			s->threads[i].waits_for = pw->w.obj;
			nwaits++;
		}
	}
	for (size_t i = 0; i < s->ntasks; i++) {
		struct party_wait *pw = &waits[nwaits];

		pw->who.is_task = true;
		pw->who.id = s->tasks[i].id;
		if (task_wait(&c, &s->tasks[i], &pw->w)) {
			s->tasks[i].waits_for = pw->w.obj;
			nwaits++;
		}
	}
	want = xcalloc(nwaits + c.nheld + 1, sizeof(*want));
	for (size_t i = 0; i < nwaits; i++) {
		want[nwant].obj = waits[i].w.obj;
		want[nwant++].kind = waits[i].w.kind;
	}
	for (size_t i = 0; i < c.nheld; i++) {
		if (!listed_when_held(c.held[i].kind))
			continue;
		want[nwant].obj = c.held[i].obj;
		want[nwant++].kind = c.held[i].kind;
	}
	make_locks(&c, want, nwant);
	for (size_t i = 0; i < nwaits; i++)
		add_waiter((struct snap_lock *)snap_find_lock(s, waits[i].w.obj),
			   &waits[i]);
	/* holders, by each object's own kind (private kinds matter) */
	for (size_t i = 0; i < s->nlocks; i++) {
		int kind = classify(&c, s->locks[i].address);

		find_holder(&c, &s->locks[i], kind ? kind : s->locks[i].type);
	}
	free(want);
	free(waits);
	free(c.held);
	py_stack_cache_free(c.stacks);
	snap_find_deadlocks(s);
}
