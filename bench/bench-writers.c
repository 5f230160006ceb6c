/*
 * bench-writers - how long record's writers take over a million samples,
 * and how large their files are, on synthetic samples (no target): the
 * aggregation (profile_add) and then each writer into a file.
 *
 *   make bench/bench-writers && bench/bench-writers [SAMPLES] [RUNS] [DIR]
 *
 * SAMPLES thread-samples (default 1,000,000: 4 threads x 250,000
 * samples) of stacks 24 frames deep, drawn so that consecutive samples of
 * a thread share most of their stack (the outer 16 frames change every
 * 500 samples among 6 sets, the next 6 every 20 among 8, the innermost
 * two and the leaf's line at random among 20 x 3): about 11,000 distinct
 * stacks, and two to three new begin/end pairs per sample in a Chrome
 * trace (a leaf changing at almost every sample: a busy trace).
 * Prints the median over RUNS (default 5) of each step's wall time and
 * each file's size; files go to DIR (default /tmp) and are removed.
 */
#include <config.h>

#include "cli/profile.h"
#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THREADS 4
#define DEPTH 24
#define FUNCS 400

static char fnames[FUNCS][32];

static uint64_t rng = 88172645463325252ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The frames of thread t at sample i, innermost first, into fr. */
static void stack_at(struct sample_frame *fr, int t, unsigned long i,
		     uint32_t leaf)
{
	for (int d = 0; d < DEPTH; d++) {
		int level = DEPTH - 1 - d; /* 0: the root */
		unsigned f;
		int line;

		if (level < 16)
			f = (unsigned)((i / 500 % 6 * 7 + level * 13 + t) % 120);
		else if (level < DEPTH - 2)
			f = 120 + (unsigned)((i / 20 % 8 * 3 + level * 5 + t) % 200);
		else
			f = 320 + leaf % 20 + (level == DEPTH - 1 ? 40 : 0);
		line = 10 + (int)(f % 7) + (level == DEPTH - 1 ? (int)(leaf / 20 % 3) : 0);
		fr[d] = (struct sample_frame){ .code_key = f + 1, .line = line,
			.first_line = 9, .function = fnames[f],
			.filename = f < 120 ?
				"/usr/lib/python3.12/threading.py" :
				"/srv/app/service/handlers.py" };
	}
}

static double run_writer(const struct profile *pf, int fmt, const char *path,
			 long *size)
{
	struct pprof_info pi = { .time_nanos = 1700000000000000000LL,
		.duration_nanos = 2500000000000LL, .period_nanos = 10000000 };
	FILE *f = fopen(path, "w");
	uint64_t t0;
	struct stat st;
	int rc;

	if (!f) {
		perror(path);
		exit(1);
	}
	t0 = clock_mono_ns();
	if (fmt == 0)
		rc = profile_write_pprof(pf, &pi, f);
	else if (fmt == 1)
		rc = profile_write_chrometrace(pf, false, 0.01, f);
	else if (fmt == 2)
		rc = profile_write_speedscope(pf, false, "bench", 0.01, f);
	else
		rc = profile_write_folded(pf, false, f);
	if (fclose(f) || rc) {
		perror(path);
		exit(1);
	}
	t0 = clock_mono_ns() - t0;
	*size = stat(path, &st) ? -1 : (long)st.st_size;
	unlink(path);
	return (double)t0 / 1e6;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	const char *dir = argc > 3 ? argv[3] : "/tmp";
	static const char *names[] = { "pprof", "chrometrace", "speedscope",
				       "folded" };
	double add[32], wr[4][32];
	long size[4] = { 0 };
	char path[4096];

	if (runs < 1 || runs > 32 || !n) {
		fprintf(stderr, "usage: bench-writers [SAMPLES] [RUNS 1-32] "
			"[DIR]\n");
		return 2;
	}
	for (int i = 0; i < FUNCS; i++)
		snprintf(fnames[i], sizeof(fnames[i]), "Handler.step_%d", i);
	for (int r = 0; r < runs; r++) {
		struct sample_frame fr[THREADS * DEPTH];
		struct sample_thread th[THREADS];
		struct sample s = { .threads = th, .nthreads = THREADS,
				    .frames = fr, .nframes = THREADS * DEPTH };
		struct profile pf;
		uint64_t t0;

		rng = 88172645463325252ULL;
		/* pprof needs stacks by thread, the trace their order: one
		 * profile serves both, as speedscope's does */
		profile_init(&pf, true, true);
		t0 = clock_mono_ns();
		for (unsigned long i = 0; i < n / THREADS; i++) {
			for (int t = 0; t < THREADS; t++) {
				th[t] = (struct sample_thread){
					.thread_id = 100 + (uint64_t)t,
					.native_id = 1000 + t,
					.name = t ? "worker" : "MainThread",
					.first = (size_t)t * DEPTH,
					.nframes = DEPTH };
				stack_at(&fr[t * DEPTH], t, i, next_rand());
			}
			pf.now_ns = i * 10000000ULL;
			profile_add(&pf, 4242, &s);
		}
		add[r] = (double)(clock_mono_ns() - t0) / 1e6;
		for (int w = 0; w < 4; w++) {
			snprintf(path, sizeof(path), "%s/bench-writers-%d.%s",
				 dir, (int)getpid(), names[w]);
			wr[w][r] = run_writer(&pf, w, path, &size[w]);
		}
		if (r == runs - 1)
			printf("%lu thread-samples: %zu distinct stacks, %zu "
			       "frames, %zu runs in thread 0\n", n, pf.nstacks,
			       pf.nframes, pf.threads[0].nruns);
		profile_release(&pf);
	}
	printf("medians of %d runs:\n", runs);
	printf("  aggregation (profile_add) %9.1f ms\n", median(add, runs));
	for (int w = 0; w < 4; w++)
		printf("  %-11s write %13.1f ms  %11ld bytes\n", names[w],
		       median(wr[w], runs), size[w]);
	return 0;
}
