/*
 * cmd_snapshot.c - `snakescope snapshot PID -o FILE`: a core file of a
 * running process holding only what a dump of it reads (see
 * session_write_core()), for `snakescope dump --core` and gdb.
 */
#include <config.h>

#include "cli/commands.h"
#include "session/session.h"
#include "common/err.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char snapshot_usage[] =
	"usage: snakescope snapshot [--native] -o FILE PID\n"
	"       snakescope snapshot [--native] -o FILE -p PID\n"
	"\n"
	"Pause process PID, save what a dump of it reads (its threads'\n"
	"registers, the memory of their Python stacks, asyncio tasks, locks\n"
	"and local variables, the headers of the files it maps) as an ELF\n"
	"core file, and resume it: 'snakescope dump --core FILE' then prints\n"
	"what a dump printed at that instant, and gdb loads the file.  A few\n"
	"milliseconds of pause and a few megabytes, where gcore stops the\n"
	"process for the copy of all its memory.\n"
	"\n"
	"  -o, --output FILE  the core file to write (replaced atomically)\n"
	"  -p, --pid PID  the process to save (the same as the operand PID)\n"
	"  --native     also each thread's native stack (what 'dump --native'\n"
	"               unwinds, and gdb's backtraces need), up to 8 MiB each\n"
	"  -h, --help   show this help\n"
	"\n"
	"One line on stderr tells the pause, the file's size and the number\n"
	"of threads.  A core over 1 GiB is not written.\n";

int cmd_snapshot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "native", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_core_stats st;
	const char *out = NULL, *pid_opt = NULL;
	struct session *s = NULL;
	bool native = false;
	struct err e;
	pid_t pid;
	int c, rc;

	getopt_reset();
	while ((c = getopt_long(argc, argv, "ho:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(snapshot_usage, stdout);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pid_opt = optarg;
			break;
		case 'N':
			native = true;
			break;
		default:
			report_error("snapshot: unknown option '%s'; see "
				     "'snakescope snapshot --help'",
				     argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	rc = take_pid("snapshot", pid_opt, argc, argv, optind, &pid);
	if (rc)
		return rc;
	if (!out || !out[0]) {
		report_error("snapshot: missing -o FILE; see 'snakescope "
			     "snapshot --help'");
		return EXIT_USAGE;
	}
	err_clear(&e);
	rc = session_open(pid, &s, &e);
	if (!rc)
		rc = session_write_core(s, out, native, SESSION_CORE_MAX_SIZE,
					&st, &e);
	session_close(s);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	fprintf(stderr, "snakescope: snapshot of process %d: paused %.1f ms, "
		"wrote '%s': %.1f MiB, %zu thread%s, %zu memory range%s\n",
		(int)pid, st.pause_ms, out, st.size / (1024.0 * 1024.0),
		st.nthreads, st.nthreads == 1 ? "" : "s", st.nsegments,
		st.nsegments == 1 ? "" : "s");
	return 0;
}
