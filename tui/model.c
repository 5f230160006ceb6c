#include <config.h>

#include "tui/model.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Threads kept, dead ones included; past this, the dead are dropped. */
#define MAX_THREADS 4096u

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t entry_hash(uint32_t thread, uint32_t code, int32_t line)
{
	return mix64(((uint64_t)thread << 32 | code) ^
		     (uint64_t)(uint32_t)line * 0x9e3779b97f4a7c15ULL);
}

void tui_model_init(struct tui_model *m)
{
	memset(m, 0, sizeof(*m));
}

static void free_thread(struct tui_thread *t)
{
	free(t->name);
}

static void free_codes(struct tui_model *m)
{
	for (size_t i = 0; i < m->ncodes; i++) {
		free(m->codes[i].function);
		free(m->codes[i].filename);
	}
	m->ncodes = 0;
	free(m->code_slots);
	free(m->key_slots);
	m->code_slots = NULL;
	m->key_slots = NULL;
	m->code_nslots = 0;
	m->nkeys = 0;
}

void tui_model_release(struct tui_model *m)
{
	for (size_t i = 0; i < m->nthreads; i++)
		free_thread(&m->threads[i]);
	free(m->threads);
	free_codes(m);
	free(m->codes);
	free(m->entries);
	free(m->entry_slots);
	memset(m, 0, sizeof(*m));
}

/* ---- indexes ---------------------------------------------------------- */

static void entry_index_rebuild(struct tui_model *m, size_t nslots)
{
	free(m->entry_slots);
	m->entry_nslots = nslots;
	m->entry_slots = xcalloc(nslots, sizeof(*m->entry_slots));
	for (size_t i = 0; i < m->nentries; i++) {
		const struct tui_entry *en = &m->entries[i];
		size_t h = entry_hash(en->thread, en->code, en->line) &
			   (nslots - 1);

		while (m->entry_slots[h])
			h = (h + 1) & (nslots - 1);
		m->entry_slots[h] = (uint32_t)(i + 1);
	}
}

static struct tui_entry *entry_get(struct tui_model *m, uint32_t thread,
				   uint32_t code, int32_t line)
{
	struct tui_entry *en;
	size_t h;

	/* Keep the table at most half full. */
	if (2 * (m->nentries + 1) > m->entry_nslots)
		entry_index_rebuild(m, m->entry_nslots ? 2 * m->entry_nslots :
				    1024);
	h = entry_hash(thread, code, line) & (m->entry_nslots - 1);
	while (m->entry_slots[h]) {
		en = &m->entries[m->entry_slots[h] - 1];
		if (en->thread == thread && en->code == code && en->line == line)
			return en;
		h = (h + 1) & (m->entry_nslots - 1);
	}
	m->entries = xgrow(m->entries, &m->entries_cap, m->nentries + 1,
			   sizeof(*m->entries));
	en = &m->entries[m->nentries++];
	memset(en, 0, sizeof(*en));
	en->thread = thread;
	en->code = code;
	en->line = line;
	m->entry_slots[h] = (uint32_t)m->nentries;
	return en;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t text_hash(const char *function, const char *filename,
			  int first_line)
{
	return mix64(str_hash(function) ^ mix64(str_hash(filename)) ^
		     (uint64_t)(uint32_t)first_line);
}

/* Both indexes at a size for at least n codes (and as many keys). */
static void code_indexes_grow(struct tui_model *m, size_t nkeys)
{
	size_t nslots = m->code_nslots ? m->code_nslots : 1024;
	struct tui_key_slot *old = m->key_slots;
	size_t old_n = m->code_nslots;

	while (2 * (nkeys + 1) > nslots)
		nslots *= 2;
	if (nslots == m->code_nslots)
		return;
	m->code_nslots = nslots;
	m->key_slots = xcalloc(nslots, sizeof(*m->key_slots));
	for (size_t i = 0; i < old_n; i++) {
		size_t h;

		if (!old[i].index)
			continue;
		h = mix64(old[i].key) & (nslots - 1);
		while (m->key_slots[h].index)
			h = (h + 1) & (nslots - 1);
		m->key_slots[h] = old[i];
	}
	free(old);
	free(m->code_slots);
	m->code_slots = xcalloc(nslots, sizeof(*m->code_slots));
	for (size_t i = 0; i < m->ncodes; i++) {
		const struct tui_code *c = &m->codes[i];
		size_t h = text_hash(c->function, c->filename, c->first_line) &
			   (nslots - 1);

		while (m->code_slots[h])
			h = (h + 1) & (nslots - 1);
		m->code_slots[h] = (uint32_t)(i + 1);
	}
}

/*
 * The index of the code named by f, added on first sight.  Rows are the
 * code's text (name, file, first line): the sampler gives a code object a
 * new key when it decodes it again (its cache was emptied, by a snapshot
 * or for room), and the row must stay the same.  Keys are only a quick
 * way to the text.
 */
static uint32_t code_index(struct tui_model *m, const struct sample_frame *f)
{
	const char *fn = f->function ? f->function : "<unknown>";
	const char *file = f->filename ? f->filename : "<unknown>";
	/* Each process's session numbers its codes on its own. */
	uint64_t key = (uint64_t)(uint32_t)m->pid << 32 | f->code_key;
	struct tui_code *c;
	size_t h, k;
	uint32_t i;

	/* Keys of codes decoded again pile up: start their index again
	 * (they are found again by text). */
	if (m->nkeys > 4 * m->ncodes + 65536) {
		memset(m->key_slots, 0, m->code_nslots * sizeof(*m->key_slots));
		m->nkeys = 0;
	}
	code_indexes_grow(m, m->nkeys + m->ncodes + 1);
	k = mix64(key) & (m->code_nslots - 1);
	while (m->key_slots[k].index) {
		if (m->key_slots[k].key == key)
			return m->key_slots[k].index - 1;
		k = (k + 1) & (m->code_nslots - 1);
	}
	h = text_hash(fn, file, f->first_line) & (m->code_nslots - 1);
	for (;; h = (h + 1) & (m->code_nslots - 1)) {
		if (!m->code_slots[h]) {
			m->codes = xgrow(m->codes, &m->codes_cap, m->ncodes + 1,
					 sizeof(*m->codes));
			c = &m->codes[m->ncodes++];
			c->function = xstrdup(fn);
			c->filename = xstrdup(file);
			c->first_line = f->first_line;
			c->native = f->native;
			m->code_slots[h] = (uint32_t)m->ncodes;
			i = (uint32_t)(m->ncodes - 1);
			break;
		}
		c = &m->codes[m->code_slots[h] - 1];
		if (c->first_line == f->first_line && !strcmp(c->function, fn) &&
		    !strcmp(c->filename, file)) {
			i = m->code_slots[h] - 1;
			break;
		}
	}
	m->key_slots[k].key = key;
	m->key_slots[k].index = i + 1;
	m->nkeys++;
	return i;
}

/* Both code indexes again, for the codes as they are now (the keys are
 * found again by text). */
static void code_indexes_rebuild(struct tui_model *m)
{
	free(m->code_slots);
	free(m->key_slots);
	m->code_slots = NULL;
	m->key_slots = NULL;
	m->code_nslots = 0;
	m->nkeys = 0;
	code_indexes_grow(m, m->ncodes + 1);
}

/* ---- threads ---------------------------------------------------------- */

/* Drop dead threads (and their own entries): keeps indexes dense after a
 * reset, and bounds the list when threads come and go for hours. */
static void compact_threads(struct tui_model *m)
{
	uint32_t *map = xmalloc((m->nthreads + 1) * sizeof(*map));
	size_t k = 0, e = 0;

	for (size_t i = 0; i < m->nthreads; i++) {
		if (!m->threads[i].alive) {
			free_thread(&m->threads[i]);
			map[i] = TUI_ALL_THREADS;
			continue;
		}
		map[i] = (uint32_t)k;
		m->threads[k++] = m->threads[i];
	}
	m->nthreads = k;
	for (size_t i = 0; i < m->nentries; i++) {
		struct tui_entry en = m->entries[i];

		if (en.thread != TUI_ALL_THREADS) {
			if (map[en.thread] == TUI_ALL_THREADS)
				continue;
			en.thread = map[en.thread];
		}
		m->entries[e++] = en;
	}
	m->nentries = e;
	free(map);
	if (m->entry_nslots)
		entry_index_rebuild(m, m->entry_nslots);
}

static size_t thread_index(struct tui_model *m, uint64_t thread_id,
			   size_t hint)
{
	struct tui_thread *t;

	/* Threads come in the same order round after round: try the one
	 * after the last first.  A forked child's main thread has its
	 * parent's thread id: the process tells them apart. */
	if (hint < m->nthreads && m->threads[hint].thread_id == thread_id &&
	    m->threads[hint].pid == m->pid)
		return hint;
	for (size_t i = 0; i < m->nthreads; i++)
		if (m->threads[i].thread_id == thread_id &&
		    m->threads[i].pid == m->pid)
			return i;
	/* Past MAX_THREADS, at each power of two: a process with more live
	 * threads than that (none is dropped) compacts once per doubling,
	 * not at every new thread. */
	if (m->nthreads >= MAX_THREADS && !(m->nthreads & (m->nthreads - 1)))
		compact_threads(m);
	m->threads = xgrow(m->threads, &m->threads_cap, m->nthreads + 1,
			   sizeof(*m->threads));
	t = &m->threads[m->nthreads];
	memset(t, 0, sizeof(*t));
	t->thread_id = thread_id;
	t->pid = m->pid;
	t->native_id = -1;
	t->cpu_pct = -1;
	t->alive = true;
	return m->nthreads++;
}

/* ---- rounds ----------------------------------------------------------- */

void tui_model_begin(struct tui_model *m)
{
	m->round_id++;
	m->hint = 0;
	m->round_gil = m->round_active = false;
}

void tui_model_process(struct tui_model *m, int pid)
{
	m->pid = pid;
}

void tui_model_forget(struct tui_model *m, int pid)
{
	bool any = false;

	for (size_t i = 0; i < m->nthreads; i++)
		if (m->threads[i].pid == pid) {
			m->threads[i].alive = false;
			any = true;
		}
	if (any)
		compact_threads(m);
}

int tui_model_top_pid(const struct tui_model *m, uint32_t code, int32_t line,
		      size_t *nprocs)
{
	/* A few processes at most have one function hot: a short list of
	 * (pid, total) is enough. */
	struct { int pid; uint64_t total; } seen[TUI_TOP_PIDS];
	size_t nseen = 0;
	int best = 0;
	uint64_t best_total = 0;

	for (size_t i = 0; i < m->nentries; i++) {
		const struct tui_entry *en = &m->entries[i];
		int pid;
		size_t k;

		if (en->thread == TUI_ALL_THREADS || en->code != code ||
		    en->line != line || en->thread >= m->nthreads ||
		    !en->total)
			continue;
		pid = m->threads[en->thread].pid;
		for (k = 0; k < nseen && seen[k].pid != pid; k++)
			;
		if (k == nseen) {
			if (nseen == TUI_TOP_PIDS)
				continue;
			seen[nseen].pid = pid;
			seen[nseen++].total = 0;
		}
		seen[k].total += en->total;
		if (seen[k].total > best_total) {
			best_total = seen[k].total;
			best = pid;
		}
	}
	*nprocs = nseen;
	return best;
}

size_t tui_model_observe(struct tui_model *m, const struct sample_thread *st,
			 char state, bool active)
{
	size_t i = thread_index(m, st->thread_id, m->hint);
	struct tui_thread *t = &m->threads[i];

	m->hint = i + 1;
	if (st->native_id > 0)
		t->native_id = st->native_id;
	if (st->name && (!t->name || strcmp(t->name, st->name))) {
		free(t->name);
		t->name = xstrdup(st->name);
	}
	if (state)
		t->state = state;
	t->holds_gil = st->holds_gil;
	t->active = active;
	t->alive = true;
	if (t->seen_round != m->round_id) {
		t->seen_round = m->round_id;
		t->rounds++;
		t->gil_rounds += st->holds_gil;
		t->active_rounds += active;
	}
	m->round_gil |= st->holds_gil;
	m->round_active |= active;
	return i;
}

/* Count one stack in the entries of thread index 'who'. */
static void count_stack(struct tui_model *m, uint32_t who,
			const struct sample_frame *fr, size_t n)
{
	uint32_t threads[2] = { TUI_ALL_THREADS, who };

	m->stamp++;
	for (size_t k = 0; k < n; k++) {
		uint32_t code = code_index(m, &fr[k]);
		int32_t lines[2] = { TUI_WHOLE_FUNCTION, fr[k].line };

		m->codes[code].seen_round = m->round_id;
		for (int a = 0; a < 2; a++) {
			for (int b = 0; b < 2; b++) {
				struct tui_entry *en = entry_get(m, threads[a],
								 code, lines[b]);

				if (k == 0)
					en->own++;
				/* Recursion counts once per stack. */
				if (en->stamp != m->stamp) {
					en->stamp = m->stamp;
					en->total++;
				}
			}
		}
	}
}

void tui_model_add(struct tui_model *m, const struct sample *s)
{
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct sample_thread *st = &s->threads[i];
		size_t who;

		if (!st->nframes)
			continue;
		if (st->torn) {
			m->torn++;
			continue;
		}
		who = thread_index(m, st->thread_id, 0);
		if (m->threads[who].seen_round != m->round_id)
			who = tui_model_observe(m, st, 0, true);
		m->threads[who].samples++;
		m->samples++;
		count_stack(m, (uint32_t)who, &s->frames[st->first], st->nframes);
	}
}

void tui_model_end(struct tui_model *m)
{
	for (size_t i = 0; i < m->nthreads; i++)
		if (m->threads[i].seen_round != m->round_id)
			m->threads[i].alive = false;
	m->rounds++;
	m->gil_rounds += m->round_gil;
	m->active_rounds += m->round_active;
}

void tui_model_error(struct tui_model *m)
{
	m->errors++;
}

bool tui_model_prune(struct tui_model *m, uint32_t *keep)
{
	uint32_t *map;
	size_t k = 0, e = 0;

	if (m->ncodes <= TUI_MAX_CODES || m->round_id <= TUI_PRUNE_ROUNDS)
		return false;
	map = xmalloc(m->ncodes * sizeof(*map));
	for (size_t i = 0; i < m->ncodes; i++) {
		struct tui_code *c = &m->codes[i];

		if (c->seen_round + TUI_PRUNE_ROUNDS < m->round_id &&
		    *keep != i) {
			free(c->function);
			free(c->filename);
			map[i] = UINT32_MAX;
			continue;
		}
		map[i] = (uint32_t)k;
		m->codes[k++] = *c;
	}
	if (k == m->ncodes) {
		free(map);
		return false;
	}
	m->ncodes = k;
	for (size_t i = 0; i < m->nentries; i++) {
		struct tui_entry en = m->entries[i];

		if (map[en.code] == UINT32_MAX)
			continue;
		en.code = map[en.code];
		m->entries[e++] = en;
	}
	m->nentries = e;
	entry_index_rebuild(m, m->entry_nslots);
	code_indexes_rebuild(m);
	if (*keep != UINT32_MAX)
		*keep = map[*keep];
	free(map);
	return true;
}

void tui_model_gone(struct tui_model *m)
{
	for (size_t i = 0; i < m->nthreads; i++)
		m->threads[i].alive = false;
}

void tui_model_reset(struct tui_model *m)
{
	m->nentries = 0;
	if (m->entry_nslots)
		memset(m->entry_slots, 0,
		       m->entry_nslots * sizeof(*m->entry_slots));
	free_codes(m);
	compact_threads(m);
	for (size_t i = 0; i < m->nthreads; i++) {
		struct tui_thread *t = &m->threads[i];

		t->rounds = t->gil_rounds = t->active_rounds = t->samples = 0;
	}
	m->rounds = m->gil_rounds = m->active_rounds = 0;
	m->samples = m->errors = m->torn = 0;
}

void tui_model_cpu(struct tui_thread *t, uint64_t ticks, double secs,
		   long ticks_per_s)
{
	if (t->cpu_known && ticks >= t->cpu_ticks && secs > 0 &&
	    ticks_per_s > 0)
		t->cpu_pct = 100.0 * (double)(ticks - t->cpu_ticks) /
			     (double)ticks_per_s / secs;
	t->cpu_ticks = ticks;
	t->cpu_known = true;
}

uint64_t tui_model_samples_of(const struct tui_model *m, uint32_t thread)
{
	if (thread == TUI_ALL_THREADS)
		return m->samples;
	return thread < m->nthreads ? m->threads[thread].samples : 0;
}
