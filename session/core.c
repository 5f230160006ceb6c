/*
 * core.c - a core file as a kind of target (attach/core.h): its threads
 * and registers come from its notes, its memory from its segments, and
 * the files it had mapped from this machine, a --sysroot copy of the
 * machine it came from, or --lib-path directories searched by build-id.
 * A file whose build-id is not the one the core's memory holds is never
 * read: it is named in a warning.
 */
#include <config.h>

#include "session/session.h"
#include "session/kind.h"
#include "attach/core.h"
#include "attach/elfsym.h"
#include "attach/rootfs.h"
#include "attach/unwind.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUILD_ID_MAX 64
/* Entries of a --lib-path directory looked at for a build-id. */
#define LIB_PATH_SCAN_MAX 20000

/* A file the core's process had mapped, as found here. */
struct core_file {
	uint64_t lo;         /* its lowest mapping (the key) */
	char *path;          /* as the core names it */
	bool tried;
	int fd;              /* -1: not found, or refused */
	char *why;           /* why it was refused, or NULL */
};

struct session_core {
	char *exe;           /* --exe */
	int sysroot;         /* --sysroot as a directory descriptor, or -1 */
	char **libs;         /* --lib-path directories */
	size_t nlibs;
	struct core_file *files;
	size_t nfiles, files_cap;
	struct strbuf warnings; /* said once, in the snapshot's warning */
	pid_t *tids;
};

static void warn(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct session *s, const char *fmt, ...)
{
	struct strbuf *w = &s->corex->warnings;
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strstr(w->buf, msg))
		return;
	if (w->len)
		strbuf_addstr(w, "; ");
	strbuf_addstr(w, msg);
}

static const struct core_thread *thread_of(const struct session *s,
					   pid_t tid)
{
	for (size_t i = 0; i < s->core->nthreads; i++)
		if (s->core->threads[i].tid == tid)
			return &s->core->threads[i];
	return NULL;
}

static int core_tids(struct session *s, pid_t **tids, size_t *n,
		     struct err *e)
{
	(void)e;
	*n = s->core->nthreads;
	*tids = xcalloc(*n + 1, sizeof(**tids));
	for (size_t i = 0; i < *n; i++)
		(*tids)[i] = s->core->threads[i].tid;
	return 0;
}

/* A core records no scheduler state: a thread in a system call was
 * blocked in it ('S'), one in user code was running ('R'). */
static void core_os_states(struct session *s, const pid_t *tids, size_t n,
			   struct snap_os_thread *os)
{
	for (size_t i = 0; i < n; i++) {
		const struct core_thread *t = thread_of(s, tids[i]);
		long nr;

		if (t && proc_regs_syscall(&t->regs, &nr, &os[i].arg0)) {
			os[i].state = 'S';
			proc_syscall_name(nr, os[i].syscall,
					  sizeof(os[i].syscall));
		} else {
			os[i].state = t ? 'R' : 0;
		}
	}
}

/* Nothing moves in a core: holding it is free. */
static int core_hold(struct session *s, bool *stopped, struct err *e)
{
	(void)s;
	(void)e;
	*stopped = false;
	return 0;
}

static void core_release(struct session *s)
{
	(void)s;
}

static size_t core_held(struct session *s, const pid_t **tids)
{
	size_t n;

	free(s->corex->tids);
	core_tids(s, &s->corex->tids, &n, NULL);
	*tids = s->corex->tids;
	return n;
}

static bool core_regs(struct session *s, pid_t tid,
		      struct user_regs_struct *r)
{
	const struct core_thread *t = thread_of(s, tid);

	if (t)
		*r = t->regs;
	return t != NULL;
}

static bool core_stopped(const struct session *s)
{
	(void)s;
	return false;
}

static bool core_comm(struct session *s, pid_t tid, char *buf, size_t size)
{
	if (tid != s->pid || !s->core->comm[0])
		return false;
	snprintf(buf, size, "%s", s->core->comm);
	return true;
}

static bool core_gone(const struct session *s)
{
	(void)s;
	return false;
}

static int core_maps(struct session *s, struct maps *m, struct err *e)
{
	(void)e;
	m->e = xcalloc(s->maps.n + 1, sizeof(*m->e));
	for (size_t i = 0; i < s->maps.n; i++) {
		m->e[i] = s->maps.e[i];
		m->e[i].path = xstrdup(s->maps.e[i].path);
	}
	m->n = m->cap = s->maps.n;
	return 0;
}

static void hex(const unsigned char *id, size_t n, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < n && 2 * i + 3 <= size; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* The build-id of the ELF file open at fd (borrowed), or 0. */
static size_t fd_build_id(int fd, unsigned char *id, size_t size)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct elf_file *ef = elfsym_open(dup, "", NULL);
	size_t n = ef ? elfsym_build_id(ef, id, size) : 0;

	elfsym_free(ef);
	return n;
}

/* Keep fd when its build-id is 'want' (or either is unknown); else close
 * it and say so.  The file's contents will be trusted only then. */
static bool matches(struct session *s, struct core_file *f, int fd,
		    const char *where, const unsigned char *want, size_t nwant)
{
	unsigned char got[BUILD_ID_MAX];
	char a[2 * BUILD_ID_MAX + 1], b[2 * BUILD_ID_MAX + 1];
	size_t ngot;

	if (!nwant)
		return true;
	ngot = fd_build_id(fd, got, sizeof(got));
	if (ngot == nwant && !memcmp(got, want, nwant))
		return true;
	hex(want, nwant, a, sizeof(a));
	hex(got, ngot, b, sizeof(b));
	warn(s, "'%s' is not the file the core's process mapped as '%s' "
	     "(build-id %s, the core's %s): not read; give the right one "
	     "with --sysroot, --lib-path or --exe", where, f->path,
	     ngot ? b : "none", a);
	if (!f->why) {
		struct strbuf w;

		strbuf_init(&w);
		strbuf_addf(&w, "'%s' has build-id %s, not the core's %s", where,
			    ngot ? b : "none", a);
		f->why = strbuf_detach(&w);
	}
	return false;
}

/* Open 'path' under the directory 'dir' (a descriptor; AT_FDCWD: ours)
 * with the rules of rootfs.h. */
static int open_under(int dir, const char *path, int *fd)
{
	int root = dir;
	int rc;

	if (dir == AT_FDCWD)
		root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return SS_EIO;
	rc = rootfs_openat(root, path, 0, ROOTFS_MAX_ELF, fd, NULL, NULL);
	if (dir == AT_FDCWD)
		close(root);
	return rc;
}

/* A --lib-path directory: the file by its base name, then any ELF file
 * in it with the build-id wanted. */
static int find_in_dir(struct session *s, struct core_file *f,
		       const char *dir, const char *base,
		       const unsigned char *want, size_t nwant)
{
	struct strbuf p;
	unsigned char got[BUILD_ID_MAX];
	struct dirent *de;
	size_t seen = 0;
	DIR *d;
	int fd = -1;

	strbuf_init(&p);
	strbuf_addf(&p, "%s/%s", dir, base);
	if (!open_under(AT_FDCWD, p.buf, &fd)) {
		if (matches(s, f, fd, p.buf, want, nwant)) {
			strbuf_release(&p);
			return fd;
		}
		close(fd);
		fd = -1;
	}
	if (!nwant || !(d = opendir(dir))) {
		strbuf_release(&p);
		return -1;
	}
	while (fd < 0 && (de = readdir(d)) && seen++ < LIB_PATH_SCAN_MAX) {
		int cand;

		if (de->d_name[0] == '.')
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, de->d_name);
		if (open_under(AT_FDCWD, p.buf, &cand))
			continue;
		if (fd_build_id(cand, got, sizeof(got)) == nwant &&
		    !memcmp(got, want, nwant))
			fd = cand;
		else
			close(cand);
	}
	closedir(d);
	strbuf_release(&p);
	return fd;
}

/* Find the file mapped at 'first': --exe for the executable, then its
 * path under --sysroot (or here), then the --lib-path directories; each
 * kept only with the build-id the core holds. */
static int find_file(struct session *s, struct core_file *f,
		     const struct maps_entry *first)
{
	struct session_core *c = s->corex;
	unsigned char want[BUILD_ID_MAX];
	size_t nwant = core_build_id(s->mem, first, want, sizeof(want));
	const char *base = strrchr(first->path, '/');
	int fd;

	base = base ? base + 1 : first->path;
	if (!nwant)
		warn(s, "the core does not hold the build-id of '%s' (its note "
		     "is not in the pages the core kept): it is read without "
		     "checking that it is the file the process mapped",
		     first->path);
	if (c->exe && !strcmp(first->path, s->exe) &&
	    !open_under(AT_FDCWD, c->exe, &fd)) {
		if (matches(s, f, fd, c->exe, want, nwant))
			return fd;
		close(fd);
	}
	if (!open_under(c->sysroot >= 0 ? c->sysroot : AT_FDCWD, first->path,
			&fd)) {
		if (matches(s, f, fd, first->path, want, nwant))
			return fd;
		close(fd);
	}
	for (size_t i = 0; i < c->nlibs; i++) {
		fd = find_in_dir(s, f, c->libs[i], base, want, nwant);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

static struct core_file *file_for(struct session *s,
				  const struct maps_entry *first)
{
	struct session_core *c = s->corex;

	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].lo == first->lo &&
		    !strcmp(c->files[i].path, first->path))
			return &c->files[i];
	return NULL;
}

static int core_open_file(struct session *s, const struct maps_entry *first,
			  int *fd, struct err *e)
{
	struct core_file *f = file_for(s, first);

	*fd = -1;
	if (!f)
		return err_set(e, SS_EELF, "'%s' is not a file the core "
			       "names", first->path);
	if (!f->tried) {
		f->tried = true;
		f->fd = find_file(s, f, first);
	}
	if (f->fd < 0 && f->why)
		return err_set(e, SS_EELF, "cannot read '%s', which the core's "
			       "process had mapped: %s; give the right file "
			       "with --sysroot, --lib-path or --exe",
			       first->path, f->why);
	if (f->fd < 0)
		return err_set(e, SS_EELF, "cannot find '%s', which the "
			       "core's process had mapped, here or under "
			       "--sysroot / --lib-path", first->path);
	*fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	return *fd < 0 ? err_set(e, SS_EIO, "cannot duplicate a descriptor")
		       : 0;
}

/* Memory the core does not hold (a file-backed mapping's pages that were
 * never written): from the file, when it was found. */
static int read_mapped(void *arg, const struct maps_entry *me, uint64_t off,
		       void *buf, size_t len)
{
	struct session *s = arg;
	const struct maps_entry *first = maps_first(&s->maps, me->path);
	struct core_file *f = first ? file_for(s, first) : NULL;
	size_t done = 0;

	if (!f)
		return SS_EREAD;
	if (!f->tried) {
		f->tried = true;
		f->fd = find_file(s, f, first);
	}
	if (f->fd < 0)
		return SS_EREAD;
	while (done < len) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SS_EREAD;
		done += (size_t)n;
	}
	return 0;
}

/* Sources: under --sysroot, else here. */
static int core_open_source(struct session *s, const char *name, uint64_t max,
			    int *fd)
{
	int root = s->corex->sysroot;
	int rc;

	if (name[0] != '/')
		return SS_EIO; /* relative to a directory the core does not
				  record */
	if (root < 0)
		root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return SS_EIO;
	rc = rootfs_openat(root, name, 0, max, fd, NULL, NULL);
	if (root != s->corex->sysroot)
		close(root);
	return rc;
}

static void core_close(struct session *s)
{
	struct session_core *c = s->corex;

	if (c) {
		for (size_t i = 0; i < c->nfiles; i++) {
			if (c->files[i].fd >= 0)
				close(c->files[i].fd);
			free(c->files[i].path);
			free(c->files[i].why);
		}
		free(c->files);
		for (size_t i = 0; i < c->nlibs; i++)
			free(c->libs[i]);
		free(c->libs);
		free(c->exe);
		if (c->sysroot >= 0)
			close(c->sysroot);
		strbuf_release(&c->warnings);
		free(c->tids);
		free(c);
	}
	core_free(s->core);
}

const struct session_kind session_core = {
	.tids = core_tids,
	.os_states = core_os_states,
	.hold = core_hold,
	.release = core_release,
	.held = core_held,
	.regs = core_regs,
	.stopped = core_stopped,
	.comm = core_comm,
	.gone = core_gone,
	.maps = core_maps,
	.open_file = core_open_file,
	.open_source = core_open_source,
	.close = core_close,
};

/* The executable among the mapped files: the one named as the process
 * (pr_fname, the first 15 bytes of its name), else the first. */
static void pick_exe(struct session *s)
{
	const struct maps *m = &s->maps;

	for (size_t i = 0; i < m->n; i++) {
		const char *base = strrchr(m->e[i].path, '/');

		base = base ? base + 1 : m->e[i].path;
		if (s->core->comm[0] &&
		    !strncmp(base, s->core->comm, strlen(s->core->comm))) {
			snprintf(s->exe, sizeof(s->exe), "%s", m->e[i].path);
			return;
		}
	}
	if (m->n)
		snprintf(s->exe, sizeof(s->exe), "%s", m->e[0].path);
}

int session_open_core(const char *path, const struct session_core_opts *o,
		      struct session **out, struct err *e)
{
	struct session *s = xcalloc(1, sizeof(*s));
	struct session_core *c = xcalloc(1, sizeof(*c));
	const struct maps *cm;
	int rc;

	*out = NULL;
	s->kind = &session_core;
	s->root = -1;
	s->corex = c;
	c->sysroot = -1;
	strbuf_init(&c->warnings);
	snprintf(s->name, sizeof(s->name), "core '%.40s'", path);
	rc = core_open(path, &s->core, e);
	if (rc)
		goto fail;
	if (o->sysroot) {
		c->sysroot = open(o->sysroot, O_PATH | O_DIRECTORY |
				  O_CLOEXEC);
		if (c->sysroot < 0) {
			rc = err_set(e, SS_EIO, "cannot open the sysroot '%s'",
				     o->sysroot);
			goto fail;
		}
		s->root = fcntl(c->sysroot, F_DUPFD_CLOEXEC, 0);
	}
	c->exe = o->exe ? xstrdup(o->exe) : NULL;
	c->libs = xcalloc(o->nlib_paths + 1, sizeof(*c->libs));
	for (size_t i = 0; i < o->nlib_paths; i++)
		c->libs[c->nlibs++] = xstrdup(o->lib_paths[i]);
	s->pid = s->core->pid;
	/* The map is the core's, with each file's first mapping a key of
	 * the files to find. */
	cm = &s->core->maps;
	s->maps.e = xcalloc(cm->n + 1, sizeof(*s->maps.e));
	for (size_t i = 0; i < cm->n; i++) {
		s->maps.e[i] = cm->e[i];
		s->maps.e[i].path = xstrdup(cm->e[i].path);
		if (maps_first(cm, cm->e[i].path) == &cm->e[i]) {
			c->files = xgrow(c->files, &c->files_cap,
					 c->nfiles + 1, sizeof(*c->files));
			memset(&c->files[c->nfiles], 0, sizeof(*c->files));
			c->files[c->nfiles].lo = cm->e[i].lo;
			c->files[c->nfiles].path = xstrdup(cm->e[i].path);
			c->files[c->nfiles].fd = -1;
			c->nfiles++;
		}
	}
	s->maps.n = s->maps.cap = cm->n;
	s->mem = core_mem_new(s->core, read_mapped, s);
	pick_exe(s);
	rc = session_find_runtime(s, e);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	session_close(s);
	return rc;
}

static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGSYS: case SIGXCPU: case SIGXFSZ:
		return true;
	default:
		return false;
	}
}

/* Where the snapshot came from, and where its signal hit. */
void session_core_origin(struct session *s, struct snapshot *snap)
{
	const struct core *core = s->core;
	struct snap_core *sc = xcalloc(1, sizeof(*sc));
	const struct core_thread *t;

	sc->file = xstrdup(core->path);
	sc->compression = core->compression ? xstrdup(core->compression)
					    : NULL;
	sc->args = core->args[0] ? xstrdup(core->args) : NULL;
	sc->tid = -1;
	/* gcore stops the process with SIGSTOP and records that: only a
	 * signal whose default action dumps core says why a core was
	 * written. */
	if (core->has_siginfo && dumps_core(core->si_signo)) {
		sc->signo = core->si_signo;
		sc->code = core->si_code;
		sc->has_addr = core->si_signo == SIGSEGV ||
			       core->si_signo == SIGBUS ||
			       core->si_signo == SIGILL ||
			       core->si_signo == SIGFPE;
		sc->addr = core->si_fault_addr;
		sc->tid = core->si_tid;
	} else if (core->nthreads && dumps_core(core->threads[0].cursig)) {
		sc->signo = core->threads[0].cursig;
		sc->tid = core->threads[0].tid;
	}
	t = sc->tid > 0 ? thread_of(s, (pid_t)sc->tid) : NULL;
	if (t) {
		struct unwind_frame f;

		if (!s->unwinder) {
			struct maps m;

			s->unwinder = unwinder_new(s->mem, session_unwind_open,
						   s, s->root);
			core_maps(s, &m, NULL);
			unwind_begin(s->unwinder, &m);
			maps_release(&m);
		}
		sc->pc = t->regs.rip;
		unwind_symbolize(s->unwinder, sc->pc, false, &f);
		sc->function = f.function ? xstrdup(f.function) : NULL;
		sc->library = f.library ? xstrdup(f.library) : NULL;
	}
	snap->core = sc;
	if (s->corex->warnings.len) {
		struct strbuf w;

		strbuf_init(&w);
		if (snap->warning)
			strbuf_addf(&w, "%s; ", snap->warning);
		strbuf_addstr(&w, s->corex->warnings.buf);
		free(snap->warning);
		snap->warning = strbuf_detach(&w);
	}
}
