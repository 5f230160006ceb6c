#include <config.h>

#include "cli/commands.h"
#include "cli/inspect.h"
#include "cli/out.h"
#include "cli/source.h"
#include "common/err.h"
#include "common/strbuf.h"
#include "pystructs/repr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char dump_usage[] =
	"usage: snakescope dump [options] PID\n"
	"\n"
	"Print the Python stack of every thread of process PID, then its\n"
	"asyncio tasks: each task's coroutine stack, what it waits for, who\n"
	"awaits it (as a tree), and any await cycle (an async deadlock).\n"
	"\n"
	"  --json       print one JSON document instead of text\n"
	"  --no-pause   read without stopping the process (faster for the\n"
	"               target, but the stacks may be slightly inconsistent)\n"
	"  --tasks=MODE asyncio tasks as a 'tree' (default), a 'table' (one\n"
	"               line per task) or 'none' (not read)\n"
	"  --locals     every frame's arguments and local variables, with\n"
	"               a bounded repr read from memory\n"
	"  --repr-width=N  cut each repr at N characters (default 100)\n"
	"  --full       show importlib's frames instead of folding them\n"
	"               into one \"importing 'module'\" line\n"
	"  --no-source  do not print source lines under the frames\n"
	"  -h, --help   show this help\n"
	"\n"
	"By default every thread is paused with ptrace for the read (well\n"
	"under a millisecond for small processes) and resumed before any\n"
	"output.  Colour is used on a terminal unless NO_COLOR is set.\n";

static unsigned env_hold_ms(void)
{
	const char *v = getenv("SNAKESCOPE_TEST_HOLD_PAUSE_MS");

	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-pause", no_argument, NULL, 'P' },
		{ "tasks", required_argument, NULL, 'T' },
		{ "locals", no_argument, NULL, 'l' },
		{ "repr-width", required_argument, NULL, 'W' },
		{ "full", no_argument, NULL, 'F' },
		{ "no-source", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_opts io = { .pause = true, .tasks = true };
	struct out_opts oo = { 0 };
	struct snapshot *snap;
	struct strbuf sb;
	struct err e;
	bool json = false, source = true;
	char *end;
	pid_t pid;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'P':
			io.pause = false;
			break;
		case 'T':
			if (!strcmp(optarg, "tree"))
				oo.tasks = OUT_TASKS_TREE;
			else if (!strcmp(optarg, "table"))
				oo.tasks = OUT_TASKS_TABLE;
			else if (!strcmp(optarg, "none"))
				oo.tasks = OUT_TASKS_NONE;
			else {
				report_error("dump: --tasks takes tree, table "
					     "or none, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			io.locals = true;
			break;
		case 'W':
			io.repr_width = strtoul(optarg, &end, 10);
			if (*end || io.repr_width < PY_REPR_WIDTH_MIN ||
			    io.repr_width > PY_REPR_WIDTH_MAX) {
				report_error("dump: --repr-width takes a number "
					     "from %d to %d, not '%s'",
					     PY_REPR_WIDTH_MIN, PY_REPR_WIDTH_MAX,
					     optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			oo.full = true;
			break;
		case 'S':
			source = false;
			break;
		case 'h':
			fputs(dump_usage, stdout);
			return 0;
		default:
			report_error("dump: unknown option '%s'; see "
				     "'snakescope dump --help'",
				     argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		report_error("dump: %s; usage: snakescope dump [--json] [--locals] "
			     "[--tasks=MODE] [--no-pause] PID", optind >= argc ?
			     "missing PID" : "too many arguments");
		return EXIT_USAGE;
	}
	if (!parse_pid(argv[optind], &pid)) {
		report_error("dump: '%s' is not a process ID (a positive "
			     "number)", argv[optind]);
		return EXIT_USAGE;
	}
	io.hold_ms = env_hold_ms();
	io.tasks = oo.tasks != OUT_TASKS_NONE;
	err_clear(&e);
	rc = inspect_take(pid, &io, &snap, &e);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	if (snap->warning)
		report_warning("%s", snap->warning);
	oo.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	strbuf_init(&sb);
	if (json) {
		out_json_dump(&sb, snap, io.locals);
	} else {
		oo.source = source ? source_new(pid) : NULL;
		out_text_dump(&sb, snap, &oo);
		source_free(oo.source);
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	snap_free(snap);
	if (fflush(stdout) != 0) {
		report_error("cannot write output");
		return 1;
	}
	return 0;
}
