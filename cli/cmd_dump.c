#include <config.h>

#include "cli/commands.h"
#include "cli/inspect.h"
#include "cli/out.h"
#include "common/err.h"
#include "common/strbuf.h"

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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_opts io = { .pause = true, .tasks = true };
	struct out_opts oo = { 0 };
	struct snapshot *snap;
	struct strbuf sb;
	struct err e;
	bool json = false;
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
		report_error("dump: %s; usage: snakescope dump [--json] [--tasks=MODE] "
			     "[--no-pause] PID", optind >= argc ?
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
	if (json)
		out_json_dump(&sb, snap);
	else
		out_text_dump(&sb, snap, &oo);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	snap_free(snap);
	if (fflush(stdout) != 0) {
		report_error("cannot write output");
		return 1;
	}
	return 0;
}
