#include <config.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/xalloc.h"
#include "session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char main_usage[] =
	"usage: snakescope [--help] [--version] COMMAND [ARGS]\n"
	"\n"
	"Look inside a running CPython process from the outside.\n"
	"\n"
	"Commands (the process: PID, or -p PID / --pid PID):\n"
	"  dump PID      print every thread's Python stack, asyncio tasks,\n"
	"                locks and a deadlock verdict\n"
	"  deadlock PID  print only the locks and the verdict (exit status 6:\n"
	"                a deadlock, 7: a likely hang)\n"
	"  record -o FILE PID | -- PROGRAM ...\n"
	"                sample the stacks into a flame graph file (folded,\n"
	"                speedscope) or JSON lines; '-- PROGRAM' starts it\n"
	"  watch --every T PID\n"
	"                a timestamped dump every T\n"
	"  top PID | -- PROGRAM ...\n"
	"                a live view: threads, the hottest functions, the\n"
	"                selected thread's stack, asyncio tasks, locals\n"
	"  run MODE -- PROGRAM ...  start a program and record, watch, dump\n"
	"                or top it; exits with the program's status\n"
	"  snapshot -o FILE PID\n"
	"                save what a dump reads as a small core file, for\n"
	"                'dump --core FILE' and gdb\n"
	"  merge FILE... one report of many processes' dump --json (from\n"
	"                many hosts): a tree of their stacks, the odd ones out\n"
	"\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version and the supported Pythons\n"
	"\n"
	"Run 'snakescope COMMAND --help' for a command's options, and see\n"
	"snakescope(1).\n"
	"\n"
	"Exit status: 0 success, 1 other failure, 2 usage error, 3 no such\n"
	"process (or it exited), 4 permission denied, 5 not a Python process\n"
	"or an unsupported Python version; deadlock: 6 a deadlock, 7 a likely\n"
	"hang; run, and record or top with a program: the program's.\n";

int main(int argc, char **argv)
{
	const char *cmd;
	struct err e;

	if (session_init(&e)) {
		report_error("%s", e.msg);
		return err_exit_code(e.code);
	}
	if (argc < 2) {
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("snakescope %s\nsupported: CPython %s\n", PACKAGE_VERSION,
		       session_supported_range());
		return 0;
	}
	/* 'run' (and 'record'/'top' given "-- PROGRAM") drops them once its
	 * program has started with ours. */
	if (!run_starts_program(argc - 1, argv + 1))
		session_drop_privileges();
	if (!strcmp(cmd, "dump"))
		return cmd_dump(argc - 1, argv + 1);
	if (!strcmp(cmd, "deadlock"))
		return cmd_deadlock(argc - 1, argv + 1);
	if (!strcmp(cmd, "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc - 1, argv + 1);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc - 1, argv + 1);
	if (!strcmp(cmd, "snapshot"))
		return cmd_snapshot(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return cmd_merge(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	report_error("unknown command '%s'; see 'snakescope --help'", cmd);
	return EXIT_USAGE;
}
