#include <config.h>

#include "cli/commands.h"
#include "cli/dump.h"
#include "cli/out.h"
#include "session/session.h"
#include "model/proc_groups.h"
#include "common/err.h"
#include "common/escape.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most this many processes in one dump (a bound on a process tree
 * the user does not control: a fork bomb under the PID). */
#define DUMP_MAX_PROCS 4096

struct proc_read {
	pid_t pid;
	struct snapshot *snap; /* NULL: not read */
	char *error;           /* why not (malloc'ed), or NULL */
	int status;            /* its exit status when not read */
	struct strbuf text;    /* its text, rendered while its session was
				  open (source lines); empty for JSON */
};

static bool listed(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

size_t dump_many_collect(const struct dump_opts *d, pid_t pid, pid_t **out,
			 bool quiet)
{
	size_t n = 0, cap = 0;
	pid_t *v = NULL;

	v = xgrow(v, &cap, 1, sizeof(*v));
	v[n++] = pid;
	for (size_t i = 0; i < d->nmore_pids; i++) {
		pid_t p;

		if (parse_pid(d->more_pids[i], &p) && !listed(v, n, p) &&
		    n < DUMP_MAX_PROCS) {
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			v[n++] = p;
		}
	}
	for (size_t i = 0; d->subprocesses && i < n; i++) {
		pid_t *kids;
		size_t nk = session_children(v[i], &kids);

		for (size_t k = 0; k < nk && n < DUMP_MAX_PROCS; k++)
			if (!listed(v, n, kids[k])) {
				v = xgrow(v, &cap, n + 1, sizeof(*v));
				v[n++] = kids[k];
			}
		free(kids);
	}
	if (n == DUMP_MAX_PROCS && !quiet)
		report_warning("at most %d processes are read; the others "
			       "are left out", DUMP_MAX_PROCS);
	*out = v;
	return n;
}

/* Will r's text be shown?  Grouped, a dump shows the first process of
 * each group only: the first not alike any read before it (as
 * proc_groups_build() groups them), so the others' text (their source
 * lines read, most of the time) is not rendered. */
static bool shown(const struct proc_read *r, size_t i, bool group)
{
	if (!group)
		return true;
	for (size_t k = 0; k < i; k++)
		if (proc_alike(r[k].snap, r[i].snap))
			return false;
	return true;
}

/* Read process r[i].  A descendant found by --subprocesses that is not
 * Python (a shell, a compiler) or is gone already is no error: false,
 * and it is left out. */
static bool read_one(struct proc_read *rs, size_t i, struct dump_opts *d,
		     bool deadlock, bool descendant, bool color, bool quiet,
		     bool *gone)
{
	struct proc_read *r = &rs[i];
	bool group = d->oo.group && !d->io.locals;
	char tag[32];
	struct session *s = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	strbuf_init(&r->text);
	rc = session_open(r->pid, &s, &e);
	if (!rc)
		rc = session_snapshot(s, &d->io, &r->snap, &e);
	if (rc) {
		session_close(s);
		r->snap = NULL;
		*gone = rc == SS_ENOPROC || rc == SS_EEXITED ||
			rc == SS_EZOMBIE;
		if (descendant && (rc == SS_ENOTPY || rc == SS_EUNSUPPORTED ||
				   rc == SS_EBADBUILD || rc == SS_ENOPROC ||
				   rc == SS_EEXITED || rc == SS_EZOMBIE))
			return false;
		r->error = xstrdup(e.msg[0] ? e.msg : err_describe(rc));
		r->status = err_exit_code(rc);
		snprintf(tag, sizeof(tag), "process %d", (int)r->pid);
		if (quiet)
			;
		else if (strstr(r->error, tag))
			report_error("%s", r->error);
		else
			report_error("%s: %s", tag, r->error);
		return true;
	}
	*gone = false;
	if (r->snap->warning && !quiet)
		report_warning("process %d: %s", (int)r->pid,
			       r->snap->warning);
	dump_gil_window(s, r->snap, d);
	if (deadlock && !d->json)
		deadlock_render(&r->text, r->snap, color, d);
	else if (!d->json && shown(rs, i, group))
		dump_render(&r->text, s, r->snap, color, d);
	session_close(s);
	return true;
}

static void add_pids(struct strbuf *sb, const struct proc_read *r,
		     const struct proc_group *g)
{
	strbuf_addf(sb, "PID%s ", g->n == 1 ? "" : "s");
	for (size_t i = 0; i < g->n; i++)
		strbuf_addf(sb, "%s%d", i ? ", " : "",
			    (int)r[g->members[i]].pid);
}

/* ", in stuck_task at app.py:12" (or ", lacking ..."): where process odd
 * differs from ref. */
static void add_differs(struct strbuf *sb, const struct snapshot *odd,
			const struct snapshot *ref)
{
	bool missing;
	const struct snap_thread *t = proc_differs(odd, ref, &missing);

	if (!t)
		return;
	if (!t->nframes) {
		strbuf_addstr(sb, missing ? ", lacking a thread without Python "
			    "frames" : ", in a thread without Python frames");
		return;
	}
	strbuf_addstr(sb, missing ? ", lacking " : ", in ");
	escape_text(sb, t->frames[0].function);
	strbuf_addstr(sb, " at ");
	escape_text(sb, t->frames[0].filename);
	if (t->frames[0].line >= 0)
		strbuf_addf(sb, ":%d", t->frames[0].line);
}

/* The summary above the dumps: groups alike, the odd ones, those not
 * read. */
static void text_summary(struct strbuf *sb, const struct proc_read *r,
			 size_t n, const struct proc_groups *g)
{
	const struct snapshot *ref = g->reference == SIZE_MAX ? NULL :
		r[g->v[g->reference].members[0]].snap;
	size_t nread = 0;

	for (size_t i = 0; i < n; i++)
		nread += r[i].snap != NULL;
	strbuf_addf(sb, "%zu process%s, %zu read", n, n == 1 ? "" : "es",
		    nread);
	if (!ref && nread > 1)
		strbuf_addstr(sb, ", no two alike");
	strbuf_addch(sb, '\n');
	/* The reference first: what the others differ from. */
	for (size_t i = 0; i < g->n; i++) {
		size_t k = ref ? (i == 0 ? g->reference :
				  i <= g->reference ? i - 1 : i) : i;
		const struct proc_group *gr = &g->v[k];
		const struct proc_read *first = &r[gr->members[0]];

		if (!first->snap) {
			strbuf_addf(sb, "  1 process not read: PID %d (",
				    (int)first->pid);
			escape_text(sb, first->error);
			strbuf_addstr(sb, ")\n");
			continue;
		}
		if (gr->n >= 2 && k == g->reference) {
			strbuf_addf(sb, "  %zu processes alike: ", gr->n);
			add_pids(sb, r, gr);
		} else if (ref) {
			strbuf_addf(sb, "  %zu process%s differ%s: ", gr->n,
				    gr->n == 1 ? "" : "es",
				    gr->n == 1 ? "s" : "");
			add_pids(sb, r, gr);
			add_differs(sb, first->snap, ref);
		} else if (gr->n >= 2) {
			strbuf_addf(sb, "  %zu processes alike: ", gr->n);
			add_pids(sb, r, gr);
		} else {
			continue;
		}
		strbuf_addch(sb, '\n');
	}
}

/* One process's dump under its header; gr: the group it stands for (all
 * of r's indices), or NULL. */
static void text_one(struct strbuf *sb, const struct proc_read *r, size_t i,
		     const struct proc_group *gr)
{
	strbuf_addstr(sb, "\n=== ");
	if (!r[i].snap) {
		strbuf_addf(sb, "PID %d: not read: ", (int)r[i].pid);
		escape_text(sb, r[i].error);
		strbuf_addstr(sb, " ===\n");
		return;
	}
	if (gr && gr->n > 1) {
		strbuf_addf(sb, "%zu processes alike: ", gr->n);
		add_pids(sb, r, gr);
		strbuf_addf(sb, " (PID %d shown) ===\n", (int)r[i].pid);
	} else {
		strbuf_addf(sb, "PID %d ===\n", (int)r[i].pid);
	}
	strbuf_add(sb, r[i].text.buf, r[i].text.len);
}

static void json_group(struct json *j, const struct proc_read *r,
		       const struct proc_groups *g, size_t k)
{
	const struct proc_group *gr = &g->v[k];
	const struct snapshot *ref = g->reference == SIZE_MAX ? NULL :
		r[g->v[g->reference].members[0]].snap;
	const struct snap_thread *t = NULL;
	bool missing = false;

	json_begin_object(j);
	json_key(j, "pids");
	json_begin_array(j);
	for (size_t i = 0; i < gr->n; i++)
		json_int(j, r[gr->members[i]].pid);
	json_end_array(j);
	json_key_bool(j, "read", r[gr->members[0]].snap != NULL);
	json_key_bool(j, "reference", k == g->reference);
	if (ref && k != g->reference)
		t = proc_differs(r[gr->members[0]].snap, ref, &missing);
	json_key(j, "differs");
	if (!t) {
		json_null(j);
	} else {
		json_begin_object(j);
		json_key_bool(j, "missing", missing);
		json_key_string(j, "thread_name", t->name);
		json_key_string(j, "function",
				t->nframes ? t->frames[0].function : NULL);
		json_key_string(j, "file",
				t->nframes ? t->frames[0].filename : NULL);
		json_key(j, "line");
		if (t->nframes && t->frames[0].line >= 0)
			json_int(j, t->frames[0].line);
		else
			json_null(j);
		json_end_object(j);
	}
	json_end_object(j);
}

static void json_all(struct strbuf *sb, const struct proc_read *r, size_t n,
		     const struct proc_groups *g, const struct dump_opts *d,
		     const struct dump_many_out *mo)
{
	struct json j;

	json_init(&j, sb, mo->compact ? JSON_COMPACT : JSON_PRETTY);
	json_begin_object(&j);
	if (mo->head)
		mo->head(&j, mo->head_arg);
	json_key(&j, "processes");
	json_begin_array(&j);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(&j);
		if (r[i].snap) {
			out_json_members(&j, r[i].snap, d->io.locals,
					 d->oo.native_all);
		} else {
			json_key_int(&j, "pid", r[i].pid);
			json_key_string(&j, "error", r[i].error);
			json_key_int(&j, "exit_status", r[i].status);
		}
		json_end_object(&j);
	}
	json_end_array(&j);
	json_key(&j, "groups");
	json_begin_array(&j);
	for (size_t k = 0; k < g->n; k++)
		json_group(&j, r, g, k);
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	strbuf_addch(sb, '\n');
}

void dump_many_render(struct dump_opts *d, const pid_t *pids, size_t npids,
		      bool deadlock, struct strbuf *sb,
		      struct dump_many_out *mo)
{
	bool group = d->oo.group && !d->io.locals;
	const struct snapshot **snaps;
	struct proc_groups g;
	struct proc_read *r;
	size_t n = 0;

	mo->nread = 0;
	mo->worst = SNAP_VERDICT_NONE;
	mo->first_status = 0;
	mo->all_gone = true;
	r = xcalloc(npids + 1, sizeof(*r));
	for (size_t i = 0; i < npids; i++) {
		bool gone = false;

		r[n].pid = pids[i];
		if (!read_one(r, n, d, deadlock, d->subprocesses && i > 0,
			      mo->color, mo->quiet, &gone)) {
			strbuf_release(&r[n].text);
			continue;
		}
		mo->all_gone &= gone;
		if (r[n].snap) {
			int v = snap_verdict(r[n].snap);

			mo->nread++;
			if (v > mo->worst)
				mo->worst = v;
		} else if (!mo->first_status) {
			mo->first_status = r[n].status;
		}
		n++;
	}
	mo->nprocs = n;
	snaps = xcalloc(n + 1, sizeof(*snaps));
	for (size_t i = 0; i < n; i++)
		snaps[i] = r[i].snap;
	proc_groups_build(snaps, n, &g);
	if (d->json) {
		json_all(sb, r, n, &g, d, mo);
	} else if (deadlock) {
		/* Verdicts are per process: every one in full. */
		for (size_t i = 0; i < n; i++) {
			if (i)
				strbuf_addch(sb, '\n');
			if (r[i].snap)
				strbuf_add(sb, r[i].text.buf, r[i].text.len);
			else {
				strbuf_addf(sb, "Process %d: not read: ",
					    (int)r[i].pid);
				escape_text(sb, r[i].error);
				strbuf_addch(sb, '\n');
			}
		}
	} else {
		text_summary(sb, r, n, &g);
		if (group) {
			for (size_t k = 0; k < g.n; k++)
				text_one(sb, r, g.v[k].members[0],
					 &g.v[k]);
		} else {
			for (size_t i = 0; i < n; i++)
				text_one(sb, r, i, NULL);
		}
	}
	proc_groups_release(&g);
	free(snaps);
	for (size_t i = 0; i < n; i++) {
		if (r[i].snap)
			snap_free(r[i].snap);
		free(r[i].error);
		strbuf_release(&r[i].text);
	}
	free(r);
}

int dump_many(struct dump_opts *d, pid_t pid, bool deadlock)
{
	struct dump_many_out mo = { 0 };
	struct strbuf sb;
	pid_t *pids;
	size_t npids;

	mo.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	npids = dump_many_collect(d, pid, &pids, false);
	strbuf_init(&sb);
	dump_many_render(d, pids, npids, deadlock, &sb, &mo);
	free(pids);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	if (fflush(stdout) != 0) {
		report_error("cannot write output");
		return 1;
	}
	if (!mo.nread)
		return mo.first_status ? mo.first_status : 1;
	return deadlock ? deadlock_exit(mo.worst) : 0;
}
