/*
 * rootfs.h - open the files a target names, as the target sees them.
 *
 * A path read from a target (a code object's file name, a file in its
 * memory map, the debug file its ELF objects name) is the target's word,
 * and the target may live in another mount namespace or under another
 * root directory (a container, a chroot).  Such a path is resolved inside
 * the target's own root, /proc/PID/root: absolute symbolic links and ".."
 * stay inside it, and magic links (/proc/PID/fd/N) are not followed.  A
 * file is opened for reading only once it is known to be a regular file
 * of bounded size, so a FIFO, a device or a socket named by the target
 * can neither block a read nor have an open's side effects.
 *
 * openat2() with RESOLVE_IN_ROOT does the resolution where the kernel has
 * it (Linux 5.6); elsewhere, or where a seccomp filter refuses it, the
 * path is walked one component at a time with the same rules.
 */
#ifndef SNAKESCOPE_ROOTFS_H
#define SNAKESCOPE_ROOTFS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "common/err.h"

/* Bounds on what a target's file may make us read. */
#define ROOTFS_MAX_SOURCE (16u << 20) /* a source file */
#define ROOTFS_MAX_ELF (UINT64_C(4) << 30) /* an ELF or debug file (mapped) */

/* Flags of rootfs_openat(). */
enum {
	/* Resolve component by component, as without openat2() (tests). */
	ROOTFS_WALK = 1u << 0,
};

/* Open 'path' resolved inside the tree whose root is the directory
 * descriptor 'root' ('path' absolute or relative, both taken from that
 * root).  On success *fd is a new descriptor, open O_RDONLY | O_CLOEXEC,
 * of a regular file of at most max_size bytes, and *st (when not NULL) its
 * status.  Returns 0; SS_EPERM when permission is refused; SS_ELIMIT when
 * the file is larger; SS_EIO when it does not exist, is not a regular
 * file (e names its kind) or a symbolic link loops.  errno is kept in e. */
int rootfs_openat(int root, const char *path, unsigned flags,
		  uint64_t max_size, int *fd, struct stat *st, struct err *e);

/* Open 'path' as process pid sees it: an absolute path in its root, a
 * relative one from its working directory.  As rootfs_openat(). */
int rootfs_open(pid_t pid, const char *path, uint64_t max_size, int *fd,
		struct err *e);

/* Open the very file mapped at 'me' in process pid (the map pid's own,
 * from maps_load()): through /proc/PID/map_files where we may (that needs
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN), else by its path in the
 * target's root, then in ours (the maps of a chroot'ed target name files
 * by the paths we see), accepted only when the file found has the device
 * and inode the map gives.  A deleted file is found only the first way.
 * Returns 0 with *fd as rootfs_openat() gives it; SS_EPERM when
 * permission is refused; SS_EELF when no file with that identity is found
 * (e says whether another file stands at its path); or as
 * rootfs_openat(). */
int rootfs_open_mapped(pid_t pid, const struct maps_entry *me,
		       uint64_t max_size, int *fd, struct err *e);

#endif
