/*
 * model.h - what `snakescope top` knows: samples aggregated per thread and
 * per function (or line), since the start or the last reset.  No terminal
 * and no target here: the sampler's output goes in, tables come out, so
 * the model is tested with made-up samples.
 *
 * Counting.  A round is one sample of the process (of each process,
 * when several are shown: see tui_model_process).  In a round, each
 * thread is first observed (tui_model_observe: its name, state, whether it
 * holds the GIL, whether it is active), then the stacks of the threads
 * that were sampled are added (tui_model_add).  For a function, "own" is
 * the number of thread-samples with it innermost, "total" the number with
 * it anywhere on the stack (once per stack, however deep the recursion).
 * Percentages are of the thread-samples counted: of all threads, or of
 * the one thread shown.
 */
#ifndef SNAKESCOPE_TUI_MODEL_H
#define SNAKESCOPE_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/sample.h"

/* A line number meaning "the whole function" in a function's entry. */
#define TUI_WHOLE_FUNCTION (-2)
/* The thread index meaning "all threads". */
#define TUI_ALL_THREADS UINT32_MAX

struct tui_thread {
	int pid;              /* its process (top of several processes) */
	uint64_t thread_id;
	int64_t native_id;    /* TID, -1 when unknown */
	char *name;           /* threading's name or NULL (owned) */
	char state;           /* /proc state letter, 0 when unknown */
	bool holds_gil;       /* in the last round */
	bool active;          /* in the last round */
	bool alive;           /* seen in the last round */
	double cpu_pct;       /* CPU use over the last refresh, -1 unknown */
	uint64_t cpu_ticks;   /* for the next cpu_pct */
	bool cpu_known;       /* cpu_ticks was read */
	uint64_t rounds;      /* rounds it was seen in */
	uint64_t gil_rounds;  /* ... holding the GIL */
	uint64_t active_rounds;
	uint64_t samples;     /* stacks counted for it */
	uint64_t seen_round;  /* the last round it was observed in */
};

/* A function met (by its text: name, file, first line); the names are
 * kept here, since the sampler's are only valid until its next sample. */
struct tui_code {
	char *function;
	char *filename;       /* a C function's: its library */
	int first_line;       /* -1: not known (a C function, or a Python
				 one read with the C frames) */
	bool native;          /* a C function (top --native) */
	uint64_t seen_round;  /* the last round a stack had it */
};

/* Functions kept at least; past this many, those no stack had for
 * TUI_PRUNE_ROUNDS rounds (a minute at 100 Hz) go (tui_model_prune). */
#define TUI_MAX_CODES 4096u
#define TUI_PRUNE_ROUNDS 6000u

/* One row of a function table: (thread, code, line) with its counts. */
struct tui_entry {
	uint32_t thread;      /* index in threads, or TUI_ALL_THREADS */
	uint32_t code;        /* index in codes */
	int32_t line;         /* or TUI_WHOLE_FUNCTION */
	uint64_t own, total;
	uint64_t stamp;       /* the last stack that counted it in total */
};

struct tui_model {
	struct tui_thread *threads;  /* in order of first sight */
	size_t nthreads, threads_cap;
	struct tui_code *codes;
	size_t ncodes, codes_cap;
	struct tui_entry *entries;
	size_t nentries, entries_cap;
	/* open-addressing indexes (+1; 0 empty): codes by text, codes by
	 * the sampler's keys (several keys may name one code), entries */
	uint32_t *code_slots;
	struct tui_key_slot { uint64_t key; uint32_t index; } *key_slots;
	size_t code_nslots, nkeys;
	uint32_t *entry_slots;
	size_t entry_nslots;
	uint64_t rounds;        /* rounds taken */
	uint64_t gil_rounds;    /* ... in which a thread held the GIL */
	uint64_t active_rounds; /* ... in which a thread was active */
	uint64_t samples;       /* thread-samples counted (all threads) */
	uint64_t errors;        /* rounds that failed */
	uint64_t torn;          /* stacks left out: changed while read */
	uint64_t stamp;
	uint64_t round_id;      /* increases by one per round, never reset */
	/* the round under way */
	int pid;                /* the process observed (tui_model_process) */
	size_t hint;            /* where the next thread is likely */
	bool round_gil, round_active;
};

void tui_model_init(struct tui_model *m);
void tui_model_release(struct tui_model *m);

/* Forget every count (the 'r' key); threads now gone are dropped. */
void tui_model_reset(struct tui_model *m);

/* Start a round. */
void tui_model_begin(struct tui_model *m);

/*
 * Several processes (top --subprocesses): the threads observed and the
 * stacks added from now on are process pid's.  Threads are told apart by
 * (pid, thread id), and the sampler's code keys, which each process's
 * session numbers on its own, by (pid, key).  A round is then one sample
 * of every process: begin, for each process tui_model_process, observe
 * and add, then end.  Without a call, pid is 0 (one process).
 */
void tui_model_process(struct tui_model *m, int pid);

/* Process pid ended: its threads are dropped (with their own entries;
 * the all-threads counts stay).  Thread indexes change: call it before
 * the view computes its rows. */
void tui_model_forget(struct tui_model *m, int pid);

/*
 * The process with the most samples of (code, line) in its threads'
 * entries (line TUI_WHOLE_FUNCTION: the whole function), by total, and
 * in *nprocs how many processes have any; 0 (and *nprocs 0) when no
 * thread entry has it.  The first TUI_TOP_PIDS processes met are
 * counted (*nprocs == TUI_TOP_PIDS: that many or more).  O(entries).
 */
#define TUI_TOP_PIDS 16
int tui_model_top_pid(const struct tui_model *m, uint32_t code, int32_t line,
		      size_t *nprocs);

/*
 * Note a thread in this round: t as the sampler reports it, state its
 * /proc letter (0 unknown), active whether it is running Python (it is
 * then sampled).  Returns its index in m->threads.
 */
size_t tui_model_observe(struct tui_model *m, const struct sample_thread *t,
			 char state, bool active);

/* Count the sampled stacks of this round (threads already observed; a
 * thread not observed is added).  Torn stacks are counted in m->torn and
 * left out. */
void tui_model_add(struct tui_model *m, const struct sample *s);

/* End a round: threads not observed in it are no longer alive. */
void tui_model_end(struct tui_model *m);

/* A round that could not be read. */
void tui_model_error(struct tui_model *m);

/* The process exited: none of its threads is alive any more (the counts
 * stay, to be looked at). */
void tui_model_gone(struct tui_model *m);

/*
 * Past TUI_MAX_CODES functions, drop those no stack had for the last
 * TUI_PRUNE_ROUNDS rounds, with their entries: a process that makes and
 * drops code all the time (exec() in a loop) would otherwise grow the
 * table for as long as top runs.  *keep (a code index, or UINT32_MAX)
 * is kept whatever its age and renumbered.  Code and entry indexes
 * change: call it before the view computes its rows.  Returns whether
 * any function went.
 */
bool tui_model_prune(struct tui_model *m, uint32_t *keep);

/* Update a thread's CPU use from a new reading of its CPU ticks, taken
 * 'secs' seconds after the last one (ticks_per_s: sysconf(_SC_CLK_TCK)). */
void tui_model_cpu(struct tui_thread *t, uint64_t ticks, double secs,
		   long ticks_per_s);

/* Denominator of the percentages for a thread index (or all threads). */
uint64_t tui_model_samples_of(const struct tui_model *m, uint32_t thread);

#endif
