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
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/check_main.h"
#include "attach/demangle.h"
#include "attach/elfsym.h"
#include "attach/fdwait.h"
#include "attach/maps.h"
#include "attach/proc.h"
#include "attach/rootfs.h"
#include "attach/unwind.h"
#include "memreader/mem.h"
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

/* C++ names: readable, bounded; everything else left alone. */
START_TEST(test_demangle)
{
	char *long_name = malloc(DEMANGLE_MAX_IN + 2);
	char *d;

	if (!demangle_available()) {
		ck_assert_ptr_null(demangle_cxx("_ZN2nt4waitEv"));
		free(long_name);
		return;
	}
	d = demangle_cxx("_ZN2nt6WaiterIiE4waitEi");
	ck_assert_str_eq(d, "nt::Waiter<int>::wait(int)");
	free(d);
	/* A compiler's clone of a function (hot/cold splitting). */
	d = demangle_cxx("_ZN2nt4waitEv.cold");
	ck_assert_ptr_nonnull(d);
	ck_assert(!strncmp(d, "nt::wait()", 10));
	free(d);
	ck_assert_ptr_null(demangle_cxx("nt_block"));
	ck_assert_ptr_null(demangle_cxx("_PyEval_EvalFrameDefault"));
	ck_assert_ptr_null(demangle_cxx("_Z"));
	ck_assert_ptr_null(demangle_cxx("_ZN2nt"));
	ck_assert_ptr_null(demangle_cxx(NULL));
	/* Too long to try. */
	memset(long_name, 'x', DEMANGLE_MAX_IN + 1);
	memcpy(long_name, "_ZN", 3);
	long_name[DEMANGLE_MAX_IN + 1] = '\0';
	ck_assert_ptr_null(demangle_cxx(long_name));
	free(long_name);
}
END_TEST

static int no_file(void *arg, const struct maps_entry *first, int *fd)
{
	(void)arg;
	(void)first;
	(void)fd;
	return SS_EIO;
}

/* Code in an anonymous executable mapping is JIT code; elsewhere outside
 * every object there is no library at all. */
START_TEST(test_unwind_jit_name)
{
	static const char text[] =
		"7f0000000000-7f0000003000 r-xp 00000000 00:00 0 \n"
		"7f0000003000-7f0000004000 rw-p 00000000 00:00 0 \n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct mem_reader *mem = mem_image_new();
	struct unwinder *u = unwinder_new(mem, no_file, NULL, -1);
	struct unwind_frame fr;
	struct maps m = { 0 };

	ck_assert_int_eq(maps_parse(f, &m, NULL), 0);
	fclose(f);
	unwind_begin(u, &m);
	unwind_symbolize(u, 0x7f00000012b1, true, &fr);
	ck_assert_str_eq(fr.library, "[jit]");
	ck_assert_uint_eq(fr.lib_offset, 0x12b1);
	ck_assert_ptr_null(fr.function);
	unwind_symbolize(u, 0x7f0000003010, true, &fr);
	ck_assert_ptr_null(fr.library);
	unwind_symbolize(u, 0x1000, false, &fr);
	ck_assert_ptr_null(fr.library);
	maps_release(&m);
	unwinder_free(u);
	mem_reader_free(mem);
}
END_TEST

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

/* Wait (2 s at most) until proc_quiet_begin() says child is off CPU. */
static bool quiet_wait(struct proc_stat_files *f, pid_t child,
		       struct proc_quiet *q)
{
	for (int i = 0; i < 2000; i++) {
		if (proc_quiet_begin(f, child, q))
			return true;
		usleep(1000);
	}
	return false;
}

/* A child blocked in read() on a pipe is off CPU, in that call: read
 * without a stop, it stays so; woken by a byte (it reads it and blocks
 * again), the count of its switches onto a CPU moves. */
START_TEST(test_proc_quiet)
{
	struct proc_stat_files f;
	struct proc_quiet q;
	int fds[2];
	pid_t child;
	char c = 'x';

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) == 1)
			;
		_exit(0);
	}
	close(fds[0]);
	proc_stat_files_init(&f, child);
	ck_assert(quiet_wait(&f, child, &q));
	ck_assert_int_eq(q.nr, SYS_read);
	ck_assert_uint_eq(q.args[0], (uint64_t)fds[0]);
	ck_assert_uint_eq(q.args[2], 1);
	ck_assert(q.sp && q.pc && q.switches);
	usleep(20000);
	ck_assert(proc_quiet_end(&q)); /* it did not run */

	ck_assert(quiet_wait(&f, child, &q));
	ck_assert_int_eq(write(fds[1], &c, 1), 1);
	/* it reads the byte, and blocks again */
	for (int i = 0; i < 2000; i++) {
		struct proc_quiet again;
		bool asleep = proc_quiet_begin(&f, child, &again);

		if (asleep)
			proc_quiet_end(&again);
		if (asleep && again.switches != q.switches)
			break;
		usleep(1000);
	}
	ck_assert(!proc_quiet_end(&q)); /* it ran */
	close(fds[1]);
	waitpid(child, NULL, 0);
	proc_stat_files_release(&f);
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


/* /proc/net/tcp and tcp6 lines as Linux 6.1 prints them (little-endian
 * host: each 32-bit word of an address is printed as the number it is in
 * memory). */
static const char net_tcp[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
	"00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n"
	"   1: 0100007F:A332 0500000A:1538 01 00000000:00000000 00:00000000 "
	"00000000  1000        0 67890 1 0000000000000000 20 4 30 10 -1\n"
	"   2: 0100007F:A333 0500000A:1538 08 00000000:00000000 00:00000000 "
	"00000000  1000        0 678901 1 0000000000000000 20 4 30 10 -1\n"
	"   3: 0500000A:1538 0100007F:A332 01 00000000:00000000 00:00000000 "
	"00000000  1000        0 77777 1 0000000000000000 20 4 30 10 -1\n";
static const char net_tcp6[] =
	"  sl  local_address                         remote_address        "
	"                st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	"timeout inode\n"
	"   0: 00000000000000000000000001000000:0050 "
	"00000000000000000000000000000000:0000 0A 00000000:00000000 "
	"00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 "
	"10 0\n"
	"   1: 0000000000000000FFFF00000100007F:9C40 "
	"0000000000000000FFFF00000100007F:0050 01 00000000:00000000 "
	"00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 "
	"10 -1\n";
static const char net_unix[] =
	"Num       RefCount Protocol Flags    Type St Inode Path\n"
	"0000000000000000: 00000002 00000000 00010000 0001 01 3333 "
	"/run/x.sock\n"
	"0000000000000000: 00000003 00000000 00000000 0001 03 4444\n"
	"0000000000000000: 00000002 00000000 00000000 0002 01 5555 "
	"@abstract name\n";

START_TEST(test_fdwait_net)
{
	struct fdwait_fd f;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memset(&f, 0, sizeof(f));
	ck_assert(fdwait_net_inet(net_tcp, 67890, false, true, &f));
	ck_assert_str_eq(f.proto, "tcp");
	ck_assert_str_eq(f.local, "127.0.0.1:41778");
	ck_assert_str_eq(f.peer, "10.0.0.5:5432");
	ck_assert_str_eq(f.state, "ESTABLISHED");
	ck_assert(fdwait_net_inet(net_tcp, 12345, false, true, &f));
	ck_assert_str_eq(f.local, "127.0.0.1:8080");
	ck_assert_str_eq(f.peer, "");
	ck_assert_str_eq(f.state, "LISTEN");
	/* The other end on this host: the addresses the other way. */
	{
		uint64_t ino = 0;

		ck_assert(!fdwait_net_inet_peer(net_tcp, &f, false, &ino));
		ck_assert(fdwait_net_inet(net_tcp, 67890, false, true, &f));
		ck_assert(fdwait_net_inet_peer(net_tcp, &f, false, &ino));
		ck_assert_uint_eq(ino, 77777);
		ck_assert(fdwait_net_inet(net_tcp, 678901, false, true, &f));
		ck_assert(!fdwait_net_inet_peer(net_tcp, &f, false, &ino));
		ck_assert(!fdwait_net_inet_peer(net_tcp, &f, true, &ino));
	}
	ck_assert(fdwait_net_inet(net_tcp, 678901, false, true, &f));
	ck_assert_str_eq(f.state, "CLOSE_WAIT");
	ck_assert(fdwait_net_inet(net_tcp, 12345, false, false, &f));
	ck_assert_str_eq(f.proto, "udp");
	ck_assert_str_eq(f.state, "");
	ck_assert(fdwait_net_inet(net_tcp6, 2222, true, true, &f));
	ck_assert_str_eq(f.proto, "tcp6");
	ck_assert_str_eq(f.local, "[::1]:80");
	ck_assert_str_eq(f.peer, "");
	ck_assert(fdwait_net_inet(net_tcp6, 3333, true, true, &f));
	ck_assert_str_eq(f.local, "[::ffff:127.0.0.1]:40000");
	ck_assert_str_eq(f.peer, "[::ffff:127.0.0.1]:80");
#endif
	/* No such inode, a prefix of one, the header, the wrong family. */
	ck_assert(!fdwait_net_inet(net_tcp, 6789, false, true, &f));
	ck_assert(!fdwait_net_inet(net_tcp, 0, false, true, &f));
	ck_assert(!fdwait_net_inet(net_tcp, 2222, true, true, &f));
	ck_assert(!fdwait_net_inet(net_tcp6, 2222, false, true, &f));
	ck_assert(!fdwait_net_inet("", 1, false, true, &f));
	/* Malformed: cut short, bad hex, a port past the field. */
	ck_assert(!fdwait_net_inet("   0: 0100007F:1F90 00000000:0000 0A\n",
				   12345, false, true, &f));
	ck_assert(!fdwait_net_inet("   0: 0100Z07F:1F90 00000000:0000 0A "
				   "0:0 0:0 0 0 0 12345\n", 12345, false,
				   true, &f));
	ck_assert(!fdwait_net_inet("   0: 0100007F:1F90x 00000000:0000 0A "
				   "0:0 0:0 0 0 0 12345\n", 12345, false,
				   true, &f));

	ck_assert(fdwait_net_unix(net_unix, 3333, &f));
	ck_assert_str_eq(f.proto, "unix");
	ck_assert_str_eq(f.path, "/run/x.sock");
	ck_assert_str_eq(f.state, "LISTEN");
	ck_assert(fdwait_net_unix(net_unix, 4444, &f));
	ck_assert_str_eq(f.path, "");
	ck_assert_str_eq(f.state, "");
	ck_assert(fdwait_net_unix(net_unix, 5555, &f));
	ck_assert_str_eq(f.path, "@abstract name");
	ck_assert(!fdwait_net_unix(net_unix, 333, &f));
	ck_assert(!fdwait_net_unix(net_tcp, 12345, &f));
}
END_TEST

START_TEST(test_fdwait_parsers)
{
	struct fdwait_call c;
	uint64_t args[6] = { 5, 0, 0, 0, 0, 0 }, ino;
	char status[] = "Name:\tx\nPid:\t900\nNSpid:\t900\t12\t3\n";

	ck_assert(fdwait_link_inode("pipe:[1234]", "pipe", &ino));
	ck_assert_uint_eq(ino, 1234);
	ck_assert(fdwait_link_inode("socket:[99]", "socket", &ino));
	ck_assert(!fdwait_link_inode("socket:[99]", "pipe", &ino));
	ck_assert(!fdwait_link_inode("pipe:[12", "pipe", &ino));
	ck_assert(!fdwait_link_inode("pipe:[]", "pipe", &ino));
	ck_assert(!fdwait_link_inode("pipe:[1]x", "pipe", &ino));
	ck_assert(!fdwait_link_inode("/tmp/pipe:[1]", "pipe", &ino));

	ck_assert_int_eq(fdwait_fdinfo_accmode("pos:\t0\nflags:\t02000000\n"),
			 O_RDONLY);
	ck_assert_int_eq(fdwait_fdinfo_accmode("pos:\t0\nflags:\t02000001\n"),
			 O_WRONLY);
	ck_assert_int_eq(fdwait_fdinfo_accmode("flags:\t0100002\n"), O_RDWR);
	ck_assert_int_eq(fdwait_fdinfo_accmode("pos:\t0\n"), -1);
	ck_assert_int_eq(fdwait_fdinfo_accmode("flags:\tzz\n"), -1);


	ck_assert_int_eq(fdwait_nspid_at(status, 0), 900);
	ck_assert_int_eq(fdwait_nspid_at(status, 1), 12);
	ck_assert_int_eq(fdwait_nspid_at(status, 2), 3);
	ck_assert_int_eq(fdwait_nspid_at(status, 3), 0);
	ck_assert_int_eq(fdwait_nspid_at("Pid:\t1\n", 0), 0);

	ck_assert(fdwait_classify(SYS_recvfrom, args, &c));
	ck_assert_int_eq(c.kind, FDWAIT_CALL_FD);
	ck_assert_int_eq(c.fd, 5);
	ck_assert(fdwait_classify(SYS_read, args, &c));
	ck_assert(fdwait_classify(SYS_accept4, args, &c));
	ck_assert(!fdwait_classify(SYS_futex, args, &c));
	ck_assert_int_eq(c.kind, FDWAIT_CALL_NONE);
	args[0] = (uint64_t)-1;
	ck_assert(!fdwait_classify(SYS_read, args, &c));
	/* fcntl: lock waits only. */
	args[0] = 5;
	args[1] = F_GETFL;
	ck_assert(!fdwait_classify(SYS_fcntl, args, &c));
	args[1] = F_SETLKW;
	ck_assert(fdwait_classify(SYS_fcntl, args, &c));
	/* poll: one descriptor only. */
	args[0] = 0x7f0000001000;
	args[1] = 1;
	ck_assert(fdwait_classify(SYS_ppoll, args, &c));
	ck_assert_int_eq(c.kind, FDWAIT_CALL_POLL);
	ck_assert_uint_eq(c.addr, 0x7f0000001000);
	args[1] = 2;
	ck_assert(!fdwait_classify(SYS_ppoll, args, &c));
	args[0] = 4;
	/* epoll: not named (an idle asyncio loop's wake-up socket). */
	ck_assert(!fdwait_classify(SYS_epoll_pwait, args, &c));
	/* wait4: a PID, any child (-1, in the low 32 bits), not a group. */
	args[0] = 4242;
	ck_assert(fdwait_classify(SYS_wait4, args, &c));
	ck_assert_int_eq(c.kind, FDWAIT_CALL_CHILD);
	ck_assert_int_eq(c.child, 4242);
	args[0] = 0xffffffffu;
	ck_assert(fdwait_classify(SYS_wait4, args, &c));
	ck_assert_int_eq(c.child, -1);
	args[0] = 0;
	ck_assert(!fdwait_classify(SYS_wait4, args, &c));
	args[0] = (uint64_t)-4242;
	ck_assert(!fdwait_classify(SYS_wait4, args, &c));
	args[0] = P_PID;
	args[1] = 77;
	ck_assert(fdwait_classify(SYS_waitid, args, &c));
	ck_assert_int_eq(c.child, 77);
	args[0] = P_PGID;
	ck_assert(!fdwait_classify(SYS_waitid, args, &c));

	/* Only calls that may wait on a descriptor or a child have their
	 * registers read while held. */
	ck_assert(fdwait_call_named("read"));
	ck_assert(fdwait_call_named("wait4"));
	ck_assert(fdwait_call_named("poll") || fdwait_call_named("ppoll"));
	ck_assert(fdwait_call_named("accept4"));
	ck_assert(!fdwait_call_named("futex"));
	ck_assert(!fdwait_call_named("clock_nanosleep"));
	ck_assert(!fdwait_call_named("epoll_wait"));
	ck_assert(!fdwait_call_named(""));
	/* Another process's thread: its syscall file. */
	{
		long nr = 0;

		ck_assert(fdwait_syscall_text("61 0xffffffff 0x7ffd1c 0x0 0x0 "
					      "0x0 0x0 0x7ffd00 0x7f12\n", &nr,
					      args));
		ck_assert_int_eq(nr, 61);
		ck_assert_uint_eq(args[0], 0xffffffffu);
		ck_assert_uint_eq(args[1], 0x7ffd1c);
		ck_assert(!fdwait_syscall_text("-1 0x7ffd00 0x7f12\n", &nr,
					       args));
		ck_assert(!fdwait_syscall_text("running\n", &nr, args));
		ck_assert(!fdwait_syscall_text("1 0x1 0x2\n", &nr, args));
		ck_assert(!fdwait_syscall_text("1 0x1 0x 0x0 0x0 0x0 0x0",
					       &nr, args));
		ck_assert(!fdwait_syscall_text("", &nr, args));
	}
	/* A poll() resumed after a pause: restart_syscall, told by wchan. */
	ck_assert(fdwait_wchan_poll("poll_schedule_timeout.constprop.0"));
	ck_assert(fdwait_wchan_poll("do_sys_poll"));
	ck_assert(!fdwait_wchan_poll("futex_wait_queue"));
	ck_assert(!fdwait_wchan_poll("hrtimer_nanosleep"));
	ck_assert(!fdwait_wchan_poll(""));
	ck_assert(fdwait_wchan_futex("futex_wait_queue"));
	ck_assert(fdwait_wchan_futex("futex_wait_queue_me"));
	ck_assert(fdwait_wchan_futex("futex_do_wait"));
	ck_assert(!fdwait_wchan_futex("poll_schedule_timeout"));
	ck_assert(!fdwait_wchan_futex(""));
	ck_assert_int_eq(fdwait_same_call(SYS_read, "read"), SYS_read);
	ck_assert_int_eq(fdwait_same_call(SYS_read, "futex"), -1);
	ck_assert_int_eq(fdwait_same_call(SYS_restart_syscall, "poll"),
			 SYS_poll);
	ck_assert_int_eq(fdwait_same_call(SYS_restart_syscall,
					  "restart_syscall"),
			 SYS_restart_syscall);
	ck_assert(!fdwait_classify(SYS_restart_syscall, args, &c));
	ck_assert_int_eq(fdwait_same_call(SYS_poll, "restart_syscall"), -1);
}
END_TEST

/* Our own descriptors, read through /proc: a pipe, a FIFO, a TCP
 * connection, a unix socket, a child. */
START_TEST(test_fdwait_self)
{
	char dir[] = "/tmp/snakescope-fdwait-XXXXXX", fifo[64], sock[64];
	struct fdwait_ends ends[2];
	struct fdwait_fd two[2];
	struct sockaddr_in a = { 0 };
	struct sockaddr_un u = { 0 };
	socklen_t alen = sizeof(a);
	struct fdwait_net net;
	struct fdwait_fd f;
	char want[64], cmd[64];
	int p[2], l, c, s, us, fr, fw;
	pid_t kid;

	fdwait_net_init(&net, getpid());
	ck_assert_int_eq(pipe(p), 0);
	ck_assert(fdwait_read(getpid(), p[0], &net, &f));
	ck_assert_int_eq(f.kind, FDWAIT_PIPE);
	ck_assert_int_eq(f.accmode, O_RDONLY);
	ck_assert_uint_ne(f.inode, 0);
	/* Its write end is ours: we are the other end, once. */
	fdwait_other_ends(getpid(), &f, 1, ends);
	ck_assert_uint_eq(ends[0].n, 1);
	ck_assert_int_eq(ends[0].h[0].pid, getpid());
	ck_assert_str_ne(ends[0].h[0].comm, "");
	close(p[1]);
	fdwait_other_ends(getpid(), &f, 1, ends);
	ck_assert_uint_eq(ends[0].n, 0);
	close(p[0]);
	ck_assert(!fdwait_read(getpid(), p[0], &net, &f));

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fr = open(fifo, O_RDONLY | O_NONBLOCK);
	fw = open(fifo, O_WRONLY);
	ck_assert(fr >= 0 && fw >= 0);
	ck_assert(fdwait_read(getpid(), fr, &net, &f));
	ck_assert_int_eq(f.kind, FDWAIT_FIFO);
	ck_assert_str_eq(f.path, fifo);
	/* Two at once: the FIFO read by fr (its writer fw is the other
	 * end) and, by fw, the writer's (fr's). */
	two[0] = f;
	ck_assert(fdwait_read(getpid(), fw, &net, &two[1]));
	ck_assert_int_eq(two[1].accmode, O_WRONLY);
	fdwait_other_ends(getpid(), two, 2, ends);
	ck_assert_uint_eq(ends[0].n, 1);
	ck_assert_uint_eq(ends[1].n, 1);
	ck_assert_int_eq(ends[0].h[0].pid, getpid());
	close(fw);
	close(fr);

	l = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	fdwait_net_release(&net);
	fdwait_net_init(&net, getpid());
	ck_assert(fdwait_read(getpid(), l, &net, &f));
	ck_assert_int_eq(f.kind, FDWAIT_SOCKET);
	ck_assert_str_eq(f.proto, "tcp");
	ck_assert_str_eq(f.state, "LISTEN");
	snprintf(want, sizeof(want), "127.0.0.1:%d", ntohs(a.sin_port));
	ck_assert_str_eq(f.local, want);
	ck_assert_str_eq(f.peer, "");
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	s = accept(l, NULL, NULL);
	ck_assert(s >= 0);
	fdwait_net_release(&net);
	fdwait_net_init(&net, getpid());
	ck_assert(fdwait_read(getpid(), c, &net, &f));
	ck_assert_str_eq(f.state, "ESTABLISHED");
	ck_assert_str_eq(f.peer, want);
	alen = sizeof(a);
	ck_assert_int_eq(getsockname(c, (struct sockaddr *)&a, &alen), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%d", ntohs(a.sin_port));
	ck_assert_str_eq(f.local, want);
	close(s);
	close(c);
	close(l);

	snprintf(sock, sizeof(sock), "%s/sock", dir);
	us = socket(AF_UNIX, SOCK_STREAM, 0);
	u.sun_family = AF_UNIX;
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", sock);
	ck_assert_int_eq(bind(us, (struct sockaddr *)&u, sizeof(u)), 0);
	ck_assert_int_eq(listen(us, 1), 0);
	fdwait_net_release(&net);
	fdwait_net_init(&net, getpid());
	ck_assert(fdwait_read(getpid(), us, &net, &f));
	fdwait_net_release(&net);
	ck_assert_str_eq(f.proto, "unix");
	ck_assert_str_eq(f.path, sock);
	ck_assert_str_eq(f.state, "LISTEN");
	close(us);
	unlink(sock);
	unlink(fifo);
	rmdir(dir);

	kid = fork();
	if (!kid) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	ck_assert(kid > 0);
	/* Until exec is done the command line is ours. */
	for (int i = 0; i < 2000; i++) {
		if (fdwait_cmdline(kid, cmd, sizeof(cmd)) &&
		    !strcmp(cmd, "sleep 30"))
			break;
		usleep(1000);
	}
	ck_assert_str_eq(cmd, "sleep 30");
	ck_assert_int_eq(fdwait_child(getpid(), kid), kid);
	ck_assert_int_eq(fdwait_child(getpid(), kid + 100000), 0);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	ck_assert(!fdwait_cmdline(kid, cmd, sizeof(cmd)));
}
END_TEST

static Suite *attach_suite(void)
{
	Suite *s = suite_create("attach");
	TCase *tc = tcase_create("attach");

	tcase_add_test(tc, test_demangle);
	tcase_add_test(tc, test_unwind_jit_name);
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
	tcase_add_test(tc, test_proc_quiet);
	tcase_add_test(tc, test_proc_access_hint);
	tcase_add_test(tc, test_fdwait_net);
	tcase_add_test(tc, test_fdwait_parsers);
	tcase_add_test(tc, test_fdwait_self);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(attach_suite());
}
