#include <config.h>

#include "attach/rootfs.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

/* linux/openat2.h came with Linux 5.6's headers; the ABI is fixed. */
#ifndef RESOLVE_IN_ROOT
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* The kernel's own bound on symbolic links in one resolution. */
#define WALK_MAX_LINKS 40
/* Directories held open at once while walking (a path's depth). */
#define WALK_MAX_DEPTH 256
#define OVERLAYFS_MAGIC 0x794c7630

/* 'path' for a message, into out (SHOWN_MAX bytes): escaped (the target
 * chose it) and cut short. */
#define SHOWN_MAX 192
static const char *shown(char *out, const char *path)
{
	struct strbuf sb;

	strbuf_init(&sb);
	escape_text(&sb, path);
	if (sb.len < SHOWN_MAX)
		memcpy(out, sb.buf, sb.len + 1);
	else
		snprintf(out, SHOWN_MAX, "%.*s...", SHOWN_MAX - 4, sb.buf);
	strbuf_release(&sb);
	return out;
}

static const char *kind_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "not a regular file";
	}
}

/* One component: an O_PATH descriptor of comp in dir, not followed. */
static int open_component(int dir, const char *comp)
{
	return openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * Resolve 'path' under root step by step, as RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS does: ".." never climbs above root, an absolute
 * link starts again from root, and every link's text is taken as a path
 * (a magic link's text names no file of the tree, or one inside it).  The
 * directories walked are held open on a stack, so that ".." is the parent
 * on the way down, as the kernel takes it.  Returns an O_PATH descriptor
 * or -1 with errno set.
 */
static int walk(int root, const char *path)
{
	int stack[WALK_MAX_DEPTH];
	int depth = 0, links = 0, fd = -1, err = 0;
	struct strbuf rest;
	size_t at = 0;

	stack[0] = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (stack[0] < 0)
		return -1;
	strbuf_init(&rest);
	strbuf_addstr(&rest, path);
	for (;;) {
		char *comp, *end;
		struct stat st;
		bool last;

		while (rest.buf[at] == '/')
			at++;
		if (!rest.buf[at]) { /* ends in a directory */
			fd = fcntl(stack[depth], F_DUPFD_CLOEXEC, 0);
			err = errno;
			break;
		}
		comp = rest.buf + at;
		end = strchr(comp, '/');
		last = !end || !end[strspn(end, "/")];
		if (end)
			*end = '\0';
		at = end ? (size_t)(end - rest.buf) + 1 : rest.len;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = open_component(stack[depth], comp);
		if (fd < 0 || fstat(fd, &st) < 0) {
			err = errno;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			struct strbuf next;

			close(fd);
			fd = -1;
			if (++links > WALK_MAX_LINKS || n <= 0) {
				err = n <= 0 ? errno : ELOOP;
				break;
			}
			target[n] = '\0';
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			strbuf_init(&next);
			strbuf_addf(&next, "%s/%s", target, rest.buf + at);
			strbuf_release(&rest);
			rest = next;
			at = 0;
			continue;
		}
		if (last)
			break;
		if (!S_ISDIR(st.st_mode) || depth + 1 == WALK_MAX_DEPTH) {
			err = S_ISDIR(st.st_mode) ? ENAMETOOLONG : ENOTDIR;
			close(fd);
			fd = -1;
			break;
		}
		stack[++depth] = fd;
		fd = -1;
	}
	while (depth >= 0)
		close(stack[depth--]);
	strbuf_release(&rest);
	if (fd < 0)
		errno = err;
	return fd;
}

static int resolve(int root, const char *path, unsigned flags)
{
	if (!(flags & ROOTFS_WALK)) {
		struct open_how how = {
			.flags = O_PATH | O_CLOEXEC,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, root, path, &how,
				      sizeof(how));

		/* ENOSYS: before Linux 5.6; EPERM: a seccomp filter that
		 * does not know the call (older container runtimes). */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
	}
	return walk(root, path);
}

static int open_failed(const char *path, struct err *e)
{
	char sp[SHOWN_MAX];

	if (errno == EACCES || errno == EPERM)
		return err_set(e, SS_EPERM, "cannot open '%s': permission "
			       "denied", shown(sp, path));
	return err_set(e, SS_EIO, "cannot open '%s': %s", shown(sp, path),
		       strerror(errno));
}

/* Check the O_PATH descriptor opath and reopen it for reading. */
static int reopen_regular(int opath, const char *path, uint64_t max_size,
			  int *fd, struct stat *out, struct err *e)
{
	char self[64], sp[SHOWN_MAX];
	struct stat st;

	*fd = -1;
	if (fstat(opath, &st) < 0)
		return err_set(e, SS_EIO, "cannot stat '%s'", shown(sp, path));
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return err_set(e, SS_EIO, "'%s' is %s", shown(sp, path),
			       kind_of(st.st_mode));
	}
	if ((uint64_t)st.st_size > max_size) {
		errno = EFBIG;
		return err_set(e, SS_ELIMIT, "'%s' is larger than %llu bytes",
			       shown(sp, path), (unsigned long long)max_size);
	}
	/* The O_PATH descriptor pins the inode: what is opened now is the
	 * file just checked.  O_NONBLOCK in case a mandatory lock sits on
	 * it. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
	*fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return open_failed(path, e);
	if (out)
		*out = st;
	return 0;
}

int rootfs_openat(int root, const char *path, unsigned flags,
		  uint64_t max_size, int *fd, struct stat *st, struct err *e)
{
	int opath, rc;

	*fd = -1;
	if (!path[0]) {
		errno = ENOENT;
		return err_set(e, SS_EIO, "cannot open an empty path");
	}
	opath = resolve(root, path, flags);
	if (opath < 0)
		return open_failed(path, e);
	rc = reopen_regular(opath, path, max_size, fd, st, e);
	close(opath);
	return rc;
}

static int open_root(pid_t pid, const char *which, struct err *e)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		err_set(e, SS_EPERM, "cannot open '%s': permission denied",
			path);
	else if (fd < 0)
		err_set(e, SS_ENOPROC, "cannot open '%s': %s", path,
			strerror(errno));
	return fd;
}

/* The target's working directory as a path in its root, or NULL.  The
 * kernel names it from our root: for a chroot'ed target the name of its
 * root is cut from the front. */
static char *cwd_in_root(pid_t pid)
{
	char path[64], root[4096], cwd[4096];
	ssize_t nr, nc;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	nr = readlink(path, root, sizeof(root) - 1);
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	nc = readlink(path, cwd, sizeof(cwd) - 1);
	if (nr <= 0 || nc <= 0 || cwd[0] != '/')
		return NULL;
	root[nr] = cwd[nc] = '\0';
	if (!strcmp(root, "/"))
		return xstrdup(cwd);
	if (!strncmp(cwd, root, (size_t)nr) &&
	    (cwd[nr] == '/' || !cwd[nr]))
		return xstrdup(cwd[nr] ? cwd + nr : "/");
	return NULL;
}

int rootfs_open(pid_t pid, const char *path, uint64_t max_size, int *fd,
		struct err *e)
{
	char *cwd = NULL, *full = NULL;
	int root, rc;

	*fd = -1;
	if (path[0] == '/' || !(cwd = cwd_in_root(pid))) {
		/* A working directory we cannot name in the target's root
		 * is taken as the root of the walk: a relative name is then
		 * found beneath it, or not at all. */
		root = open_root(pid, path[0] == '/' ? "root" : "cwd", e);
	} else {
		root = open_root(pid, "root", e);
		full = xmalloc(strlen(cwd) + strlen(path) + 2);
		sprintf(full, "%s/%s", cwd, path);
	}
	if (root < 0) {
		free(cwd);
		return e ? e->code : SS_EIO;
	}
	rc = rootfs_openat(root, full ? full : path, 0, max_size, fd, NULL, e);
	close(root);
	free(full);
	free(cwd);
	return rc;
}

/* Is st the file the mapping names?  Overlayfs (a container's root)
 * shows its own device for a file whose mapping names the layer's, so
 * there the inode alone decides. */
static bool same_file(int fd, const struct stat *st,
		      const struct maps_entry *me)
{
	struct statfs sf;

	if ((uint64_t)st->st_ino != me->ino)
		return false;
	if (st->st_dev == me->dev)
		return true;
	return fstatfs(fd, &sf) == 0 && sf.f_type == OVERLAYFS_MAGIC;
}

/* Open me's path under root (a directory descriptor) and keep it only
 * when it is the mapped file.  0, 1 when another file stands there, or
 * an error. */
static int open_if_same(int root, const struct maps_entry *me,
			uint64_t max_size, int *fd, struct err *e)
{
	struct stat st;
	int rc = rootfs_openat(root, me->path, 0, max_size, fd, &st, e);

	if (rc)
		return rc;
	if (same_file(*fd, &st, me))
		return 0;
	close(*fd);
	*fd = -1;
	return 1;
}

int rootfs_open_mapped(pid_t pid, const struct maps_entry *me,
		       uint64_t max_size, int *fd, struct err *e)
{
	char path[96], sp[SHOWN_MAX];
	bool other = false, denied = false;
	int opath, root, rc;

	*fd = -1;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)me->lo, (unsigned long long)me->hi);
	opath = open(path, O_PATH | O_CLOEXEC);
	if (opath >= 0) {
		rc = reopen_regular(opath, me->path, max_size, fd, NULL, e);
		close(opath);
		return rc;
	}
	if (me->deleted)
		return err_set(e, errno == EPERM || errno == EACCES ? SS_EPERM
								   : SS_EIO,
			       "cannot open '%s' (deleted), mapped by process "
			       "%d: a deleted file is read through map_files, "
			       "which needs CAP_CHECKPOINT_RESTORE or "
			       "CAP_SYS_ADMIN (run as root)",
			       shown(sp, me->path), (int)pid);
	/* By path: in the target's root, then in ours. */
	root = open_root(pid, "root", e);
	if (root < 0)
		return e ? e->code : SS_EIO;
	for (int i = 0; i < 2; i++) {
		int dir = i == 0 ? root
				 : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dir < 0)
			break;
		rc = open_if_same(dir, me, max_size, fd, e);
		close(dir);
		if (rc == 0)
			return 0;
		other |= rc == 1;
		denied |= rc == SS_EPERM;
	}
	if (denied)
		return err_set(e, SS_EPERM, "cannot open '%s', mapped by "
			       "process %d: permission denied; run as root, or "
			       "give snakescope CAP_DAC_READ_SEARCH as well as "
			       "CAP_SYS_PTRACE (as root: setcap "
			       "cap_sys_ptrace,cap_dac_read_search+ep "
			       "SNAKESCOPE)", shown(sp, me->path), (int)pid);
	if (other)
		return err_set(e, SS_EELF, "'%s' is not the file process %d "
			       "mapped (device %u:%u, inode %llu): it was "
			       "replaced, or the process sees another file at "
			       "that path", shown(sp, me->path), (int)pid,
			       major(me->dev), minor(me->dev),
			       (unsigned long long)me->ino);
	return err_set(e, SS_EELF, "cannot find '%s', mapped by process %d, "
		       "in its root or in ours", shown(sp, me->path), (int)pid);
}
