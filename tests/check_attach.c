/*
 * Unit tests for attach/ (maps parsing, ELF symbols and sections, load
 * bias) and pystructs' version/debug-offsets readers that sit on them.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <unistd.h>

#include "tests/check_main.h"
#include "attach/elfsym.h"
#include "attach/maps.h"
#include "attach/proc.h"
#include "attach/rootfs.h"
#include "pystructs/debug_offsets.h"
#include "pystructs/locate.h"
#include "pystructs/version.h"

/* Fixtures the ELF tests look up in this very executable. */
const uint32_t Py_Version = 0x030c01f0;
__attribute__((section(".PyRuntime"), used))
char fixture_runtime[64] = "xdebugpy";

static const char *testdata(void)
{
	const char *d = getenv("SNAKESCOPE_TESTDATA");

	return d ? d : "tests/data";
}

static FILE *open_data(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", testdata(), name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	return f;
}

START_TEST(test_maps_parse)
{
	FILE *f = open_data("maps_sample.txt");
	struct maps m;
	const struct maps_entry *e;
	struct err err;

	ck_assert_int_eq(maps_parse(f, &m, &err), 0);
	fclose(f);
	ck_assert_uint_eq(m.n, 11);
	ck_assert_str_eq(m.e[0].path, "/usr/bin/python3.11");
	ck_assert(m.e[1].x && !m.e[1].w);
	ck_assert_str_eq(m.e[3].path, "[heap]");
	ck_assert_str_eq(m.e[4].path, "");
	ck_assert_str_eq(m.e[5].path, "/opt/app/lib/libpython3.12.so.1.0");
	ck_assert(m.e[5].deleted);
	ck_assert_uint_eq(m.e[6].offset, 0x26000);
	ck_assert_str_eq(m.e[8].path, "/tmp/dir with spaces/x.so");

	e = maps_find(&m, 0x7f1c2b60e123);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->lo, 0x7f1c2b60e000);
	ck_assert_ptr_null(maps_find(&m, 0x1000));
	ck_assert_ptr_null(maps_find(&m, 0x7f1c2b800000)); /* hi is exclusive */
	maps_release(&m);
}
END_TEST

START_TEST(test_maps_malformed)
{
	FILE *f = fmemopen((char *)"garbage line\n", 13, "r");
	struct maps m;
	struct err err;

	ck_assert_int_eq(maps_parse(f, &m, &err), SS_EIO);
	ck_assert_uint_eq(m.n, 0);
	fclose(f);
}
END_TEST

START_TEST(test_maps_self)
{
	struct maps m;
	struct err err;

	ck_assert_int_eq(maps_load(getpid(), &m, &err), 0);
	ck_assert_ptr_nonnull(maps_find(&m, (uint64_t)(uintptr_t)&Py_Version));
	maps_release(&m);
	ck_assert_int_eq(maps_load(0x7ffffff0, &m, &err), SS_ENOPROC);
}
END_TEST

/* The test binary is the ELF fixture: its symbols and its .PyRuntime
 * section must resolve to the addresses the process really uses. */
START_TEST(test_elf_self)
{
	char exe[4096];
	struct maps m;
	struct elf_file *ef;
	uint64_t value, size, bias, addr;
	struct err err;
	int fd;

	ck_assert(proc_exe(getpid(), exe, sizeof(exe)));
	ck_assert_int_eq(maps_load(getpid(), &m, &err), 0);
	ck_assert_int_eq(rootfs_open(getpid(), exe, ROOTFS_MAX_ELF, &fd, &err),
			 0);
	ef = elfsym_open(fd, exe, &err);
	ck_assert_ptr_nonnull(ef);
	ck_assert_int_eq(elfsym_bias(ef, &m, exe, &bias, &err), 0);

	ck_assert(elfsym_lookup(ef, "Py_Version", &value, &size));
	ck_assert_uint_eq(value + bias, (uint64_t)(uintptr_t)&Py_Version);
	ck_assert_uint_eq(size, 4);
	ck_assert(elfsym_section(ef, ".PyRuntime", &addr, &size));
	ck_assert_uint_eq(addr + bias, (uint64_t)(uintptr_t)fixture_runtime);
	ck_assert_uint_ge(size, 64);
	ck_assert(!elfsym_lookup(ef, "no_such_symbol_anywhere", &value, NULL));
	ck_assert(!elfsym_section(ef, ".no_such_section", &addr, &size));
	elfsym_free(ef);
	maps_release(&m);

	ck_assert_ptr_null(elfsym_open(-1, "/nonexistent/file", &err));
	ck_assert_int_eq(err.code, SS_EELF);
	ck_assert_ptr_null(elfsym_open(open("/proc/self/status", O_RDONLY),
				       "/proc/self/status", &err));
}
END_TEST

START_TEST(test_version_from_name)
{
	unsigned maj = 0, min = 0;

	ck_assert(py_version_from_name("/usr/lib/libpython3.12.so.1.0", &maj, &min));
	ck_assert_uint_eq(maj, 3);
	ck_assert_uint_eq(min, 12);
	ck_assert(py_version_from_name("/x/libpython3.7m.so", &maj, &min));
	ck_assert_uint_eq(min, 7);
	ck_assert(py_version_from_name("/usr/bin/python2.7", &maj, &min));
	ck_assert_uint_eq(maj, 2);
	ck_assert(!py_version_from_name("/usr/bin/python3", &maj, &min));
	ck_assert(!py_version_from_name("/opt/python3.9/bin/uwsgi", &maj, &min));
}
END_TEST

START_TEST(test_version_from_text)
{
	static const uint8_t buf[] = "junk3.1 (x\0\0" "3.9.18 (main, Jan  1 2024, "
				     "00:00:00) \n[GCC 12.2.0]\0tail";
	static const uint8_t pre[] = "\0" "3.10.0rc2 (default)\0";
	static const uint8_t none[] = "x3.9.18 (main)\0" "3.9 (a)\0";
	unsigned maj = 0, min = 0;
	char v[32];

	ck_assert(py_version_from_text(buf, sizeof(buf), &maj, &min, v, sizeof(v)));
	ck_assert_uint_eq(maj, 3);
	ck_assert_uint_eq(min, 9);
	ck_assert_str_eq(v, "3.9.18");
	ck_assert(py_version_from_text(pre, sizeof(pre), &maj, &min, v, sizeof(v)));
	ck_assert_str_eq(v, "3.10.0rc2");
	ck_assert(!py_version_from_text(none, sizeof(none), &maj, &min, v, sizeof(v)));
	/* No terminator anywhere: never reads past the buffer. */
	ck_assert(!py_version_from_text((const uint8_t *)"3.9.18 (", 8, &maj,
					&min, v, sizeof(v)));
}
END_TEST

static uint8_t *read_fixture(const char *name, size_t *len)
{
	FILE *f = open_data(name);
	uint8_t *buf = malloc(4096);

	*len = fread(buf, 1, 4096, f);
	fclose(f);
	return buf;
}

static void put_word(uint8_t *buf, unsigned index, uint64_t v)
{
	memcpy(buf + 8 * (size_t)index, &v, sizeof(v));
}

/* Read a real build's table (from its .PyRuntime) with its own shape. */
static void apply_fixture(const char *file, unsigned minor, uint32_t hex,
			  size_t size, struct py_layout *L, uint8_t **bufp)
{
	size_t len;
	uint8_t *buf = read_fixture(file, &len);
	const struct layout_dbg_desc *d;
	bool guess = true;
	struct err err;

	ck_assert_uint_eq(len, size);
	ck_assert_uint_eq(debug_offsets_version(buf), hex);
	ck_assert(!debug_offsets_free_threaded(buf));
	d = debug_offsets_desc(buf, &guess);
	ck_assert_ptr_eq(d, layout_debug_desc(3, minor));
	ck_assert(!guess);
	ck_assert_uint_eq(d->size, size);
	*L = *layout_builtin(3, minor);
	memset(&L->runtime.interpreters_head, 0x55,
	       sizeof(L->runtime.interpreters_head));
	L->tstate.thread_id = -7;
	ck_assert_int_eq(debug_offsets_apply(L, d, buf, len, false, &err), 0);
	*bufp = buf;
}

/* The table of a real 3.13.0 build (from libpython's .PyRuntime). */
START_TEST(test_debug_offsets_313)
{
	uint8_t *buf;
	struct py_layout L;
	const struct layout_dbg_desc *d = layout_debug_desc(3, 13);
	struct err err;

	apply_fixture("debug_offsets_3.13.0.bin", 13, 0x030d00f0, 584, &L, &buf);
	ck_assert_int_eq(L.runtime.interpreters_head, 632);
	ck_assert_int_eq(L.tstate.thread_id, 152);
	ck_assert_int_eq(L.tstate.native_thread_id, 160);
	ck_assert_int_eq(L.frame.owner, 70);
	ck_assert_int_eq(L.code.code_adaptive, 200);
	ck_assert_int_eq(L.gil.locked, 16);
	ck_assert_int_eq(L.gil.last_holder, 8);
	/* It agrees with the generated table everywhere it speaks. */
	ck_assert_int_eq(memcmp(&L, layout_builtin(3, 13), sizeof(L)), 0);

	/* Corruptions are refused, not trusted. */
	buf[8 * 24] = 0xff; /* thread_id offset beyond tstate size */
	buf[8 * 24 + 1] = 0xff;
	ck_assert_int_eq(debug_offsets_apply(&L, d, buf, 584, false, &err),
			 SS_EBADBUILD);
	buf[0] = 'X';
	ck_assert_uint_eq(debug_offsets_version(buf), 0);
	ck_assert_int_eq(debug_offsets_apply(&L, d, buf, 584, false, &err),
			 SS_EBADBUILD);
	free(buf);
}
END_TEST

/* Debian's 3.14.10 and 3.15.2 (3.15 inserted fields mid-table). */
START_TEST(test_debug_offsets_314_315)
{
	uint8_t *buf;
	struct py_layout L;

	apply_fixture("debug_offsets_3.14.10.bin", 14, 0x030e0af0, 760, &L, &buf);
	ck_assert_int_eq(L.runtime.interpreters_head, 808);
	ck_assert_int_eq(L.interp.threads_head, 7344);
	ck_assert_int_eq(L.interp.modules, 7688);
	ck_assert_int_eq(L.tstate.frame, 72);
	ck_assert_int_eq(L.tstate.thread_id, 152);
	ck_assert_int_eq(L.tstate.size, 832);
	ck_assert_int_eq(L.frame.owner, 74);
	ck_assert_int_eq(L.frame.localsplus, 80);
	ck_assert_int_eq(L.code.code_adaptive, 208);
	ck_assert_int_eq(L.gil.locked, 16);
	ck_assert_int_eq(L.tstate.base_frame, LAYOUT_NONE);
	ck_assert_int_eq(memcmp(&L, layout_builtin(3, 14), sizeof(L)), 0);
	free(buf);

	apply_fixture("debug_offsets_3.15.2.bin", 15, 0x030f02f0, 888, &L, &buf);
	ck_assert_int_eq(L.runtime.interpreters_head, 936);
	ck_assert_int_eq(L.interp.threads_head, 7336);
	ck_assert_int_eq(L.tstate.thread_id, 176);
	ck_assert_int_eq(L.tstate.native_thread_id, 184);
	ck_assert_int_eq(L.tstate.base_frame, 80);
	ck_assert_int_eq(L.type.ht_cached_keys, 888);
	ck_assert_int_eq(L.frame.owner, 74);
	/* The JIT build's _PyThreadStateImpl is 8 bytes larger than the
	 * headers say, but PyThreadState itself agrees. */
	ck_assert_int_eq(L.tstate.size, 888);
	free(buf);
}
END_TEST

/*
 * A target newer than any known table: read with the newest shape when
 * the table is consistent, refused otherwise.  A free-threaded build is
 * always refused.
 */
START_TEST(test_debug_offsets_newer)
{
	size_t len;
	uint8_t *buf = read_fixture("debug_offsets_3.15.2.bin", &len);
	const struct layout_dbg_desc *d;
	struct py_layout L;
	bool guess = false;
	struct err err;

	put_word(buf, 1, 0x031000a1); /* 3.16.0a1 */
	d = debug_offsets_desc(buf, &guess);
	ck_assert_ptr_eq(d, layout_debug_desc_newest());
	ck_assert(guess);
	L = *layout_builtin(d->major, d->minor);
	ck_assert_int_eq(debug_offsets_apply(&L, d, buf, len, true, &err), 0);
	ck_assert_int_eq(L.tstate.thread_id, 176);

	/* A pre-release of a known minor is a guess too. */
	put_word(buf, 1, 0x030f00a5);
	ck_assert_ptr_eq(debug_offsets_desc(buf, &guess),
			 layout_debug_desc(3, 15));
	ck_assert(guess);

	/* A field inserted before thread_state.size shifts it onto an
	 * offset word (here: 8), which is no struct size. */
	put_word(buf, 1, 0x031000a1);
	put_word(buf, 22, 8);
	ck_assert_int_eq(debug_offsets_apply(&L, d, buf, len, true, &err),
			 SS_EBADBUILD);

	/* Older than any table with a cookie, or Python 4: no shape. */
	put_word(buf, 1, 0x030c00f0);
	ck_assert_ptr_null(debug_offsets_desc(buf, &guess));
	put_word(buf, 1, 0x040000a1);
	ck_assert_ptr_null(debug_offsets_desc(buf, &guess));

	put_word(buf, 1, 0x030f02f0);
	put_word(buf, 2, 1); /* free_threaded */
	ck_assert(debug_offsets_free_threaded(buf));
	L = *layout_builtin(3, 15);
	ck_assert_int_eq(debug_offsets_apply(&L, layout_debug_desc(3, 15), buf,
					     len, false, &err), SS_EBADBUILD);
	ck_assert_ptr_nonnull(strstr(err.msg, "free-threaded"));
	free(buf);
}
END_TEST

START_TEST(test_proc_nspid)
{
	struct proc_nsmap m;
	int levels;

	ck_assert_int_eq(proc_status_nspid("Name:\tpy\nNSpid:\t4242\t1\n"
					   "NSsid:\t1\n", &levels), 1);
	ck_assert_int_eq(levels, 2);
	ck_assert_int_eq(proc_status_nspid("Tgid:\t9\nNSpid:\t9\n", &levels), 9);
	ck_assert_int_eq(levels, 1);
	ck_assert_int_eq(proc_status_nspid("Tgid:\t9\nPid:\t9\n", &levels), 0);
	ck_assert_int_eq(levels, 0);
	ck_assert_int_eq(proc_status_nspid("\nNSpid:\t70\t-3\t99999999999\tx\n",
					   &levels), 70);
	ck_assert_int_eq(levels, 1);

	/* Our own process shares our namespace: numbers are their own. */
	proc_nsmap_init(&m, getpid());
	ck_assert_int_eq(m.ns_pid, 0);
	ck_assert_int_eq(proc_nsmap_host(&m, 1234), 1234);
	ck_assert_int_eq(proc_nsmap_ns(&m, getpid()), -1);
	proc_nsmap_release(&m);
}
END_TEST

START_TEST(test_proc_check)
{
	struct proc_info info;
	struct err err;

	ck_assert_int_eq(proc_check(getpid(), &info, &err), 0);
	ck_assert(info.state == 'R' || info.state == 'S');
	ck_assert_int_eq(proc_check(0x7ffffff0, &info, &err), SS_ENOPROC);
	ck_assert_int_eq(proc_check(-1, &info, &err), SS_ENOPROC);
}
END_TEST

/* ---- rootfs: a path the target names stays in its root ---------------- */

static char rootfs_dir[64];

static void put(const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", rootfs_dir, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", rootfs_dir, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

/* What rootfs_openat() opens of 'path' under the fixture root: the first
 * line of the file, or "" with the error code in *rc. */
static const char *read_in_root(int root, const char *path, unsigned flags,
				uint64_t max, int *rc, struct err *err)
{
	static char line[256];
	int fd;
	ssize_t n;

	line[0] = '\0';
	*rc = rootfs_openat(root, path, flags, max, &fd, NULL, err);
	if (*rc)
		return line;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	return line;
}

static void make_rootfs(void)
{
	char path[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sock;

	/* A fresh template each time: without fork (valgrind), the loop's
	 * runs share this process. */
	snprintf(rootfs_dir, sizeof(rootfs_dir),
		 "/tmp/snakescope-rootfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(rootfs_dir));
	snprintf(path, sizeof(path), "%s/etc", rootfs_dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/sub", rootfs_dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put("etc/hostname", "inside\n");
	put("big", "0123456789");
	link_at("abs", "/etc");              /* absolute: from the root */
	link_at("etc/sub/up", "../../../../etc/hostname");
	link_at("loop1", "loop2");
	link_at("loop2", "/loop1");
	link_at("magic", "/proc/self/root/etc/hostname");
	snprintf(path, sizeof(path), "%s/fifo", rootfs_dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", rootfs_dir);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sock);
}

static void remove_rootfs(void)
{
	static const char *const names[] = {
		"etc/hostname", "big", "abs", "etc/sub/up", "loop1", "loop2",
		"magic", "fifo", "sock", "etc/sub", "etc", ""
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs_dir, names[i]);
		if (remove(path) != 0)
			ck_abort_msg("cannot remove %s", path);
	}
}

/* Both ways of resolving (openat2, and the walk kept for kernels without
 * it) keep every path inside the root and open only regular files. */
START_TEST(test_rootfs_confined)
{
	unsigned flags = _i ? ROOTFS_WALK : 0;
	struct err err;
	int root, rc;

	make_rootfs();
	root = open(rootfs_dir, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(root, 0);
	ck_assert_str_eq(read_in_root(root, "/etc/hostname", flags, 100, &rc,
				      &err), "inside\n");
	ck_assert_str_eq(read_in_root(root, "etc//./hostname", flags, 100, &rc,
				      &err), "inside\n");
	/* An absolute link, and ".." past the top, stay inside. */
	ck_assert_str_eq(read_in_root(root, "/abs/hostname", flags, 100, &rc,
				      &err), "inside\n");
	ck_assert_str_eq(read_in_root(root, "/../../../etc/hostname", flags,
				      100, &rc, &err), "inside\n");
	ck_assert_str_eq(read_in_root(root, "/etc/sub/up", flags, 100, &rc,
				      &err), "inside\n");
	/* A magic link's text names no file in the root. */
	read_in_root(root, "/magic", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	read_in_root(root, "/loop1", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	ck_assert_int_eq(err.saved_errno, ELOOP);
	/* Never blocks on a FIFO, never opens a socket or a directory. */
	read_in_root(root, "/fifo", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "a FIFO"));
	read_in_root(root, "/sock", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "a socket"));
	read_in_root(root, "/etc", flags, 100, &rc, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "a directory"));
	read_in_root(root, "/big", flags, 9, &rc, &err);
	ck_assert_int_eq(rc, SS_ELIMIT);
	ck_assert_str_eq(read_in_root(root, "/big", flags, 10, &rc, &err),
			 "0123456789");
	read_in_root(root, "/etc/hostname/x", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	read_in_root(root, "", flags, 100, &rc, &err);
	ck_assert_int_eq(rc, SS_EIO);
	close(root);
	remove_rootfs();
}
END_TEST

/* The file this process maps is found by its device and inode, and a
 * mapping whose identity is another file's is refused, not misread. */
START_TEST(test_rootfs_mapped)
{
	char exe[4096];
	struct maps m;
	struct maps_entry me;
	struct stat a, b;
	struct err err;
	int fd;

	ck_assert(proc_exe(getpid(), exe, sizeof(exe)));
	ck_assert_int_eq(maps_load(getpid(), &m, &err), 0);
	for (size_t i = 0; i < m.n; i++)
		if (!strcmp(m.e[i].path, exe)) {
			me = m.e[i];
			break;
		}
	ck_assert_int_eq(stat(exe, &a), 0);
	ck_assert_uint_eq(me.ino, (uint64_t)a.st_ino);
	ck_assert_int_eq(rootfs_open_mapped(getpid(), &me, ROOTFS_MAX_ELF, &fd,
					    &err), 0);
	ck_assert_int_eq(fstat(fd, &b), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	/* A range no mapping has: map_files has no entry, so the file is
	 * found by its path and kept for its identity alone. */
	me.lo = 0x1000;
	me.hi = 0x2000;
	ck_assert_int_eq(rootfs_open_mapped(getpid(), &me, ROOTFS_MAX_ELF, &fd,
					    &err), 0);
	close(fd);
	me.ino++;
	ck_assert_int_eq(rootfs_open_mapped(getpid(), &me, ROOTFS_MAX_ELF, &fd,
					    &err), SS_EELF);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not the file"));
	maps_release(&m);
}
END_TEST

START_TEST(test_proc_access_hint)
{
	struct proc_access a;
	char buf[768];

	memset(&a, 0, sizeof(a));
	a.yama = -1;
	snprintf(a.self, sizeof(a.self), "/usr/bin/snakescope");
	snprintf(a.target_user, sizeof(a.target_user), "alice");
	a.target_uid = 1000;

	/* Root without CAP_SYS_PTRACE: a container without --cap-add. */
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "container"));
	ck_assert_ptr_nonnull(strstr(buf, "docker run --cap-add SYS_PTRACE"));
	ck_assert_ptr_nonnull(strstr(buf, "securityContext.capabilities.add: "
				     "[\"SYS_PTRACE\"]"));
	ck_assert_ptr_nonnull(strstr(buf, "kubectl debug -it --profile=general"
				     " --target=CONTAINER"));
	a.cap_ptrace = true; /* effective, but not in the bounding set */
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "container"));

	/* Holding it and still refused. */
	a.cap_ptrace_bounding = true;
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "security module"));

	/* A user against another user's process. */
	a.cap_ptrace = a.cap_ptrace_bounding = false;
	a.uid = 999;
	snprintf(a.user, sizeof(a.user), "bob");
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "the process belongs to alice (uid 1000) and "
			 "snakescope runs as bob (uid 999) without "
			 "CAP_SYS_PTRACE: run it as root or as alice, or give "
			 "it CAP_SYS_PTRACE (as root: setcap cap_sys_ptrace+ep "
			 "/usr/bin/snakescope)");
	a.target_uid = 0;
	a.target_user[0] = '\0';
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "belongs to uid 0 and"));
	ck_assert_ptr_nonnull(strstr(buf, "run it as root, or give"));

	/* Its own process: Yama, or privileges the target holds. */
	a.target_uid = 999;
	a.yama = 1;
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "ptrace_scope is 1"));
	ck_assert_ptr_nonnull(strstr(buf, "snakescope run"));
	a.yama = 2;
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "ptrace_scope is 2"));
	a.yama = 0;
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "set-user-ID"));
	a.yama = 3;
	a.uid = 0;
	proc_access_hint(&a, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "ptrace_scope is 3"));

	/* Read for real: our own process. */
	proc_access_read(getpid(), &a);
	ck_assert_int_eq(a.uid, geteuid());
	ck_assert_int_eq(a.target_uid, getuid());
	ck_assert(a.self[0] == '/');
}
END_TEST

static Suite *attach_suite(void)
{
	Suite *s = suite_create("attach");
	TCase *tc = tcase_create("attach");

	tcase_add_test(tc, test_maps_parse);
	tcase_add_test(tc, test_maps_malformed);
	tcase_add_test(tc, test_maps_self);
	tcase_add_test(tc, test_elf_self);
	tcase_add_loop_test(tc, test_rootfs_confined, 0, 2);
	tcase_add_test(tc, test_rootfs_mapped);
	tcase_add_test(tc, test_version_from_name);
	tcase_add_test(tc, test_version_from_text);
	tcase_add_test(tc, test_debug_offsets_313);
	tcase_add_test(tc, test_debug_offsets_314_315);
	tcase_add_test(tc, test_debug_offsets_newer);
	tcase_add_test(tc, test_proc_check);
	tcase_add_test(tc, test_proc_nspid);
	tcase_add_test(tc, test_proc_access_hint);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(attach_suite());
}
