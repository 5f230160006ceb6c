/*
 * bench-writers.c - how long record's writers take, and how big their
 * files are, for a long recording: a million samples over 10,000
 * distinct frames (by default), fed through the same aggregation record
 * uses (cli/profile.h), then written as a flame graph, folded stacks,
 * speedscope, pprof and a Chrome trace, each several times; medians
 * printed.
 *
 *   make bench/bench-writers
 *   bench/bench-writers [--samples N] [--frames N] [--stacks N] [--runs N]
 *                       [--dir DIR] [--keep]
 *
 * The files go to DIR (default /tmp) as bench-writers.svg, .folded,
 * .speedscope.json, .pb.gz and .trace.json, removed unless --keep.
 *
 * The input is synthetic and fixed (a linear congruential generator):
 * --stacks distinct stacks of depth 5 to 34, each frame of a level drawn
 * from that level's share of the frames, so that stacks share their roots
 * as a program's do; every frame is some stack's leaf; the stacks' counts
 * are skewed (a stack is drawn as u^3 of a uniform u), as a profile's are.
 */
#include <config.h>

#include "cli/profile.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "model/sample.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 34

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next_rand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng >> 33);
}

static double uniform(void)
{
	return next_rand() / 2147483648.0;
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

enum { W_FLAME, W_FOLDED, W_SPEEDSCOPE, W_PPROF, W_CHROMETRACE, NWRITERS };
static const char *const writer_name[] = { "flamegraph", "folded",
					   "speedscope", "pprof",
					   "chrometrace" };
static const char *const writer_ext[] = { "svg", "folded",
					  "speedscope.json", "pb.gz",
					  "trace.json" };

static int write_one(const struct profile *pf, int w, FILE *f)
{
	switch (w) {
	case W_FLAME:
		return profile_write_flamegraph(pf, false, "bench", f);
	case W_FOLDED:
		return profile_write_folded(pf, false, f);
	case W_PPROF: {
		/* a 100 Hz recording of nsamples / 100 seconds */
		struct pprof_info pi = { .time_nanos = 1700000000000000000LL,
			.duration_nanos = (int64_t)pf->samples * 10000000LL,
			.period_nanos = 10000000 };

		return profile_write_pprof(pf, &pi, f);
	}
	case W_CHROMETRACE:
		return profile_write_chrometrace(pf, false, 0.01, f);
	default:
		return profile_write_speedscope(pf, false, "bench", 0.01, f);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "samples", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "stacks", required_argument, NULL, 'k' },
		{ "runs", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long nsamples = 1000000, nframes = 10000, nstacks = 20000;
	int runs = 5, c;
	bool keep = false;
	const char *dir = "/tmp";
	char **fname, **fpath, path[4096];
	uint32_t *stacks; /* nstacks x (depth, frames...) */
	struct sample_frame fr[MAX_DEPTH];
	struct sample_thread th;
	struct sample s;
	struct profile pf;
	struct rusage ru;
	uint64_t t0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': nsamples = strtoul(optarg, NULL, 10); break;
		case 'f': nframes = strtoul(optarg, NULL, 10); break;
		case 'k': nstacks = strtoul(optarg, NULL, 10); break;
		case 'r': runs = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'K': keep = true; break;
		default:
			fputs("usage: bench-writers [--samples N] [--frames N] "
			      "[--stacks N] [--runs N] [--dir DIR] [--keep]\n",
			      c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!nframes || nframes < MAX_DEPTH || !nstacks || runs < 1) {
		fputs("bench-writers: --frames must be at least 34, --stacks and "
		      "--runs at least 1\n", stderr);
		return 2;
	}

	/* The frames' names, as a program's might read. */
	fname = xcalloc(nframes, sizeof(*fname));
	fpath = xcalloc(nframes, sizeof(*fpath));
	for (unsigned long i = 0; i < nframes; i++) {
		char buf[128];

		snprintf(buf, sizeof(buf), "Handler%lu.process_item_%lu",
			 i % 97, i);
		fname[i] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "/srv/app/pkg%lu/module%lu.py",
			 i % 13, i % 211);
		fpath[i] = xstrdup(buf);
	}
	/* The stacks, root first: level k draws from its own slice of the
	 * frames (narrow near the root), the leaf is frame j mod nframes. */
	stacks = xcalloc(nstacks * (MAX_DEPTH + 1), sizeof(*stacks));
	for (unsigned long j = 0; j < nstacks; j++) {
		uint32_t *st = &stacks[j * (MAX_DEPTH + 1)];
		uint32_t depth = 5 + next_rand() % (MAX_DEPTH - 4);

		st[0] = depth;
		for (uint32_t k = 0; k + 1 < depth; k++) {
			unsigned long slice = nframes / MAX_DEPTH;
			unsigned long width = 1 + (slice - 1) * k / MAX_DEPTH;

			st[1 + k] = (uint32_t)(k * slice + next_rand() % width);
		}
		st[depth] = (uint32_t)(j % nframes);
	}

	t0 = clock_mono_ns();
	profile_init(&pf, false, true);
	memset(&th, 0, sizeof(th));
	th.thread_id = 1;
	th.native_id = 1;
	th.name = "MainThread";
	s.threads = &th;
	s.nthreads = 1;
	s.frames = fr;
	for (unsigned long i = 0; i < nsamples; i++) {
		double u = uniform();
		unsigned long j = i < nstacks ? i : /* every stack once */
			(unsigned long)(u * u * u * (double)nstacks);
		const uint32_t *st = &stacks[j * (MAX_DEPTH + 1)];

		th.nframes = s.nframes = st[0];
		for (uint32_t k = 0; k < st[0]; k++) {
			uint32_t f = st[st[0] - k]; /* innermost first */

			fr[k] = (struct sample_frame){ .code_key = f + 1,
				.line = (int32_t)(f % 500) + 1,
				.first_line = 1, .function = fname[f],
				.filename = fpath[f] };
		}
		pf.now_ns = i * 10000000ULL; /* 100 Hz: the trace's clock */
		profile_add(&pf, 1, &s);
	}
	printf("input: %lu samples, %zu distinct frames, %zu distinct stacks "
	       "(aggregated in %.2f s)\n", nsamples, pf.nframes, pf.nstacks,
	       (double)(clock_mono_ns() - t0) / CLOCK_NS_PER_S);
	printf("%-11s %10s %12s   (median of %d runs)\n", "format", "write s",
	       "bytes", runs);

	for (int w = 0; w < NWRITERS; w++) {
		double *secs = xcalloc((size_t)runs, sizeof(*secs));
		struct stat stb;

		snprintf(path, sizeof(path), "%s/bench-writers.%s", dir,
			 writer_ext[w]);
		for (int r = 0; r < runs; r++) {
			FILE *f = fopen(path, "w");

			if (!f) {
				perror(path);
				return 1;
			}
			t0 = clock_mono_ns();
			if (write_one(&pf, w, f) || fclose(f)) {
				perror(path);
				return 1;
			}
			secs[r] = (double)(clock_mono_ns() - t0) / CLOCK_NS_PER_S;
		}
		stat(path, &stb);
		printf("%-11s %10.3f %12lld\n", writer_name[w],
		       median(secs, runs), (long long)stb.st_size);
		if (w == W_FLAME) {
			/* what the picture says it left out */
			FILE *f = fopen(path, "r");
			char line[4096];

			while (f && fgets(line, sizeof(line), f))
				if (strstr(line, "id=\"note\""))
					printf("            %s", strchr(line, '>') + 1);
			if (f)
				fclose(f);
		}
		if (!keep)
			unlink(path);
		free(secs);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %.1f MiB (input, profile and writers together)\n",
	       ru.ru_maxrss / 1024.0);

	profile_release(&pf);
	for (unsigned long i = 0; i < nframes; i++) {
		free(fname[i]);
		free(fpath[i]);
	}
	free(fname);
	free(fpath);
	free(stacks);
	return 0;
}
