#include <config.h>

#include "cli/commands.h"
#include "common/escape.h"
#include "cli/out.h"
#include "cli/stall.h"
#include "cli/watch.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

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
/* Processes an --on-stall watch of several samples at most (a bound on
 * a tree the user does not control). */
#define WATCH_MAX_PROCS 256

static const char watch_usage[] =
	"usage: snakescope watch [options] --every T PID\n"
	"       snakescope watch [options] --every T -p PID\n"
	"       snakescope watch [options] --on-stall T PID\n"
	"       snakescope watch [options] (--every T | --on-stall T)\n"
	"                        --subprocesses PID | PID PID...\n"
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
	"  --subprocesses      PID and its Python descendants, looked for\n"
	"                      again at each dump (and each --on-stall\n"
	"                      sample): each dump is theirs, as 'snakescope\n"
	"                      dump --subprocesses' prints it\n"
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
	"  --no-pause (--nonblocking), --nonstop, --tasks=MODE, --locals,\n"
	"  --repr-width=N, --full, --no-source, --no-group, --no-summary,\n"
	"  --native, --native-all\n"
	"                      as for 'snakescope dump' (--nonstop: each\n"
	"                      dump read thread by thread, the process never\n"
	"                      stopped as a whole)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Several processes (PIDs, or --subprocesses): each dump is all of\n"
	"them, as 'snakescope dump PID PID...' prints them (a summary, the\n"
	"processes alike told once; --json: one line, {\"timestamp\",\n"
	"\"dump\", \"processes\", \"groups\"}), headed '# TIMESTAMP pid\n"
	"PID dump N (K processes)', PID the first, which must be readable;\n"
	"a process gone or not read later is told in its place; the watch\n"
	"ends when none is left.  With --on-stall a stall is no progress in\n"
	"any of them for T, or a deadlock in one.\n";

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
			unsigned long n, const struct dump_why *why,
			size_t nprocs)
{
	strbuf_addf(sb, "# %s pid %d dump %lu", stamp, (int)pid, n);
	if (nprocs)
		strbuf_addf(sb, " (%zu process%s)", nprocs,
			    nprocs == 1 ? "" : "es");
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
			text_header(sb, stamp, pid, n, why, 0);
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
		text_header(sb, stamp, pid, n, why, 0);
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

/* What follows a stall's dump, rc being one_dump()'s or many_dump()'s
 * (not SS_EEXITED): 1, the paused read did not confirm the deadlock, and
 * the stall is armed again; else dump *n + 1 is written, a deadlock is
 * marked dumped and --exec runs.  Returns -1 when the dump could not be
 * written (reported). */
static int stall_dump_done(struct stall *st, const struct watch_opts *o,
			   int rc, unsigned long *n, const struct strbuf *sb,
			   pid_t pid, const struct dump_why *why)
{
	char path[4096];

	if (rc == 1) {
		stall_verdict(st, false);
		return 0;
	}
	if (write_stall_dump(o, ++*n, sb, path, sizeof(path)))
		return -1;
	if (why->deadlock)
		stall_dumped(st);
	if (o->exec)
		run_exec(o->exec, path, pid, why);
	return 0;
}

/* Sleep until the next sample or dump is due, *next + step; after a
 * slow dump, from now (no burst after it).  A stop signal ends it. */
static void wait_tick(uint64_t *next, uint64_t step)
{
	*next += step;
	if (*next < clock_mono_ns())
		*next = clock_mono_ns();
	while (!stop_signal && clock_sleep_until_ns(*next))
		;
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
			if (stall_dump_done(&st, o, rc, &n, &sb, pid, &why)) {
				status = 1;
				break;
			}
		}
		wait_tick(&next, step);
	}
	if (exited)
		fprintf(stderr, "snakescope: process %d exited; the watch ends "
			"after %lu dump%s\n", (int)pid, n, n == 1 ? "" : "s");
	sample_release(&sample);
	strbuf_release(&sb);
	session_close(is);
	return status;
}

/* ---- several processes --------------------------------------------------- */

struct many_head {
	const char *stamp;
	unsigned long n;
	const struct dump_why *why;
};

/* A --json line's first members: as json_line() writes them. */
static void many_json_head(struct json *j, void *arg)
{
	const struct many_head *h = arg;

	json_key_string(j, "timestamp", h->stamp);
	json_key_uint(j, "dump", h->n);
	if (h->why) {
		json_key_string(j, "reason", h->why->deadlock ? "deadlock" :
				"stall");
		if (!h->why->deadlock) {
			json_key(j, "stalled_s");
			json_fixed(j, h->why->stalled_s, 3);
		}
	}
}

/* Dump n of several processes (pids; pid the first, or the parent) with
 * its header, into sb; why: an --on-stall dump's reason, else NULL.
 * Returns 0, SS_EEXITED when none of them is left, or 1 when a
 * deadlock's dump finds none in its own (paused) reads: nothing is
 * written then. */
static int many_dump(pid_t pid, const pid_t *pids, size_t npids,
		     const struct watch_opts *o, bool color, unsigned long n,
		     const struct dump_why *why, struct strbuf *sb)
{
	struct dump_opts d = o->d;
	struct dump_many_out mo = { 0 };
	struct many_head head;
	struct strbuf doc;
	char stamp[64];

	iso_now(stamp, sizeof(stamp));
	head.stamp = stamp;
	head.n = n;
	head.why = why;
	mo.color = color;
	mo.quiet = true;
	mo.compact = true;
	mo.head = many_json_head;
	mo.head_arg = &head;
	strbuf_init(&doc);
	dump_many_render(&d, pids, npids, false, &doc, &mo);
	if (mo.all_gone) {
		strbuf_release(&doc);
		return SS_EEXITED;
	}
	/* The unpaused checks that saw the deadlock may have read a
	 * moment that never held together; the dump's reads decide. */
	if (why && why->deadlock && o->d.io.locks &&
	    mo.worst != SNAP_VERDICT_DEADLOCK) {
		strbuf_release(&doc);
		return 1;
	}
	if (!o->d.json)
		text_header(sb, stamp, pid, n, why, mo.nprocs);
	strbuf_add(sb, doc.buf, doc.len);
	if (!o->d.json)
		strbuf_addch(sb, '\n');
	strbuf_release(&doc);
	return 0;
}

/* The first process (the parent) must be one that can be read, as the
 * one process of a watch of one: 0, or the exit status after saying
 * why not. */
static int first_readable(pid_t pid)
{
	struct session *is = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = session_open(pid, &is, &e);
	session_close(is);
	if (!rc)
		return 0;
	report_error("%s", e.msg[0] ? e.msg : err_describe(rc));
	return err_exit_code(rc);
}

/* watch --every of several processes: each dump, the processes found
 * again. */
static int watch_many(pid_t pid, const struct watch_opts *o)
{
	struct strbuf sb;
	FILE *out = stdout;
	uint64_t next;
	unsigned long n = 0, written = 0;
	bool color, exited = false;
	int status = first_readable(pid);

	if (status)
		return status;
	if (o->output && !(out = fopen(o->output, "a"))) {
		report_error("cannot write '%s': %s", o->output, strerror(errno));
		return 1;
	}
	color = !o->output && !o->d.json && isatty(STDOUT_FILENO) &&
		!getenv("NO_COLOR");
	catch_stop_signals();
	strbuf_init(&sb);
	next = clock_mono_ns();
	while (!stop_signal && (!o->count || n < o->count)) {
		pid_t *pids;
		size_t npids = dump_many_collect(&o->d, pid, &pids, true);
		int rc;

		strbuf_reset(&sb);
		rc = many_dump(pid, pids, npids, o, color, ++n, NULL, &sb);
		free(pids);
		if (rc) {
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
		wait_tick(&next, (uint64_t)(o->every * NS));
	}
	if (exited)
		fprintf(stderr, "snakescope: the processes exited; the watch "
			"ends after %lu dump%s\n", written,
			written == 1 ? "" : "s");
	strbuf_release(&sb);
	if (out != stdout)
		fclose(out);
	return status;
}

/* A process an --on-stall watch of several samples. */
struct stall_proc {
	pid_t pid;
	struct session *is;  /* NULL: gone, or not Python (never tried
				again) */
};

struct stall_procs {
	struct stall_proc *v;
	size_t n, cap;
};

static struct stall_proc *stall_proc_find(struct stall_procs *ps, pid_t pid)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].pid == pid)
			return &ps->v[i];
	return NULL;
}

/* The processes as o->d says (found again: new descendants are opened,
 * those that are not Python or gone are kept without a session, so that
 * they are not tried again, for as long as they are listed; those no
 * longer listed are dropped).  A process that cannot be read for another
 * reason (just forked) is tried again next time. */
static void stall_procs_update(struct stall_procs *ps, pid_t pid,
			       const struct watch_opts *o)
{
	pid_t *pids;
	size_t npids = dump_many_collect(&o->d, pid, &pids, true), k = 0;

	for (size_t i = 0; i < ps->n; i++) {
		bool listed = false;

		for (size_t j = 0; j < npids && !listed; j++)
			listed = pids[j] == ps->v[i].pid;
		if (listed)
			ps->v[k++] = ps->v[i];
		else
			session_close(ps->v[i].is);
	}
	ps->n = k;
	for (size_t i = 0; i < npids && ps->n < WATCH_MAX_PROCS; i++) {
		struct session *is = NULL;
		struct err e;
		int rc;

		if (stall_proc_find(ps, pids[i]))
			continue;
		err_clear(&e);
		rc = session_open(pids[i], &is, &e);
		if (!rc)
			rc = session_sampler_start(is, NULL, NULL, &e);
		if (rc) {
			session_close(is);
			is = NULL;
			if (rc != SS_ENOTPY && rc != SS_EUNSUPPORTED &&
			    rc != SS_EBADBUILD && rc != SS_EPERM &&
			    rc != SS_ENOPROC && rc != SS_EEXITED &&
			    rc != SS_EZOMBIE)
				continue;
		}
		ps->v = xgrow(ps->v, &ps->cap, ps->n + 1, sizeof(*ps->v));
		ps->v[ps->n].pid = pids[i];
		ps->v[ps->n++].is = is;
	}
	free(pids);
}

static void stall_procs_release(struct stall_procs *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		session_close(ps->v[i].is);
	free(ps->v);
}

static uint64_t mix_fp(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

/*
 * One sample of every process: the fingerprint of them all (each one's,
 * with its PID, in order; so a process that comes or goes is progress
 * too).  Returns 0, 1 when a sample failed (one bad read is not a stall,
 * nor progress; *err_msg says why), or SS_EEXITED when none is left.
 */
static int stall_sample_many(struct stall_procs *ps, uint64_t now,
			     struct sample *sample, uint64_t *fp, bool *torn,
			     bool *empty, char *err_msg, size_t size)
{
	size_t live = 0;
	bool failed = false;

	*fp = 0;
	*torn = false;
	*empty = true;
	for (size_t i = 0; i < ps->n; i++) {
		struct stall_proc *p = &ps->v[i];
		struct err e;
		bool t;
		int rc;

		if (!p->is)
			continue;
		err_clear(&e);
		rc = session_sample(p->is, false, now, sample, &e);
		if (rc && (rc == SS_EEXITED || session_gone(p->is))) {
			session_close(p->is);
			p->is = NULL;
			continue;
		}
		live++;
		if (rc) {
			if (!failed)
				snprintf(err_msg, size, "process %d: %s",
					 (int)p->pid, e.msg[0] ? e.msg :
					 err_describe(rc));
			failed = true;
			continue;
		}
		if (!sample->nthreads)
			continue;
		*empty = false;
		*fp = mix_fp(mix_fp(*fp, (uint64_t)p->pid),
			     stall_fingerprint(sample, &t));
		*torn |= t;
	}
	if (!live)
		return SS_EEXITED;
	return failed ? 1 : 0;
}

/* An unpaused deadlock check of every process: true when one has a
 * deadlock verdict. */
static bool deadlock_many(const struct stall_procs *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].is && deadlock_now(ps->v[i].is))
			return true;
	return false;
}

/* watch --on-stall of several processes: a stall is no progress in any
 * of them for T (one fingerprint of all), or a deadlock in one. */
static int watch_stall_many(pid_t pid, const struct watch_opts *o)
{
	struct stall_procs ps = { 0 };
	struct sample sample = { 0 };
	struct stall st;
	struct strbuf sb;
	char msg[1100];
	uint64_t next, now, fp, step = NS / o->rate, last_scan;
	unsigned long n = 0, failed = 0;
	bool color, torn, empty, exited = false;
	int rc, status = 0;

	stall_procs_update(&ps, pid, o);
	if (!ps.n || !ps.v[0].is || ps.v[0].pid != pid) {
		status = first_readable(pid);
		if (!status) {
			report_error("cannot sample process %d", (int)pid);
			status = 1;
		}
		stall_procs_release(&ps);
		return status;
	}
	color = !o->output && !o->d.json && isatty(STDOUT_FILENO) &&
		!getenv("NO_COLOR");
	catch_stop_signals();
	strbuf_init(&sb);
	next = last_scan = clock_mono_ns();
	stall_init(&st, o->on_stall, next);
	while (!stop_signal && (!o->count || n < o->count)) {
		struct dump_why why = { 0 };
		bool dump = false;

		now = clock_mono_ns();
		/* New descendants, at most once a second (a scan opens
		 * each new one). */
		if (o->d.subprocesses && now - last_scan >= NS) {
			stall_procs_update(&ps, pid, o);
			last_scan = now;
		}
		rc = stall_sample_many(&ps, now, &sample, &fp, &torn, &empty,
				       msg, sizeof(msg));
		if (rc == SS_EEXITED) {
			exited = true;
			break;
		}
		if (rc) {
			if (!failed++)
				report_warning("cannot sample %s", msg);
		} else if (!empty) {
			why.stalled_s = stall_age(&st, now);
			dump = stall_feed(&st, fp, torn, now);
		}
		if (!dump && stall_check_due(&st, now) &&
		    stall_verdict(&st, deadlock_many(&ps))) {
			why.deadlock = true;
			dump = true;
		}
		if (dump) {
			pid_t *pids = xcalloc(ps.n + 1, sizeof(*pids));
			size_t np = 0;

			for (size_t i = 0; i < ps.n; i++)
				if (ps.v[i].is)
					pids[np++] = ps.v[i].pid;
			strbuf_reset(&sb);
			rc = many_dump(pid, pids, np, o, color, n + 1, &why,
				       &sb);
			free(pids);
			if (rc == SS_EEXITED) {
				exited = true;
				break;
			}
			if (stall_dump_done(&st, o, rc, &n, &sb, pid, &why)) {
				status = 1;
				break;
			}
		}
		wait_tick(&next, step);
	}
	if (exited)
		fprintf(stderr, "snakescope: the processes exited; the watch "
			"ends after %lu dump%s\n", n, n == 1 ? "" : "s");
	sample_release(&sample);
	strbuf_release(&sb);
	stall_procs_release(&ps);
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

	if (o->d.subprocesses || o->d.nmore_pids)
		return o->on_stall > 0 ? watch_stall_many(pid, o) :
		       watch_many(pid, o);
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
		wait_tick(&next, (uint64_t)(o->every * NS));
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
enum { OPT_ON_STALL = 256, OPT_RATE, OPT_EXEC, OPT_SUBPROCESSES,
       OPT_NONSTOP };

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
		{ "subprocesses", no_argument, NULL, OPT_SUBPROCESSES },
		{ "nonstop", no_argument, NULL, OPT_NONSTOP },
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
		case OPT_SUBPROCESSES:
			o->d.subprocesses = true;
			break;
		case OPT_NONSTOP:
			o->d.io.nonstop = true;
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
	rc = dump_nonstop_check(&o->d, "watch");
	if (!rc)
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
	if (need_pid && !pid_opt && optind + 1 < argc) {
		/* Several processes, each operand a PID. */
		if (o->d.subprocesses) {
			report_error("watch: --subprocesses takes one PID, the "
				     "parent, not '%s' too", argv[optind + 1]);
			return EXIT_USAGE;
		}
		for (int i = optind; i < argc; i++)
			if (!parse_pid(argv[i], pid)) {
				report_error("watch: '%s' is not a process ID "
					     "(a positive number)", argv[i]);
				return EXIT_USAGE;
			}
		o->d.more_pids = &argv[optind + 1];
		o->d.nmore_pids = (size_t)(argc - optind - 1);
		parse_pid(argv[optind], pid);
		return 0;
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
