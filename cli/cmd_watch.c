#include <config.h>

#include "cli/commands.h"
#include "common/escape.h"
#include "cli/out.h"
#include "cli/stall.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS CLOCK_NS_PER_S

static const char watch_usage[] =
	"usage: snakescope watch [options] --every T PID\n"
	"       snakescope watch [options] --every T -p PID\n"
	"       snakescope watch [options] --on-stall T PID\n"
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
	"  -e, --every T       interval: 0.5, 10s, 500ms, 2m, 1h\n"
	"  --on-stall T        instead of --every: sample the stacks without\n"
	"                      pausing (--rate a second) and dump once when no\n"
	"                      thread's Python stack (function and line of\n"
	"                      every frame) changed for T, or when a deadlock\n"
	"                      verdict appears (checked on an unpaused read\n"
	"                      every T, confirmed by the dump's own); a stall\n"
	"                      is dumped once, progress re-arms it.  The\n"
	"                      header says why: '...dump N: no progress for\n"
	"                      Xs' or '...: deadlock'\n"
	"  --rate HZ           --on-stall's samples a second (default 10)\n"
	"  --exec CMD          --on-stall: after each dump run /bin/sh -c CMD\n"
	"                      with the dump's file as $1 and in SNAKESCOPE_DUMP\n"
	"                      (empty without -o), SNAKESCOPE_PID and\n"
	"                      SNAKESCOPE_REASON (stall, deadlock) set; the\n"
	"                      watch waits for it, reports its failure and\n"
	"                      goes on\n"
	"  -n, --count N       stop after N dumps\n"
	"  -o, --output FILE   append to FILE (flushed after every dump)\n"
	"                      instead of standard output; with --on-stall\n"
	"                      each dump is a file of its own: FILE with %n\n"
	"                      replaced by the dump's number, else FILE itself\n"
	"                      with --count 1, else FILE.1, FILE.2, ...\n"
	"  --json              one JSON document per line: the dump's, with\n"
	"                      \"timestamp\" and \"dump\" (N) added\n"
	"  --no-pause (--nonblocking), --tasks=MODE, --locals,\n"
	"  --repr-width=N, --full, --no-source, --no-group, --no-summary,\n"
	"  --native, --native-all\n"
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

/* Why an --on-stall dump is taken. */
struct dump_why {
	bool deadlock;     /* a deadlock verdict appeared, else a stall */
	double stalled_s;  /* how long no stack has moved */
};

/* The header of a text dump: "# TIMESTAMP pid PID dump N", and why. */
static void text_header(struct strbuf *sb, const char *stamp, pid_t pid,
			unsigned long n, const struct dump_why *why)
{
	strbuf_addf(sb, "# %s pid %d dump %lu", stamp, (int)pid, n);
	if (why && why->deadlock)
		strbuf_addstr(sb, ": deadlock");
	else if (why)
		strbuf_addf(sb, ": no progress for %.1fs", why->stalled_s);
	strbuf_addch(sb, '\n');
}

/* A --json line: the time and the dump's number, then the dump's
 * document (compact: one line), or the error of a dump that failed. */
static void json_line(struct strbuf *sb, const char *stamp, unsigned long n,
		      const struct snapshot *snap, const char *error,
		      const struct watch_opts *o, const struct dump_why *why)
{
	struct json j;

	json_init(&j, sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key_string(&j, "timestamp", stamp);
	json_key_uint(&j, "dump", n);
	if (why) {
		json_key_string(&j, "reason", why->deadlock ? "deadlock" :
				"stall");
		if (!why->deadlock) {
			json_key(&j, "stalled_s");
			json_fixed(&j, why->stalled_s, 3);
		}
	}
	if (snap)
		out_json_members(&j, snap, o->d.io.locals, o->d.oo.native_all);
	else
		json_key_string(&j, "error", error);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(sb, '\n');
}

/* One dump (or its failure) with its header, into sb; why: an
 * --on-stall dump's reason, else NULL.  Returns 0, SS_EEXITED, or 1 when
 * a deadlock's dump finds none in its own (paused) read: nothing is
 * written then. */
static int one_dump(struct session *is, pid_t pid,
		    const struct watch_opts *o, bool color, unsigned long n,
		    const struct dump_why *why, struct strbuf *sb)
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
			json_line(sb, stamp, n, NULL, msg, o, why);
		} else {
			text_header(sb, stamp, pid, n, why);
			strbuf_addstr(sb, "dump failed: ");
			escape_text(sb, msg);
			strbuf_addstr(sb, "\n\n");
		}
		return 0;
	}
	if (rc)
		return SS_EEXITED;
	/* The unpaused check that saw the deadlock may have read a moment
	 * that never held together; the dump's read decides. */
	if (why && why->deadlock && o->d.io.locks &&
	    snap_verdict(snap) != SNAP_VERDICT_DEADLOCK) {
		snap_free(snap);
		return 1;
	}
	if (o->d.json) {
		json_line(sb, stamp, n, snap, NULL, o, why);
	} else {
		strbuf_init(&doc);
		dump_render(&doc, is, snap, color, &o->d);
		text_header(sb, stamp, pid, n, why);
		strbuf_add(sb, doc.buf, doc.len);
		strbuf_addch(sb, '\n');
		strbuf_release(&doc);
	}
	snap_free(snap);
	return 0;
}

void watch_dump_path(char *buf, size_t size, const char *output,
		     unsigned long count, unsigned long n)
{
	struct strbuf sb;
	const char *p = output, *m;

	strbuf_init(&sb);
	if (!strstr(output, "%n")) {
		if (count == 1)
			strbuf_addstr(&sb, output);
		else
			strbuf_addf(&sb, "%s.%lu", output, n);
	} else {
		while ((m = strstr(p, "%n"))) {
			strbuf_add(&sb, p, (size_t)(m - p));
			strbuf_addf(&sb, "%lu", n);
			p = m + 2;
		}
		strbuf_addstr(&sb, p);
	}
	snprintf(buf, size, "%s", sb.buf);
	strbuf_release(&sb);
}

/* --exec: /bin/sh -c CMD with the dump's path as $1; waited for.  Its
 * failure is reported, and the watch goes on. */
static void run_exec(const char *cmd, const char *path, pid_t target,
		     const struct dump_why *why)
{
	char spid[24];
	pid_t child;
	int status;

	fflush(NULL);
	child = fork();
	if (child < 0) {
		report_warning("--exec: cannot fork: %s", strerror(errno));
		return;
	}
	if (!child) {
		snprintf(spid, sizeof(spid), "%d", (int)target);
		setenv("SNAKESCOPE_DUMP", path, 1);
		setenv("SNAKESCOPE_PID", spid, 1);
		setenv("SNAKESCOPE_REASON", why->deadlock ? "deadlock" :
		       "stall", 1);
		execl("/bin/sh", "sh", "-c", cmd, "snakescope", path,
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			report_warning("--exec: cannot wait for '%s': %s", cmd,
				       strerror(errno));
			return;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status))
		report_warning("--exec: '%s' exited with status %d", cmd,
			       WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		report_warning("--exec: '%s' killed by signal %d", cmd,
			       WTERMSIG(status));
}

/* Write dump n (sb) where --on-stall puts it: its own file, or stdout.
 * path gets the file's name ("" for stdout).  Returns 0 or -1 after
 * reporting. */
static int write_stall_dump(const struct watch_opts *o, unsigned long n,
			    const struct strbuf *sb, char *path, size_t size)
{
	FILE *f;

	path[0] = '\0';
	if (!o->output) {
		if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len ||
		    fflush(stdout)) {
			report_error("cannot write output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	watch_dump_path(path, size, o->output, o->count, n);
	f = fopen(path, "w");
	if (!f) {
		report_error("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fwrite(sb->buf, 1, sb->len, f) != sb->len) {
		report_error("cannot write '%s': %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f)) {
		report_error("cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A deadlock check: an unpaused read of the locks, cheaper than a dump's
 * and taken only once every T.  False when the read fails. */
static bool deadlock_now(struct session *is)
{
	struct session_opts io = { .locks = true };
	struct snapshot *snap = NULL;
	struct err e;
	bool dl;

	err_clear(&e);
	if (session_snapshot(is, &io, &snap, &e))
		return false;
	dl = snap_verdict(snap) == SNAP_VERDICT_DEADLOCK;
	snap_free(snap);
	return dl;
}

/* watch --on-stall: sample, and dump when stall.h says so. */
static int watch_stall(pid_t pid, const struct watch_opts *o)
{
	struct session *is;
	struct sample sample = { 0 };
	struct stall st;
	struct strbuf sb;
	struct err e;
	char path[4096];
	uint64_t next, now, fp, step = NS / o->rate;
	unsigned long n = 0, failed = 0;
	bool color, torn, exited = false;
	int rc, status = 0;

	err_clear(&e);
	rc = session_open(pid, &is, &e);
	if (!rc)
		rc = session_sampler_start(is, NULL, NULL, &e);
	if (rc) {
		report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
		session_close(is);
		return err_exit_code(rc);
	}
	color = !o->output && !o->d.json && isatty(STDOUT_FILENO) &&
		!getenv("NO_COLOR");
	catch_stop_signals();
	strbuf_init(&sb);
	next = clock_mono_ns();
	stall_init(&st, o->on_stall, next);
	while (!stop_signal && (!o->count || n < o->count)) {
		struct dump_why why = { 0 };
		bool dump = false;

		now = clock_mono_ns();
		err_clear(&e);
		rc = session_sample(is, false, now, &sample, &e);
		if (rc && (rc == SS_EEXITED || session_gone(is))) {
			exited = true;
			break;
		}
		if (rc) {
			/* One bad read is not a stall, nor progress. */
			if (!failed++)
				report_warning("cannot sample process %d: %s",
					       (int)pid, e.msg[0] ? e.msg :
					       err_describe(rc));
		} else if (sample.nthreads) {
			/* No thread at all is a read that found nothing (a
			 * thread list being changed), not a stack. */
			fp = stall_fingerprint(&sample, &torn);
			why.stalled_s = stall_age(&st, now);
			dump = stall_feed(&st, fp, torn, now);
		}
		if (!dump && stall_check_due(&st, now) &&
		    stall_verdict(&st, deadlock_now(is))) {
			why.deadlock = true;
			dump = true;
		}
		if (dump) {
			strbuf_reset(&sb);
			rc = one_dump(is, pid, o, color, n + 1, &why, &sb);
			if (rc == SS_EEXITED) {
				exited = true;
				break;
			}
			if (rc == 1) {
				stall_verdict(&st, false);
			} else {
				if (write_stall_dump(o, ++n, &sb, path,
						     sizeof(path))) {
					status = 1;
					break;
				}
				if (why.deadlock)
					stall_dumped(&st);
				if (o->exec)
					run_exec(o->exec, path, pid, &why);
			}
		}
		next += step;
		if (next < clock_mono_ns())
			next = clock_mono_ns(); /* a slow dump: no burst after it */
		while (!stop_signal && clock_sleep_until_ns(next))
			;
	}
	if (exited)
		fprintf(stderr, "snakescope: process %d exited; the watch ends "
			"after %lu dump%s\n", (int)pid, n, n == 1 ? "" : "s");
	sample_release(&sample);
	strbuf_release(&sb);
	session_close(is);
	return status;
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

	if (o->on_stall > 0)
		return watch_stall(pid, o);
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
		if (one_dump(is, pid, o, color, ++n, NULL, &sb)) {
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

/* watch's own options without a letter, past every letter of
 * dump_longopts */
enum { OPT_ON_STALL = 256, OPT_RATE, OPT_EXEC };

int watch_parse(int argc, char **argv, struct watch_opts *o, pid_t *pid,
		bool need_pid)
{
	static const struct option own[] = {
		{ "every", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "on-stall", required_argument, NULL, OPT_ON_STALL },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "exec", required_argument, NULL, OPT_EXEC },
	};
	const char *pid_opt = NULL;
	struct option longopts[DUMP_LONGOPTS_MAX];
	bool rate_given = false;
	char *end;
	int c, rc;

	dump_longopts_after(longopts, own, sizeof(own) / sizeof(own[0]));
	memset(o, 0, sizeof(*o));
	dump_opts_init(&o->d);
	o->rate = WATCH_STALL_RATE;
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
		case OPT_ON_STALL:
			if (!parse_seconds(optarg, &o->on_stall)) {
				report_error("watch: --on-stall takes a duration "
					     "(10s, 500ms, 2m), not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_RATE:
			errno = 0;
			o->rate = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || *optarg == '-' || !o->rate ||
			    o->rate > WATCH_STALL_RATE_MAX) {
				report_error("watch: --rate takes samples a "
					     "second from 1 to %d, not '%s'",
					     WATCH_STALL_RATE_MAX, optarg);
				return EXIT_USAGE;
			}
			rate_given = true;
			break;
		case OPT_EXEC:
			o->exec = optarg;
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
	if (o->every > 0 && o->on_stall > 0) {
		report_error("watch: --every T or --on-stall T, not both");
		return EXIT_USAGE;
	}
	if (!(o->every > 0) && !(o->on_stall > 0)) {
		report_error("watch: say how often with --every T (e.g. 10s), "
			     "or --on-stall T");
		return EXIT_USAGE;
	}
	if (!(o->on_stall > 0) && (rate_given || o->exec)) {
		report_error("watch: --rate and --exec go with --on-stall T");
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
