#include <config.h>

#include "cli/commands.h"
#include "common/escape.h"
#include "cli/out.h"
#include "cli/watch.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NS CLOCK_NS_PER_S

static const char watch_usage[] =
	"usage: snakescope watch [options] --every T PID\n"
	"       snakescope watch [options] --every T -p PID\n"
	"\n"
	"Take a full dump of process PID (what 'snakescope dump' prints,\n"
	"with the same options) every T, each headed by a line\n"
	"'# TIMESTAMP pid PID dump N' (ISO 8601, local time with its UTC\n"
	"offset), until stopped (Ctrl-C), --count dumps were taken, or the\n"
	"process exits (then it says so and exits with status 0).  A dump\n"
	"that fails is reported in its place and the watch goes on.\n"
	"\n"
	"  -p, --pid PID       the process to watch (the same as the operand\n"
	"                      PID)\n"
	"  -e, --every T       interval: 0.5, 10s, 500ms, 2m, 1h (required)\n"
	"  -n, --count N       stop after N dumps\n"
	"  -o, --output FILE   append to FILE (flushed after every dump)\n"
	"                      instead of standard output\n"
	"  --json              one JSON document per line: the dump's, with\n"
	"                      \"timestamp\" and \"dump\" (N) added\n"
	"  --no-pause (--nonblocking), --tasks=MODE, --locals,\n"
	"  --repr-width=N, --full, --no-source, --no-group, --native,\n"
	"  --native-all\n"
	"                      as for 'snakescope dump'\n"
	"  -h, --help          show this help\n";

/* "2026-11-21T23:10:00.123+01:00" */
static void iso_now(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;
	char date[32], zone[8];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0100 */
	snprintf(buf, size, "%s.%03ld%.3s:%.2s", date, (long)tv.tv_usec / 1000,
		 zone, zone + 3);
}

/* A --json line: the time and the dump's number, then the dump's
 * document (compact: one line), or the error of a dump that failed. */
static void json_line(struct strbuf *sb, const char *stamp, unsigned long n,
		      const struct snapshot *snap, const char *error,
		      const struct watch_opts *o)
{
	struct json j;

	json_init(&j, sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key_string(&j, "timestamp", stamp);
	json_key_uint(&j, "dump", n);
	if (snap)
		out_json_members(&j, snap, o->d.io.locals, o->d.oo.native_all);
	else
		json_key_string(&j, "error", error);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(sb, '\n');
}

/* One dump (or its failure) with its header, into sb. */
static int one_dump(struct session *is, pid_t pid,
		    const struct watch_opts *o, bool color, unsigned long n,
		    struct strbuf *sb)
{
	struct snapshot *snap = NULL;
	struct strbuf doc;
	struct err e;
	char stamp[64];
	int rc;

	iso_now(stamp, sizeof(stamp));
	err_clear(&e);
	rc = session_snapshot(is, &o->d.io, &snap, &e);
	if (rc && rc != SS_EEXITED && rc != SS_ENOPROC && !session_gone(is)) {
		const char *msg = e.msg[0] ? e.msg : err_describe(rc);

		if (o->d.json) {
			json_line(sb, stamp, n, NULL, msg, o);
		} else {
			strbuf_addf(sb, "# %s pid %d dump %lu\n", stamp, (int)pid, n);
			strbuf_addstr(sb, "dump failed: ");
			escape_text(sb, msg);
			strbuf_addstr(sb, "\n\n");
		}
		return 0;
	}
	if (rc)
		return SS_EEXITED;
	if (o->d.json) {
		json_line(sb, stamp, n, snap, NULL, o);
	} else {
		strbuf_init(&doc);
		dump_render(&doc, is, snap, color, &o->d);
		strbuf_addf(sb, "# %s pid %d dump %lu\n", stamp, (int)pid, n);
		strbuf_add(sb, doc.buf, doc.len);
		strbuf_addch(sb, '\n');
		strbuf_release(&doc);
	}
	snap_free(snap);
	return 0;
}

int watch_run(pid_t pid, const struct watch_opts *o)
{
	struct session *is;
	struct strbuf sb;
	struct err e;
	FILE *out = stdout;
	uint64_t next;
	unsigned long n = 0, written = 0;
	bool color, exited = false;
	int rc, status = 0;

	err_clear(&e);
	rc = session_open(pid, &is, &e);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		return err_exit_code(rc);
	}
	if (o->output && !(out = fopen(o->output, "a"))) {
		report_error("cannot write '%s': %s", o->output, strerror(errno));
		session_close(is);
		return 1;
	}
	color = !o->output && !o->d.json && isatty(STDOUT_FILENO) &&
		!getenv("NO_COLOR");
	catch_stop_signals();
	strbuf_init(&sb);
	next = clock_mono_ns();
	while (!stop_signal && (!o->count || n < o->count)) {
		strbuf_reset(&sb);
		if (one_dump(is, pid, o, color, ++n, &sb)) {
			exited = true;
			break;
		}
		if (fwrite(sb.buf, 1, sb.len, out) != sb.len || fflush(out)) {
			report_error("cannot write output: %s", strerror(errno));
			status = 1;
			break;
		}
		written++;
		if (o->count && n >= o->count)
			break;
		next += (uint64_t)(o->every * NS);
		if (next < clock_mono_ns())
			next = clock_mono_ns(); /* a slow dump: no burst after it */
		while (!stop_signal && clock_sleep_until_ns(next))
			;
		if (session_gone(is)) {
			exited = true;
			break;
		}
	}
	if (exited)
		fprintf(stderr, "snakescope: process %d exited; the watch ends "
			"after %lu dump%s\n", (int)pid, written,
			written == 1 ? "" : "s");
	strbuf_release(&sb);
	if (out != stdout)
		fclose(out);
	session_close(is);
	return status;
}

int watch_parse(int argc, char **argv, struct watch_opts *o, pid_t *pid,
		bool need_pid)
{
	static const struct option own[] = {
		{ "every", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
	};
	const char *pid_opt = NULL;
	struct option longopts[DUMP_LONGOPTS_MAX];
	char *end;
	int c, rc;

	dump_longopts_after(longopts, own, sizeof(own) / sizeof(own[0]));
	memset(o, 0, sizeof(*o));
	dump_opts_init(&o->d);
	getopt_reset();
	while ((c = getopt_long(argc, argv, "he:n:o:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(watch_usage, stdout);
			return -1;
		case 'e':
			if (!parse_seconds(optarg, &o->every)) {
				report_error("watch: --every takes a duration "
					     "(10s, 500ms, 2m), not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			errno = 0;
			o->count = strtoul(optarg, &end, 10);
			if (errno || *end || !o->count || *optarg == '-') {
				report_error("watch: --count takes a positive "
					     "number, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'p':
			pid_opt = optarg;
			break;
		default:
			rc = dump_opt(&o->d, c, optarg, "watch");
			if (rc > 0)
				return rc;
			if (rc < 0) {
				report_error("watch: unknown option '%s'; see "
					     "'snakescope watch --help'",
					     argv[optind - 1]);
				return EXIT_USAGE;
			}
		}
	}
	rc = dump_opts_check(&o->d, "watch");
	if (rc)
		return rc;
	if (!(o->every > 0)) {
		report_error("watch: say how often with --every T (e.g. 10s)");
		return EXIT_USAGE;
	}
	if (need_pid)
		return take_pid("watch", pid_opt, argc, argv, optind, pid);
	if (pid_opt) {
		report_error("watch: -p/--pid with a program to start: give "
			     "one or the other");
		return EXIT_USAGE;
	}
	if (optind != argc) {
		report_error("watch: unexpected '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_opts o;
	pid_t pid;
	int rc = watch_parse(argc, argv, &o, &pid, true);

	if (rc)
		return rc < 0 ? 0 : rc;
	return watch_run(pid, &o);
}
