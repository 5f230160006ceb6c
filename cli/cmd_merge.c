/*
 * cmd_merge.c - `snakescope merge FILE...`: the dump --json documents of
 * many processes, gathered from many hosts, as one report (model/merge.h,
 * cli/out_merge.h).
 */
#include <config.h>

#include "cli/commands.h"
#include "cli/out.h"
#include "cli/out_merge.h"
#include "common/escape.h"
#include "common/jsonparse.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "model/merge.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One input file at most (a dump of thousands of threads is a few MiB). */
#define MERGE_MAX_INPUT (256u << 20)

static const char merge_usage[] =
	"usage: snakescope merge [--json] FILE...\n"
	"\n"
	"Read the 'snakescope dump --json' documents of many processes,\n"
	"gathered from many hosts (ssh, pdsh, kubectl exec, a scheduler's\n"
	"hook), and print one report: how many processes, hosts and\n"
	"threads; the groups of processes whose Python stacks are alike,\n"
	"the odd ones out named; and one tree of the stacks from the root\n"
	"frame in, each frame with the processes that reach it (host:PID,\n"
	"hosts in sequence with the same PIDs as node[01-08]:PID).\n"
	"\n"
	"A FILE may hold several documents (watch --json's lines, or\n"
	"documents one after another) or {\"processes\": [...]}; '-' is the\n"
	"standard input.  A process read twice (the same host and PID)\n"
	"counts once, from its first document.\n"
	"\n"
	"  --json      print the merged tree as one JSON document\n"
	"  -h, --help  show this help\n"
	"\n"
	"A bad file or document is reported on stderr by file and line, and\n"
	"the rest is merged.  Exit status: 0 every document merged, 1 some\n"
	"input could not be read or was not a dump (the report covers the\n"
	"rest), 2 usage error.\n";

_Static_assert(OUT_JSON_SCHEMA_VERSION == 1,
	       "model/merge.c reads schema 1: teach it the new one");

struct problems {
	struct merge_problem *v;
	size_t n, cap;
};

static void problem(struct problems *pr, const char *source, const char *msg)
{
	struct strbuf sb;

	strbuf_init(&sb);
	escape_text(&sb, source);
	report_error("merge: %s: %s", sb.buf, msg);
	pr->v = xgrow(pr->v, &pr->cap, pr->n + 1, sizeof(*pr->v));
	pr->v[pr->n].source = strbuf_detach(&sb);
	pr->v[pr->n].msg = xstrdup(msg);
	pr->n++;
}

/* The whole of f, at most MERGE_MAX_INPUT bytes; NULL with *why set. */
static char *slurp(FILE *f, size_t *len, const char **why)
{
	struct strbuf sb;
	char buf[65536];
	size_t n;

	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb.len + n > MERGE_MAX_INPUT) {
			*why = "larger than 256 MiB";
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_add(&sb, buf, n);
	}
	if (ferror(f)) {
		*why = strerror(errno);
		strbuf_release(&sb);
		return NULL;
	}
	*len = sb.len;
	return strbuf_detach(&sb);
}

static void merge_file(struct merge *m, const char *name,
		       struct problems *pr)
{
	const char *shown = strcmp(name, "-") ? name : "(stdin)";
	FILE *f = strcmp(name, "-") ? fopen(name, "r") : stdin;
	const char *why = NULL;
	struct jsonparse p;
	size_t len = 0;
	char *buf;

	if (!f) {
		problem(pr, shown, strerror(errno));
		return;
	}
	buf = slurp(f, &len, &why);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		problem(pr, shown, why);
		return;
	}
	jsonparse_init(&p, buf, len);
	if (jsonparse_at_end(&p))
		problem(pr, shown, "no JSON document");
	while (!jsonparse_at_end(&p)) {
		struct strbuf src;
		struct jv *doc;
		struct err e;

		strbuf_init(&src);
		strbuf_addf(&src, "%s:%zu", shown, jsonparse_line(&p));
		if (jsonparse_next(&p, &doc, &e)) {
			/* e.msg names the line and column itself. */
			char *at = xstrdup(e.msg);

			strbuf_reset(&src);
			strbuf_addstr(&src, shown);
			problem(pr, src.buf, at);
			free(at);
			jsonparse_resync(&p);
		} else if (merge_add(m, doc, src.buf, &e)) {
			problem(pr, src.buf, e.msg);
		}
		jv_free(doc);
		strbuf_release(&src);
	}
	free(buf);
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct problems pr = { 0 };
	struct merge m;
	struct strbuf sb;
	bool json = false;
	int c;

	getopt_reset();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(merge_usage, stdout);
			return 0;
		case 'j':
			json = true;
			break;
		default:
			report_error("merge: unknown option '%s'; see "
				     "'snakescope merge --help'",
				     argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		report_error("merge: no FILE given (- reads the standard "
			     "input); see 'snakescope merge --help'");
		return EXIT_USAGE;
	}
	merge_init(&m);
	for (int i = optind; i < argc; i++)
		merge_file(&m, argv[i], &pr);
	merge_finish(&m);
	strbuf_init(&sb);
	if (json)
		out_merge_json(&sb, &m, pr.v, pr.n);
	else
		out_merge_text(&sb, &m);
	fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	strbuf_release(&sb);
	merge_release(&m);
	for (size_t i = 0; i < pr.n; i++) {
		free((char *)pr.v[i].source);
		free((char *)pr.v[i].msg);
	}
	free(pr.v);
	return pr.n ? 1 : 0;
}
