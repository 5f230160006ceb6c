/*
 * Unit tests for cli/: escaping of target-controlled strings, the text
 * and JSON writers over a hand-built snapshot, and the commands' option
 * parsing (the process as PID or -p/--pid, py-spy's spellings).
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "cli/commands.h"
#include "cli/dump.h"
#include "cli/record.h"
#include "cli/run.h"
#include "cli/top.h"
#include "cli/stall.h"
#include "cli/watch.h"
#include "common/escape.h"
#include "common/json.h"
#include "cli/out.h"
#include "cli/profile.h"
#include "memreader/mem.h"
#include "attach/rootfs.h"
#include "session/source.h"
#include "common/xalloc.h"

static char *text_of(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	escape_text(&sb, s);
	return strbuf_detach(&sb);
}

static char *json_of(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	escape_json(&sb, s);
	return strbuf_detach(&sb);
}

#define CHECK_ESC(fn, in, want)                  \
	do {                                     \
		char *got_ = fn(in);             \
		ck_assert_str_eq(got_, want);    \
		free(got_);                      \
	} while (0)

START_TEST(test_escape_text)
{
	CHECK_ESC(text_of, "plain", "plain");
	CHECK_ESC(text_of, "caf\xc3\xa9 \xe5\xbe\x85", "caf\xc3\xa9 \xe5\xbe\x85");
	CHECK_ESC(text_of, "\033[2Jboom", "\\x1b[2Jboom");
	CHECK_ESC(text_of, "a\nb\rc\td", "a\\x0ab\\x0dc\\x09d");
	CHECK_ESC(text_of, "\xc2\x9b" "31m", "\\xc2\\x9b31m"); /* C1 CSI */
	CHECK_ESC(text_of, "bad\xff\xfe", "bad\\xff\\xfe");
	/* A lone surrogate carried in its WTF-8 form (see py_str_read) */
	CHECK_ESC(text_of, "\xed\xa0\x80", "\\ud800");
	CHECK_ESC(text_of, "a\xed\xb3\xbf" "b", "a\\udcffb");
	CHECK_ESC(text_of, "\xed\xa0", "\\xed\\xa0");
	CHECK_ESC(text_of, "\xed\x9f\xbf", "\xed\x9f\xbf"); /* U+D7FF */
	CHECK_ESC(text_of, "\xc0\xaf", "\\xc0\\xaf");          /* overlong */
	CHECK_ESC(text_of, "back\\slash", "back\\\\slash");
	CHECK_ESC(text_of, "\x7f", "\\x7f");
	/* A NUL carried as C0 80 (see py_str_read) */
	CHECK_ESC(text_of, "nul\xc0\x80" "byte", "nul\\x00byte");
	CHECK_ESC(text_of, "end\xc0", "end\\xc0");
}
END_TEST

START_TEST(test_escape_json)
{
	CHECK_ESC(json_of, "plain", "\"plain\"");
	CHECK_ESC(json_of, "q\"b\\", "\"q\\\"b\\\\\"");
	CHECK_ESC(json_of, "\033x\n", "\"\\u001bx\\n\"");
	CHECK_ESC(json_of, "\xff", "\"\\ufffd\"");
	CHECK_ESC(json_of, "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	CHECK_ESC(json_of, NULL, "null");
	CHECK_ESC(json_of, "nul\xc0\x80" "byte", "\"nul\\u0000byte\"");
	CHECK_ESC(json_of, "\xc0", "\"\\ufffd\"");
	CHECK_ESC(json_of, "s\xed\xb3\xbf", "\"s\\udcff\"");
	CHECK_ESC(json_of, "\xed\xb3", "\"\\ufffd\\ufffd\"");
}
END_TEST

static struct snapshot *sample(void)
{
	struct snap_local *l;
	size_t cap = 0;
	struct snapshot *s = snap_new();
	struct snap_thread *t;
	struct snap_frame *f;

	s->pid = 4242;
	s->version = xstrdup("3.12.1");
	s->executable = xstrdup("/usr/bin/python3.12");
	s->paused = true;
	t = snap_add_thread(s);
	t->thread_id = 140000000000001ULL;
	t->native_id = 4242;
	t->name = xstrdup("Main\033[31mThread");
	t->holds_gil = true;
	t->os.state = 'S';
	snprintf(t->os.syscall, sizeof(t->os.syscall), "futex");
	t->gil = SNAP_GIL_HOLDS;
	t->trace = xstrdup("Tracer.trace");
	f = snap_add_frame(t);
	f->function = xstrdup("Worker.run");
	f->filename = xstrdup("/app/w.py");
	f->line = 17;
	f->end_line = 17;
	f->column = 4;
	f->end_column = 10;
	l = snap_frame_add_local(f, &cap);
	l->name = xstrdup("self");
	l->kind = SNAP_LOCAL_ARG;
	l->type = xstrdup("Worker");
	l->repr = xstrdup("<Worker at 0x10>");
	l = snap_frame_add_local(f, &cap);
	l->name = xstrdup("path");
	l->kind = SNAP_LOCAL_CELL;
	l->type = xstrdup("str");
	l->repr = xstrdup("'C:\\dir\x1b'");
	f = snap_add_frame(t);
	f->function = xstrdup("_find_and_load");
	f->filename = xstrdup("<frozen importlib._bootstrap>");
	f->line = 1360;
	f->importing = xstrdup("pkg.mod");
	f = snap_add_frame(t);
	f->function = xstrdup("_gcd_import");
	f->filename = xstrdup("<frozen importlib._bootstrap>");
	f->line = 1387;
	f = snap_add_frame(t);
	f->function = xstrdup("<module>");
	f->filename = xstrdup("/app/\nmain.py");
	f->line = -1;
	t = snap_add_thread(s);
	t->thread_id = 7;
	t->error = xstrdup("frame chain is broken");
	return s;
}

/* What a blocked system call waits on: one per kind, text and JSON, its
 * strings escaped. */
START_TEST(test_waits_on)
{
	struct snapshot *s = sample();
	struct snap_thread *t = &s->threads[0];
	struct out_opts o = { 0 };
	struct snap_wait *w;
	struct strbuf sb;

	strbuf_init(&sb);
	free(t->trace); /* the state line then ends with the wait */
	t->trace = NULL;
	free(t->frames[1].importing);
	t->frames[1].importing = NULL;
	snprintf(t->os.syscall, sizeof(t->os.syscall), "recvfrom");
	w = t->waits_on = xcalloc(1, sizeof(*w));
	w->kind = SNAP_WAIT_SOCKET;
	w->fd = 5;
	w->inode = 99;
	w->proto = xstrdup("tcp");
	w->local = xstrdup("127.0.0.1:41234");
	w->peer = xstrdup("10.0.0.5:5432");
	w->state = xstrdup("ESTABLISHED");
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in recvfrom on TCP "
				     "127.0.0.1:41234 -> 10.0.0.5:5432 (fd 5)\n"));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"syscall\": \"recvfrom\", "
				     "\"waits_on\": {\"kind\": \"socket\", "
				     "\"fd\": 5, \"proto\": \"tcp\", \"local\": "
				     "\"127.0.0.1:41234\", \"peer\": "
				     "\"10.0.0.5:5432\", \"state\": "
				     "\"ESTABLISHED\", \"path\": null, "
				     "\"inode\": 99}, "));

	free(w->state);
	w->state = xstrdup("LISTEN");
	free(w->peer);
	w->peer = NULL;
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, " on TCP 127.0.0.1:41234 "
				     "(listening, fd 5)\n"));
	free(w->proto);
	w->proto = xstrdup("unix");
	w->path = xstrdup("/run/a\033]0;x\a.sock");
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, " on unix socket /run/a\\x1b]0;"
				     "x\\x07.sock (listening, fd 5)\n"));
	snap_wait_free(w);

	snprintf(t->os.syscall, sizeof(t->os.syscall), "read");
	w = t->waits_on = xcalloc(1, sizeof(*w));
	w->kind = SNAP_WAIT_PIPE;
	w->fd = 3;
	w->inode = 1234;
	w->nends = 2;
	w->ends = xcalloc(2, sizeof(*w->ends));
	w->ends[0].pid = 17;
	w->ends[0].comm = xstrdup("py\nthon");
	w->ends[1].pid = 18;
	w->ends_more = true;
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in read on pipe:[1234] "
				     "(fd 3), other end held by 17 "
				     "(py\\x0athon), 18, ...\n"));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"waits_on\": {\"kind\": "
				     "\"pipe\", \"fd\": 3, \"inode\": 1234, "
				     "\"other_end\": [{\"pid\": 17, \"comm\": "
				     "\"py\\nthon\"}, {\"pid\": 18, \"comm\": "
				     "null}], \"other_end_truncated\": true}"));
	w->kind = SNAP_WAIT_FIFO;
	w->path = xstrdup("/tmp/f");
	free(w->ends[0].comm);
	free(w->ends);
	w->ends = NULL;
	w->nends = 0;
	w->ends_more = false;
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in read on FIFO /tmp/f "
				     "(fd 3), other end held by no process "
				     "snakescope may see\n"));
	free(w->path);
	w->path = NULL;
	w->kind = SNAP_WAIT_FILE;
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in read on fd 3\n"));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"waits_on\": {\"kind\": "
				     "\"file\", \"fd\": 3, \"path\": null}"));
	snap_wait_free(w);

	snprintf(t->os.syscall, sizeof(t->os.syscall), "wait4");
	w = t->waits_on = xcalloc(1, sizeof(*w));
	w->kind = SNAP_WAIT_CHILD;
	w->fd = -1;
	w->pid = 4300;
	w->cmdline = xstrdup("python3 -c pass");
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in wait4 for child 4300 "
				     "(python3 -c pass)\n"));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"waits_on\": {\"kind\": "
				     "\"child\", \"pid\": 4300, \"cmdline\": "
				     "\"python3 -c pass\"}"));
	w->pid = -1;
	free(w->cmdline);
	w->cmdline = NULL;
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "blocked in wait4 for any "
				     "child\n"));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"waits_on\": {\"kind\": "
				     "\"child\", \"pid\": null, \"cmdline\": "
				     "null}"));
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

START_TEST(test_writers)
{
	struct snapshot *s = sample();
	struct out_opts o = { .color = false };
	struct strbuf sb;

	strbuf_init(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "Thread 140000000000001 "
				     "\"Main\\x1b[31mThread\" (tid 4242) holds the GIL"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "File \"/app/w.py\", line 17, in Worker.run"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "File \"/app/\\x0amain.py\", line ?, in <module>"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "stack incomplete: frame chain is broken"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "  State: idle, blocked in futex; "
				     "importing 'pkg.mod'; traced by Tracer.trace\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "      Arguments:\n"
				     "        self (Worker) = <Worker at 0x10>\n"
				     "      Locals:\n"
				     "        path (str) = 'C:\\dir\\x1b'  [cell]\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\n    importing 'pkg.mod'\n    File"));
	ck_assert_ptr_null(strstr(sb.buf, "_gcd_import"));
	ck_assert_ptr_null(strchr(sb.buf, '\033'));

	strbuf_reset(&sb);
	o.full = true;
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "line 1387, in _gcd_import"));
	ck_assert_ptr_null(strstr(sb.buf, "    importing"));

	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"pid\": 4242"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"version\": \"3.12.1\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"libpython\": null"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"thread_id\": 140000000000001, "
				     "\"native_id\": 4242, \"ns_native_id\": null, "
				     "\"name\": \"Main\\u001b[31mThread\", "
				     "\"holds_gil\": true"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"schema_version\": 1, "
				     "\"host\": null, \"pid\": 4242, "
				     "\"ns_pid\": null,"));

	/* A live process's host name, escaped like any string. */
	s->host = xstrdup("node\03301");
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"host\": \"node\\u001b01\", "));
	free(s->host);
	s->host = NULL;

	/* How consistent the read is: said in both outputs (--nonstop). */
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"consistency\": \"instant\""));
	s->paused = false;
	s->per_thread = true;
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"paused\": false,\n"
				     " \"consistency\": \"per-thread\","));
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\nRead thread by thread "
				     "(--nonstop): each thread's stack is of "
				     "its own instant"));
	ck_assert_ptr_null(strstr(sb.buf, "read without pausing"));
	s->per_thread = false;
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"consistency\": \"unpaused\""));
	s->paused = true;

	/* A target in a container: its own numbers next to ours. */
	s->ns_pid = 1;
	s->threads[0].ns_native_id = 7;
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"pid\": 4242, \"ns_pid\": 1,"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"native_id\": 4242, "
				     "\"ns_native_id\": 7, "));
	strbuf_reset(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf, "Process 4242 (pid 1 in its "
				     "namespace): "));
	ck_assert_ptr_nonnull(strstr(sb.buf, "(tid 4242, 7 in its namespace)"));
	s->ns_pid = 0;
	s->threads[0].ns_native_id = -1;
	strbuf_reset(&sb);
	out_json_dump(&sb, s, false, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"kind\": \"python\", \"function\": \"Worker.run\", "
				     "\"filename\": \"/app/w.py\", \"line\": 17, "
				     "\"end_line\": 17, \"column\": 4, "
				     "\"end_column\": 10}"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"importing\": \"pkg.mod\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"state\": {\"os_state\": "
				     "\"sleeping\", \"on_cpu\": false, "
				     "\"syscall\": \"futex\", \"waits_on\": null, "
				     "\"gil\": \"holds\", "
				     "\"active\": false, \"gc\": false, "
				     "\"trace\": \"Tracer.trace\", \"profile\": null, "
				     "\"monitoring\": [], \"eval_hook\": false}"));
	ck_assert_ptr_null(strstr(sb.buf, "\"locals\""));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, true, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"name\": \"path\", \"kind\": "
				     "\"cell\", \"type\": \"str\", \"repr\": "
				     "\"'C:\\\\dir\\u001b'\"}"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"line\": null"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"native_id\": null"));
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

/* watch --json's form: the dump's members in a compact writer, after
 * members of the caller's own; one line, no whitespace outside strings. */
START_TEST(test_json_members_compact)
{
	struct snapshot *s = sample();
	struct strbuf sb;
	struct json j;

	strbuf_init(&sb);
	json_init(&j, &sb, JSON_COMPACT);
	json_begin_object(&j);
	json_key_uint(&j, "dump", 3);
	out_json_members(&j, s, true, false);
	json_end_object(&j);
	json_finish(&j);
	ck_assert_ptr_null(strchr(sb.buf, '\n'));
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"dump\":3,\"schema_version\":1,"
				     "\"host\":null,\"pid\":4242,"
				     "\"ns_pid\":null,\"python\":{\"version\":"
				     "\"3.12.1\","));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"frames\":[{\"kind\":\"python\","
				     "\"function\":\"Worker.run\",\"filename\":"
				     "\"/app/w.py\",\"line\":17,"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"locals\":[{\"name\":\"self\","));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"filename\":\"/app/\\nmain.py\""));
	ck_assert(str_ends_with(sb.buf, "\"hangs\":[],\"verdict\":\"none\"}"));
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

/* Source lines come from the file as the target sees it, with carets
 * under the executing expression (code-point columns from UTF-8 byte
 * offsets), none when they would cover the whole line. */
/* This process's own files, opened as a session opens a target's. */
static int own_source(void *arg, const char *name, uint64_t max, int *fd)
{
	(void)arg;
	return rootfs_open(getpid(), name, max, fd, NULL);
}

START_TEST(test_source_carets)
{
	char path[] = "/tmp/snakescope-check-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] =
		"def f():\n"
		"    x = g('\xc3\xa9t\xc3\xa9') + ev.wait()\n"
		"    ev.wait()\n";
	struct snapshot *s = snap_new();
	struct snap_thread *t = snap_add_thread(s);
	struct snap_frame *f;
	struct out_opts o = { .color = false };
	struct strbuf sb;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	f = snap_add_frame(t);
	f->function = xstrdup("f");
	f->filename = xstrdup(path);
	f->line = f->end_line = 2;
	f->column = 21; /* "ev.wait()" after two 2-byte characters */
	f->end_column = 30;
	f = snap_add_frame(t);
	f->function = xstrdup("f");
	f->filename = xstrdup(path);
	f->line = f->end_line = 3;
	f->column = 4;
	f->end_column = 13;
	f = snap_add_frame(t);
	f->function = xstrdup("<module>");
	f->filename = xstrdup("/nonexistent/x.py");
	f->line = 1;
	strbuf_init(&sb);
	o.source = source_new(own_source, NULL);
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_nonnull(strstr(sb.buf,
		"        x = g('\xc3\xa9t\xc3\xa9') + ev.wait()\n"
		"                       ^^^^^^^^^\n"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "line 3, in f\n        ev.wait()\n    File"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "in <module>\n        (source unreadable)\n"));
	source_free(o.source);
	strbuf_release(&sb);
	snap_free(s);
	unlink(path);
}
END_TEST

START_TEST(test_parse_pid)
{
	pid_t pid;

	ck_assert(parse_pid("1234", &pid));
	ck_assert_int_eq(pid, 1234);
	ck_assert(!parse_pid("0", &pid));
	ck_assert(!parse_pid("-5", &pid));
	ck_assert(!parse_pid("12abc", &pid));
	ck_assert(!parse_pid("", &pid));
	ck_assert(!parse_pid("99999999999999999999", &pid));
	ck_assert(!parse_pid(" 12", &pid));
}
END_TEST

START_TEST(test_parse_seconds)
{
	double v;

	ck_assert(parse_seconds("10s", &v) && v == 10);
	ck_assert(parse_seconds("0.2", &v) && v > 0.199 && v < 0.201);
	ck_assert(parse_seconds("500ms", &v) && v > 0.499 && v < 0.501);
	ck_assert(parse_seconds("2m", &v) && v == 120);
	ck_assert(parse_seconds("1h", &v) && v == 3600);
	ck_assert(!parse_seconds("0", &v));
	ck_assert(!parse_seconds("-1", &v));
	ck_assert(!parse_seconds("5x", &v));
	ck_assert(!parse_seconds("", &v));
	ck_assert(!parse_seconds("s", &v));
}
END_TEST

/* A sample of two threads: "main" in outer -> hot, "w" in outer -> cold. */
static void fake_sample(struct sample *s, const char *leaf2)
{
	static struct sample_thread th[2];
	static struct sample_frame fr[4];

	fr[0] = (struct sample_frame){ .code_key = 2, .line = 10,
		.function = "hot", .filename = "a.py" };
	fr[1] = (struct sample_frame){ .code_key = 1, .line = 3,
		.function = "outer;x", .filename = "a.py" };
	fr[2] = (struct sample_frame){ .code_key = 3, .line = 20,
		.function = leaf2, .filename = "b\nc.py" };
	fr[3] = (struct sample_frame){ .code_key = 1, .line = 3,
		.function = "outer;x", .filename = "a.py" };
	th[0] = (struct sample_thread){ .thread_id = 7, .native_id = 70,
		.name = "main", .first = 0, .nframes = 2 };
	th[1] = (struct sample_thread){ .thread_id = 8, .native_id = 80,
		.name = "w\033]", .first = 2, .nframes = 2 };
	s->threads = th;
	s->nthreads = 2;
	s->frames = fr;
	s->nframes = 4;
}

static char *write_to_string(const struct profile *pf, int fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	if (fmt == 0)
		ck_assert_int_eq(profile_write_folded(pf, false, f), 0);
	else if (fmt == 1)
		ck_assert_int_eq(profile_write_folded(pf, true, f), 0);
	else
		ck_assert_int_eq(profile_write_speedscope(pf, false, "t", 0.01,
							  f), 0);
	fclose(f);
	return buf;
}

START_TEST(test_profile_writers)
{
	struct profile pf;
	struct sample s;
	char *out;

	/* Merged threads: identical stacks add up; ';' in a name is not a
	 * separator; controls are escaped. */
	profile_init(&pf, false, false);
	fake_sample(&s, "cold");
	profile_add(&pf, 42, &s);
	profile_add(&pf, 42, &s);
	fake_sample(&s, "hot");
	s.threads[1].nframes = 0; /* no Python frame: left out */
	profile_add(&pf, 42, &s);
	out = write_to_string(&pf, 0);
	ck_assert_str_eq(out,
		"outer:x (a.py:3);hot (a.py:10) 3\n"
		"outer:x (a.py:3);cold (b\\x0ac.py:20) 2\n");
	free(out);
	out = write_to_string(&pf, 1);
	ck_assert_ptr_nonnull(strstr(out, "process 42;outer:x (a.py:3);hot (a.py:10) 3\n"));
	free(out);
	profile_release(&pf);

	/* By thread, with the time order speedscope needs. */
	profile_init(&pf, true, true);
	fake_sample(&s, "cold");
	profile_add(&pf, 42, &s);
	profile_add(&pf, 42, &s);
	out = write_to_string(&pf, 0);
	ck_assert_ptr_nonnull(strstr(out, "thread \"main\" (70);outer:x (a.py:3);hot (a.py:10) 2\n"));
	ck_assert_ptr_nonnull(strstr(out, "thread \"w\\x1b]\" (80);"));
	free(out);
	out = write_to_string(&pf, 2);
	ck_assert_ptr_nonnull(strstr(out, "\"shared\":{\"frames\":[{\"name\":\"hot\",\"file\":\"a.py\",\"line\":10},{\"name\":\"outer;x\""));
	/* root first; one run of two samples */
	ck_assert_ptr_nonnull(strstr(out, "\"name\":\"thread \\\"main\\\" (70)\",\"unit\":\"seconds\",\"startValue\":0,\"samples\":[[1,0]],\"weights\":[0.02],\"endValue\":0.02}"));
	free(out);
	profile_release(&pf);
}
END_TEST

#define ARGV(...)                                                   \
	char *a[] = { __VA_ARGS__, NULL };                          \
	int argc_ = (int)(sizeof(a) / sizeof(a[0])) - 1

/* Boxes of a flame graph: (data-s, data-n, data-d) of each, in order. */
struct flame_box {
	unsigned long s, n;
	int d;
};

static size_t flame_boxes(const char *svg, struct flame_box *b, size_t max)
{
	size_t n = 0;

	for (const char *p = svg; (p = strstr(p, "data-s=\"")) && n < max;
	     p++) {
		ck_assert_int_eq(sscanf(p, "data-s=\"%lu\" data-n=\"%lu\" "
					"data-d=\"%d\"", &b[n].s, &b[n].n,
					&b[n].d), 3);
		n++;
	}
	return n;
}

/* Valid UTF-8, and no control character but newline. */
static void assert_clean_text(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t len = utf8_seq_len(u);

		ck_assert_msg(len, "invalid UTF-8 at offset %zu",
			      (size_t)(u - (const unsigned char *)s));
		ck_assert_msg(len > 1 || *u >= 0x20 || *u == '\n',
			      "control 0x%02x at offset %zu", *u,
			      (size_t)(u - (const unsigned char *)s));
		u += len;
	}
}

/* python3's XML parser takes the file (skipped without python3). */
static void assert_xml_parses(const char *text)
{
	char path[] = "/tmp/check_flame_XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;
	char cmd[256];

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import sys, xml.dom.minidom; "
		 "xml.dom.minidom.parse(sys.argv[1])' %s 2>/dev/null", path);
	rc = system(cmd);
	unlink(path);
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
		return; /* no python3 */
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
		      "python3's XML parser refused the flame graph");
}

static char *flame_to_string(const struct profile *pf, bool with_pid)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(profile_write_flamegraph(pf, with_pid,
						  "t <&> \"x\"", f), 0);
	fclose(f);
	return buf;
}

START_TEST(test_flame_writer)
{
	/* Every kind of name the target may give, on a leaf each. */
	static const char *const hostile[] = {
		"a<b&c\"d'e>f", "ctl\001\033[31m\n\r\t", "bad\xff\xfe utf8",
		"trunc\xe2\x82", "nonchar\xef\xbf\xbf\xef\xbf\xbe",
		"surrogate\xed\xa0\x80", "nul\xc0\x80", "cdata]]>end",
		"<!--", "&amp;",
	};
	struct sample_thread th[1];
	struct sample_frame fr[2];
	struct sample s = { .threads = th, .nthreads = 1, .frames = fr,
			    .nframes = 2 };
	struct flame_box b[64];
	struct profile pf;
	unsigned long sum;
	size_t nb, total = 0;
	char *out;

	profile_init(&pf, false, false);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		fr[0] = (struct sample_frame){ .code_key = 10 + (uint32_t)i,
			.line = 5, .function = hostile[i],
			.filename = hostile[(i + 1) % 10] };
		fr[1] = (struct sample_frame){ .code_key = 1, .line = 3,
			.function = "outer", .filename = "a.py" };
		th[0] = (struct sample_thread){ .thread_id = 7,
			.native_id = 70, .name = "main", .nframes = 2 };
		/* leaf i gets i + 1 samples */
		for (size_t k = 0; k <= i; k++, total++)
			profile_add(&pf, 42, &s);
	}
	out = flame_to_string(&pf, false);
	ck_assert(!strncmp(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36));
	ck_assert_ptr_nonnull(strstr(out, "</script>\n</svg>\n"));
	assert_clean_text(out);
	assert_xml_parses(out);
	/* The CDATA ends once: no name ends it. */
	ck_assert_ptr_eq(strstr(out, "]]>"), strrchr(out, ']') - 1);
	ck_assert_ptr_nonnull(strstr(out, "<text id=\"title\" x=\"600\" y=\"24\" "
				     "text-anchor=\"middle\">t &lt;&amp;&gt; "
				     "&quot;x&quot;</text>"));
	/* Titles: the frame as the folded format names it, samples, share. */
	ck_assert_ptr_nonnull(strstr(out, "<title>a&lt;b&amp;c&quot;d&#39;e&gt;f "
				     "(ctl\\x01\\x1b[31m\\x0a\\x0d\\x09:5) "
				     "(1 sample, 1.82%)</title>"));
	ck_assert_ptr_nonnull(strstr(out, "<title>bad\\xff\\xfe utf8 "));
	ck_assert_ptr_nonnull(strstr(out, "<title>nonchar\\uffff\\ufffe "));
	ck_assert_ptr_nonnull(strstr(out, "<title>surrogate\\ud800 "));
	ck_assert_ptr_nonnull(strstr(out, "<title>cdata]]&gt;end "));
	ck_assert_ptr_nonnull(strstr(out, "<title>&amp;amp; "));
	/* outlined when wide enough to be told apart */
	ck_assert_ptr_nonnull(strstr(out, "<g class=\"s\"><title>outer (a.py:3) "
				     "(55 samples, 100.00%)</title>"));
	ck_assert_ptr_nonnull(strstr(out, "<title>all (55 samples, 100.00%)"));
	ck_assert_ptr_nonnull(strstr(out, ">55 stacks sampled; click a box"));
	/* Widths: the leaves tile their parent, which fills the root. */
	nb = flame_boxes(out, b, 64);
	ck_assert_uint_eq(nb, 12);
	sum = 0;
	for (size_t i = 0; i < nb; i++) {
		if (b[i].d == 2) {
			ck_assert_uint_eq(b[i].s, sum); /* in order, no gap */
			sum += b[i].n;
		}
		if (b[i].d < 2)
			ck_assert(b[i].s == 0 && b[i].n == total);
	}
	ck_assert_uint_eq(sum, total);
	free(out);
	profile_release(&pf);
}
END_TEST

START_TEST(test_flame_sections)
{
	struct profile pf;
	struct sample s;
	struct flame_box b[64];
	char *out, *second;
	size_t nb;

	/* One section per thread with by_thread, each its own width. */
	profile_init(&pf, true, false);
	fake_sample(&s, "cold");
	profile_add(&pf, 42, &s);
	s.threads[1].nframes = 0;
	profile_add(&pf, 42, &s);
	profile_add(&pf, 42, &s);
	out = flame_to_string(&pf, false);
	assert_clean_text(out);
	assert_xml_parses(out);
	second = strstr(out, "<g class=\"section\" data-total=\"1\">");
	ck_assert_ptr_nonnull(strstr(out, "<g class=\"section\" data-total=\"3\">"));
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_nonnull(strstr(out, "<title>thread &quot;main&quot; (70) "
				     "(3 samples, 75.00%)</title>"));
	ck_assert_ptr_nonnull(strstr(second, "<title>thread &quot;w\\x1b]&quot; "
				     "(80) (1 sample, 25.00%)</title><rect "
				     "x=\"10.0\" y=\""));
	ck_assert_ptr_nonnull(strstr(second, "width=\"1180.0\""));
	nb = flame_boxes(out, b, 64);
	ck_assert_uint_eq(nb, 6);
	free(out);
	profile_release(&pf);

	/* --subprocesses: a section per process. */
	profile_init(&pf, false, false);
	fake_sample(&s, "cold");
	profile_add(&pf, 43, &s);
	profile_add(&pf, 42, &s);
	out = flame_to_string(&pf, true);
	assert_xml_parses(out);
	second = strstr(out, "<title>process 43 (2 samples, 50.00%)</title>");
	ck_assert_ptr_nonnull(second);
	ck_assert(strstr(out, "<title>process 42 (2 samples, 50.00%)</title>") <
		  second); /* in order of PID */
	ck_assert_uint_eq(flame_boxes(out, b, 64), 8);
	free(out);
	profile_release(&pf);

	/* Nothing recorded: still a picture, which says so. */
	profile_init(&pf, false, false);
	out = flame_to_string(&pf, false);
	assert_xml_parses(out);
	ck_assert_ptr_nonnull(strstr(out, ">0 stacks sampled; nothing was recorded<"));
	free(out);
	profile_release(&pf);
}
END_TEST

START_TEST(test_flame_narrow)
{
	/* 10,000 one-sample leaves and one of 20,000: a one-sample box is
	 * 0.04 px wide, left out and counted (a million samples: in
	 * bench/bench-writers.c, too slow under valgrind). */
	struct sample_thread th[1];
	struct sample_frame fr[1];
	struct sample s = { .threads = th, .nthreads = 1, .frames = fr,
			    .nframes = 1 };
	struct profile pf;
	char name[32], *out;

	profile_init(&pf, false, false);
	th[0] = (struct sample_thread){ .thread_id = 7, .native_id = 70,
					.nframes = 1 };
	for (uint32_t i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		fr[0] = (struct sample_frame){ .code_key = i + 1, .line = 1,
			.function = name, .filename = "a.py" };
		profile_add(&pf, 42, &s);
	}
	fr[0] = (struct sample_frame){ .code_key = 999999, .line = 1,
		.function = "big", .filename = "a.py" };
	for (uint32_t i = 0; i < 20000; i++)
		profile_add(&pf, 42, &s);
	out = flame_to_string(&pf, false);
	ck_assert_ptr_nonnull(strstr(out, ">30000 stacks sampled; 10000 boxes "
				     "narrower than 0.1 px left out (the folded "
				     "format keeps them); click"));
	ck_assert_ptr_nonnull(strstr(out, "<title>big (a.py:1) (20000 "
				     "samples, 66.67%)</title>"));
	ck_assert_ptr_null(strstr(out, "<title>f1 "));
	ck_assert_ptr_nonnull(strstr(out, "<g class=\"s\"><title>big "));
	free(out);
	profile_release(&pf);
}
END_TEST

START_TEST(test_flame_colors)
{
	char a[8], b[8], c[8], d[8], e[8];

	/* The same function, the same colour; another kind, another hue. */
	flame_color(PROF_PYTHON, false, "hot", a);
	flame_color(PROF_PYTHON, false, "hot", b);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "#f7d53c"); /* stable from file to file */
	flame_color(PROF_PYTHON, false, "cold", c);
	ck_assert_str_ne(a, c);
	flame_color(PROF_NATIVE, false, "hot", c);
	flame_color(PROF_INTERNAL, false, "hot", d);
	flame_color(PROF_PYTHON, true, "hot", e);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(c, d);
	ck_assert_str_ne(a, e);
	/* Python frames are warm (red high), native ones blue. */
	ck_assert(strtoul((char[3]){ a[1], a[2], 0 }, NULL, 16) >= 215);
	ck_assert(strtoul((char[3]){ c[5], c[6], 0 }, NULL, 16) >= 200);
	/* idle: a grey */
	ck_assert(e[1] == e[3] && e[2] == e[4]);
}
END_TEST

START_TEST(test_record_format_names)
{
	struct record_opts o;
	pid_t pid = 0;

	ck_assert_int_eq(record_format_of_name("profile.svg"), RECORD_FLAMEGRAPH);
	ck_assert_int_eq(record_format_of_name("/a/b.SVG"), RECORD_FLAMEGRAPH);
	ck_assert_int_eq(record_format_of_name("p.speedscope.json"),
			 RECORD_SPEEDSCOPE);
	ck_assert_int_eq(record_format_of_name("p.json"), RECORD_JSON);
	ck_assert_int_eq(record_format_of_name("p.jsonl"), RECORD_JSON);
	ck_assert_int_eq(record_format_of_name("p.folded"), RECORD_FOLDED);
	ck_assert_int_eq(record_format_of_name("p.txt"), RECORD_FOLDED);
	ck_assert_int_eq(record_format_of_name("p.data"), -1);
	ck_assert_int_eq(record_format_of_name(".svg"), -1); /* no name */
	ck_assert_int_eq(record_format_of_name("svg"), -1);
	ck_assert_str_eq(record_format_name(RECORD_FLAMEGRAPH), "flamegraph");
	ck_assert_str_eq(record_format_name(RECORD_FOLDED), "folded");
	{
		ARGV("record", "-o", "x.svg", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_FLAMEGRAPH);
	}
	{
		ARGV("record", "-o", "x.speedscope.json", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_SPEEDSCOPE);
	}
	{
		ARGV("record", "-o", "x.data", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_FOLDED);
	}
	{
		ARGV("record", "-o", "-", "--format", "flamegraph", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_FLAMEGRAPH);
	}
	{
		/* said twice, the same */
		ARGV("record", "-o", "x.svg", "-f", "flamegraph", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_FLAMEGRAPH);
	}
	{
		ARGV("record", "-o", "x.txt", "-f", "raw", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_FOLDED);
	}
	{
		ARGV("record", "-o", "x.data", "-f", "speedscope", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_SPEEDSCOPE);
	}
	{
		/* py-spy's habit: a speedscope file is JSON too */
		ARGV("record", "-f", "speedscope", "-o", "profile.json", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(o.format, RECORD_SPEEDSCOPE);
	}
	ck_assert(record_format_fits_name(RECORD_SPEEDSCOPE, "p.json"));
	ck_assert(record_format_fits_name(RECORD_JSON, "p.json"));
	ck_assert(!record_format_fits_name(RECORD_FLAMEGRAPH, "p.json"));
	ck_assert(!record_format_fits_name(RECORD_FOLDED, "p.svg"));
	ck_assert(record_format_fits_name(RECORD_FLAMEGRAPH, "p.data"));
	/* Contradictions are refused. */
	{
		ARGV("record", "--format", "folded", "-o", "x.svg", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "x.speedscope.json", "-f", "json", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "x.folded", "-f", "flamegraph", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "x.json", "-f", "folded", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_read_spans)
{
	struct mem_reader *m = mem_image_new();
	uint8_t data[64], a[8], b[8], c[8];
	struct mem_span sp[3] = {
		{ 0x1000, a, 8, false },
		{ 0x9000, b, 8, false }, /* not mapped */
		{ 0x1038, c, 8, false },
	};

	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)i;
	mem_image_add(m, 0x1000, data, sizeof(data));
	ck_assert_int_eq(mem_read_spans(m, sp, 3), 2);
	ck_assert(sp[0].ok && !sp[1].ok && sp[2].ok);
	ck_assert_int_eq(a[1], 1);
	ck_assert_int_eq(c[0], 0x38);
	mem_reader_free(m);
}
END_TEST

/* A command line as getopt wants it (it permutes the pointers): argc and
 * a NULL-terminated argv named a. */
START_TEST(test_take_pid)
{
	pid_t pid = 0;

	{
		ARGV("dump", "42");
		ck_assert_int_eq(take_pid("dump", NULL, argc_, a, 1, &pid), 0);
		ck_assert_int_eq(pid, 42);
	}
	{
		ARGV("dump");
		ck_assert_int_eq(take_pid("dump", "43", argc_, a, 1, &pid), 0);
		ck_assert_int_eq(pid, 43);
		ck_assert_int_eq(take_pid("dump", NULL, argc_, a, 1, &pid),
				 EXIT_USAGE);
		ck_assert_int_eq(take_pid("dump", "x", argc_, a, 1, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "42", "43");
		ck_assert_int_eq(take_pid("dump", NULL, argc_, a, 1, &pid),
				 EXIT_USAGE);
		ck_assert_int_eq(take_pid("dump", NULL, argc_, a, 2, &pid), 0);
		ck_assert_int_eq(pid, 43);
		ck_assert_int_eq(take_pid("dump", "44", argc_, a, 2, &pid),
				 EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_program_sep)
{
	{
		ARGV("record", "-o", "f", "--", "python3", "--", "x");
		ck_assert_int_eq(program_sep(argc_, a), 3);
		ck_assert(run_starts_program(argc_, a));
	}
	{
		ARGV("record", "-o", "f", "12");
		ck_assert_int_eq(program_sep(argc_, a), argc_);
		ck_assert(!run_starts_program(argc_, a));
	}
	{
		ARGV("dump", "--", "12");
		ck_assert(!run_starts_program(argc_, a));
	}
	{
		ARGV("run", "dump");
		ck_assert(run_starts_program(argc_, a));
	}
	{
		ARGV("top", "--once", "--", "python3");
		ck_assert(run_starts_program(argc_, a));
	}
}
END_TEST

/* Three workers at one line waiting on one lock, and a main thread: the
 * grouped text tells the stack once and the waiters in one line;
 * --no-group tells each. */
static struct snapshot *pool(void)
{
	struct snapshot *s = snap_new();

	s->pid = 42;
	s->version = xstrdup("3.12.1");
	s->paused = true;
	s->locks_read = true;
	s->locks = xcalloc(1, sizeof(*s->locks));
	s->nlocks = 1;
	s->locks[0].address = 0x1000;
	s->locks[0].type = SNAP_LOCK_QUEUE;
	for (int i = 0; i < 4; i++) {
		struct snap_thread *t = snap_add_thread(s);
		struct snap_frame *f = snap_add_frame(t);
		char name[16];

		snprintf(name, sizeof(name), i ? "w%d" : "MainThread", i - 1);
		t->thread_id = 7000 + (uint64_t)i;
		t->native_id = 100 + i;
		t->ns_native_id = -1;
		t->name = xstrdup(name);
		t->gil = SNAP_GIL_NONE;
		t->os.state = 'S';
		strcpy(t->os.syscall, "futex");
		f->function = xstrdup(i ? "worker" : "main");
		f->filename = xstrdup("pool.py");
		f->line = i ? 11 : 20;
		if (i) {
			struct snap_lock *l = &s->locks[0];
			struct snap_lock_waiter *w;

			t->waits_for = 0x1000;
			l->waiters = xgrow(l->waiters, &l->waiters_cap,
					   l->nwaiters + 1, sizeof(*l->waiters));
			w = &l->waiters[l->nwaiters++];
			memset(w, 0, sizeof(*w));
			w->who.id = t->thread_id;
			w->at.function = xstrdup("worker");
			w->at.filename = xstrdup("pool.py");
			w->at.line = 11;
		}
	}
	return s;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A wait across processes: the deadlock (a cycle back to the dumped
 * process) and the likely hang (a cycle of others behind it), in the text
 * and JSON, the verdict, and a peer's command line escaped. */
START_TEST(test_proc_waits)
{
	for (int hang = 0; hang < 2; hang++) {
		struct snapshot *s = pool();
		struct snap_proc_wait *w;
		struct out_opts o = { 0 };
		struct strbuf sb;

		strbuf_init(&sb);
		w = s->proc_waits = xcalloc(1, sizeof(*w));
		s->nproc_waits = 1;
		w->n = 2 + hang;
		w->deadlock = !hang;
		w->cycle_from = hang ? 1 : 0;
		w->steps = xcalloc(w->n, sizeof(*w->steps));
		w->steps[0] = (struct snap_proc_step){
			.pid = 42, .tid = 100, .thread_id = 7000,
			.syscall = xstrdup("wait4"), .kind = SNAP_WAIT_CHILD,
			.fd = -1, .waits_for = 43 };
		w->steps[1] = (struct snap_proc_step){
			.pid = 43, .tid = 43, .comm = xstrdup("cat"),
			.cmdline = xstrdup("cat \033[2Jbig"),
			.syscall = xstrdup("write"), .kind = SNAP_WAIT_PIPE,
			.fd = 1, .inode = 1234, .writes = true,
			.waits_for = hang ? 44 : 42,
			.python = xstrdup("3.11.2"), .nframes = 1 };
		w->steps[1].frames = xcalloc(1, sizeof(struct snap_frame));
		w->steps[1].frames[0] = (struct snap_frame){
			.function = xstrdup("<module>"),
			.filename = xstrdup("<string>"), .line = 4,
			.end_line = -1, .column = -1, .end_column = -1 };
		if (hang)
			w->steps[2] = (struct snap_proc_step){
				.pid = 44, .tid = 45,
				.syscall = xstrdup("read"),
				.kind = SNAP_WAIT_PIPE, .fd = 0, .inode = 99,
				.waits_for = 43 };
		ck_assert_int_eq(snap_verdict(s), hang ?
				 SNAP_VERDICT_LIKELY_HANG :
				 SNAP_VERDICT_DEADLOCK);
		out_text_locks(&sb, s, &o);
		ck_assert_ptr_nonnull(strstr(sb.buf, hang ?
			"Likely hang: a thread waits behind 2 processes that "
			"wait for each other:\n" :
			"Deadlock: 2 processes wait for each other and will "
			"never go on:\n"));
		ck_assert_ptr_nonnull(strstr(sb.buf, "  process 42, thread "
			"\"MainThread\" (TID 100) at pool.py:20 in main, in "
			"wait4, waits for child 43 to exit;\n"));
		ck_assert_ptr_nonnull(strstr(sb.buf, "  process 43 (cat "
			"\\x1b[2Jbig), TID 43, in write to pipe:[1234] (fd 1), "
			"waits for process "));
		ck_assert(strstr(sb.buf, " it.\n    its Python 3.11.2 "
			"stack (most recent call first):\n      File "
			"\"<string>\", line 4, in <module>\n") ||
			strstr(sb.buf, " it;\n    its Python 3.11.2 "
			"stack (most recent call first):\n      File "
			"\"<string>\", line 4, in <module>\n"));
		if (hang)
			ck_assert_ptr_nonnull(strstr(sb.buf, "  process 44, TID "
				"45, in read from pipe:[99] (fd 0), waits for "
				"process 43 to write to it.\n"));
		ck_assert_ptr_null(strchr(sb.buf, '\033'));
		strbuf_reset(&sb);
		out_json_dump(&sb, s, false, false);
		ck_assert_ptr_nonnull(strstr(sb.buf, hang ?
			"{\"kind\": \"process\", \"chain\": [{" :
			"{\"kind\": \"process\", \"cycle\": [{"));
		ck_assert_ptr_nonnull(strstr(sb.buf, "[{\"pid\": 42, \"tid\": 100, \"thread\": "
			"7000, \"comm\": null, \"cmdline\": null, \"syscall\": "
			"\"wait4\", \"waits_on\": \"child\", \"fd\": null, "
			"\"inode\": null, \"writes\": null, \"waits_for\": 43, "
			"\"python\": null, \"frames\": null}"));
		ck_assert_ptr_nonnull(strstr(sb.buf, hang ?
			"\"cycle_from\": 1}" : "\"waits_for\": 42, \"python\": "
			"\"3.11.2\", \"frames\": [{\"kind\": \"python\", "
			"\"function\": \"<module>\", \"filename\": "
			"\"<string>\", \"line\": 4, "));
		ck_assert_ptr_nonnull(strstr(sb.buf, hang ?
			"\"verdict\": \"likely_hang\"" :
			"\"verdict\": \"deadlock\""));
		strbuf_release(&sb);
		snap_free(s);
	}
}
END_TEST

START_TEST(test_grouped_text)
{
	struct snapshot *s = pool();
	struct out_opts o = { 0 };
	struct strbuf sb;

	o.group = true;
	strbuf_init(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_uint_eq(count(sb.buf, "\nThread "), 1);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\n3 threads: \"w0\"-\"w2\" "
				     "(tids 101-103)\n"));
	ck_assert_uint_eq(count(sb.buf, "in worker\n"), 2); /* stack, lock */
	ck_assert_ptr_nonnull(strstr(sb.buf, "waited for by 3 threads "
				     "\"w0\"-\"w2\" (tids 101-103) at pool.py:11"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "(1 group of threads"));
	strbuf_release(&sb);

	o.group = false;
	strbuf_init(&sb);
	out_text_dump(&sb, s, &o);
	ck_assert_uint_eq(count(sb.buf, "\nThread "), 4);
	ck_assert_ptr_null(strstr(sb.buf, "threads:"));
	ck_assert_uint_eq(count(sb.buf, "waited for by thread"), 3);
	strbuf_release(&sb);

	/* out_text_members: runs of names and TIDs, others listed */
	strbuf_init(&sb);
	{
		size_t idx[] = { 0, 1, 3 };

		s->threads[3].native_id = 200;
		out_text_members(&sb, s, idx, 3);
	}
	ck_assert_str_eq(sb.buf, "\"MainThread\", \"w0\", \"w2\" (tids "
			 "100-101, 200)");
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

START_TEST(test_dump_parse)
{
	struct dump_opts d;
	pid_t pid = 0;

	{
		ARGV("dump", "--json", "77");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert_int_eq(pid, 77);
		ck_assert(d.json && d.io.pause);
	}
	{
		ARGV("dump", "-p", "78", "--nonblocking");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert_int_eq(pid, 78);
		ck_assert(!d.io.pause);
	}
	{
		ARGV("dump", "--pid=79", "--no-pause", "--locals");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert_int_eq(pid, 79);
		ck_assert(!d.io.pause && d.io.locals);
	}
	{
		ARGV("deadlock", "--pid", "80", "--nonblocking", "--json");
		ck_assert_int_eq(dump_parse(argc_, a, true, &d, &pid), 0);
		ck_assert_int_eq(pid, 80);
		ck_assert(!d.io.pause && d.json);
	}
	{
		ARGV("dump", "82");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert(d.oo.group);
	}
	{
		ARGV("deadlock", "--no-group", "83");
		ck_assert_int_eq(dump_parse(argc_, a, true, &d, &pid), 0);
		ck_assert(!d.oo.group);
	}
	{
		ARGV("deadlock", "--locals", "80");
		ck_assert_int_eq(dump_parse(argc_, a, true, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "-p", "81", "81");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--native", "--nonblocking", "-p", "81");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--nonblocking");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--json", "90", "91", "92");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert_int_eq(pid, 90);
		ck_assert_uint_eq(d.nmore_pids, 2);
		ck_assert_str_eq(d.more_pids[1], "92");
		ck_assert(!d.subprocesses);
	}
	{
		ARGV("deadlock", "--subprocesses", "93");
		ck_assert_int_eq(dump_parse(argc_, a, true, &d, &pid), 0);
		ck_assert_int_eq(pid, 93);
		ck_assert(d.subprocesses && !d.nmore_pids);
	}
	{
		ARGV("dump", "90", "x");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--subprocesses", "90", "91");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--subprocesses", "--core", "core.1");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		/* Thread by thread stands for the whole pause. */
		ARGV("dump", "--native", "--nonstop", "94");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid), 0);
		ck_assert(d.io.nonstop && d.io.native && !d.io.pause);
	}
	{
		ARGV("dump", "--nonstop", "--no-pause", "94");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("dump", "--nonstop", "--core", "core.1");
		ck_assert_int_eq(dump_parse(argc_, a, false, &d, &pid),
				 EXIT_USAGE);
	}
	{
		ARGV("deadlock", "--nonstop", "94");
		ck_assert_int_eq(dump_parse(argc_, a, true, &d, &pid),
				 EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_record_parse)
{
	struct record_opts o;
	pid_t pid = 0;

	{
		ARGV("record", "-o", "f", "--format", "raw", "-p", "90");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(pid, 90);
		ck_assert_int_eq(o.format, RECORD_FOLDED);
		ck_assert_str_eq(o.output, "f");
		ck_assert(!o.pause);
	}
	{
		ARGV("record", "91", "-o", "f", "--nonblocking", "-f", "json");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(pid, 91);
		ck_assert_int_eq(o.format, RECORD_JSON);
		ck_assert(!o.pause);
	}
	{
		ARGV("record", "--pid", "92", "--pause", "-o", "-");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true), 0);
		ck_assert_int_eq(pid, 92);
		ck_assert(o.pause);
	}
	{
		ARGV("record", "-p", "92", "--pause", "--nonblocking", "-o", "-");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-p", "92", "--native", "--nonblocking", "-o", "-");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "f", "--format", "flame", "93");
		ck_assert_int_eq(record_parse(argc_, a, &o, &pid, true),
				 EXIT_USAGE);
	}
	/* A program is started instead: no process may be given. */
	{
		ARGV("record", "-o", "f", "--duration", "1");
		ck_assert_int_eq(record_parse(argc_, a, &o, NULL, false), 0);
		ck_assert(o.duration == 1);
	}
	{
		ARGV("record", "-o", "f", "-p", "94");
		ck_assert_int_eq(record_parse(argc_, a, &o, NULL, false),
				 EXIT_USAGE);
	}
	{
		ARGV("record", "-o", "f", "94");
		ck_assert_int_eq(record_parse(argc_, a, &o, NULL, false),
				 EXIT_USAGE);
	}
}
END_TEST

START_TEST(test_watch_top_parse)
{
	struct watch_opts w;
	struct top_opts t;
	pid_t pid = 0;

	{
		ARGV("watch", "--every", "1s", "-p", "95", "--nonblocking");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert_int_eq(pid, 95);
		ck_assert(!w.d.io.pause);
		ck_assert(w.every == 1);
	}
	{
		ARGV("watch", "96", "--every", "2");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert_int_eq(pid, 96);
		ck_assert(w.d.io.pause);
	}
	{
		ARGV("watch", "--every", "2", "--pid", "97");
		ck_assert_int_eq(watch_parse(argc_, a, &w, NULL, false),
				 EXIT_USAGE);
	}
	{
		/* Each dump thread by thread, as dump --nonstop. */
		ARGV("watch", "--nonstop", "--native", "--every", "2", "96");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert(w.d.io.nonstop && w.d.io.native && !w.d.io.pause);
	}
	{
		ARGV("watch", "--nonstop", "--no-pause", "--every", "2", "96");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("top", "--once", "-p", "98", "--nonblocking");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true), 0);
		ck_assert_int_eq(pid, 98);
		ck_assert_int_eq(t.iterations, 1);
		ck_assert(!t.pause);
	}
	{
		ARGV("top", "--pid=99", "--pause", "--iterations", "3");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true), 0);
		ck_assert_int_eq(pid, 99);
		ck_assert_int_eq(t.iterations, 3);
		ck_assert(t.pause);
	}
	{
		ARGV("top", "--pause", "--nonblocking", "99");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true),
				 EXIT_USAGE);
	}
	{
		/* C frames: thread by thread, without --pause */
		ARGV("top", "--native-all", "99");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true), 0);
		ck_assert(t.native && t.native_all && !t.pause);
	}
	{
		ARGV("top", "--native", "--nonblocking", "99");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("top", "--once");
		ck_assert_int_eq(top_parse(argc_, a, &t, NULL, false), 0);
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true),
				 EXIT_USAGE);
	}
	/* Several processes: PIDs, or --subprocesses with one. */
	{
		ARGV("top", "--once", "10", "11", "12");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true), 0);
		ck_assert_int_eq(pid, 10);
		ck_assert_uint_eq(t.nmore_pids, 2);
		ck_assert_str_eq(t.more_pids[1], "12");
		ck_assert(!t.subprocesses);
	}
	{
		ARGV("top", "--subprocesses", "13");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true), 0);
		ck_assert_int_eq(pid, 13);
		ck_assert(t.subprocesses);
		ck_assert_uint_eq(t.nmore_pids, 0);
	}
	{
		ARGV("top", "--subprocesses", "13", "14");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("top", "13", "x14");
		ck_assert_int_eq(top_parse(argc_, a, &t, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("watch", "--every", "1s", "20", "21");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert_int_eq(pid, 20);
		ck_assert_uint_eq(w.d.nmore_pids, 1);
		ck_assert_str_eq(w.d.more_pids[0], "21");
	}
	{
		ARGV("watch", "--on-stall", "2s", "--subprocesses", "22");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert_int_eq(pid, 22);
		ck_assert(w.d.subprocesses);
	}
	{
		ARGV("watch", "--every", "1s", "--subprocesses", "22", "23");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("watch", "--every", "1s", "22", "-3");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
}
END_TEST

/* ---- watch --on-stall: the stall detector (cli/stall.h) -------------- */

#define MS (UINT64_C(1000000))

/* A sample of one thread with frames (function, line) in file "f.py". */
static void one_thread(struct sample *s, const char *const *fn,
		       const int *line, size_t n, bool torn)
{
	static struct sample_thread th;
	static struct sample_frame fr[8];

	ck_assert(n <= 8);
	memset(&th, 0, sizeof(th));
	memset(fr, 0, sizeof(fr));
	th.thread_id = 7;
	th.nframes = n;
	th.torn = torn;
	for (size_t i = 0; i < n; i++) {
		fr[i].function = fn[i];
		fr[i].filename = "f.py";
		fr[i].line = line[i];
		fr[i].first_line = 1;
	}
	memset(s, 0, sizeof(*s));
	s->threads = &th;
	s->nthreads = 1;
	s->frames = fr;
	s->nframes = n;
}

START_TEST(test_stall_fingerprint)
{
	const char *fn[] = { "work", "main" }, *fn2[] = { "wurk", "main" };
	const char *split1[] = { "ab", "c" }, *split2[] = { "a", "bc" };
	int line[] = { 10, 20 }, line2[] = { 11, 20 };
	struct sample s;
	uint64_t a, b;
	bool torn;

	one_thread(&s, fn, line, 2, false);
	a = stall_fingerprint(&s, &torn);
	ck_assert(!torn);
	one_thread(&s, fn, line, 2, false);
	ck_assert(stall_fingerprint(&s, &torn) == a);
	one_thread(&s, fn, line2, 2, false);   /* another line */
	ck_assert(stall_fingerprint(&s, &torn) != a);
	one_thread(&s, fn2, line, 2, false);   /* another function */
	ck_assert(stall_fingerprint(&s, &torn) != a);
	one_thread(&s, fn, line, 1, false);    /* a frame returned */
	ck_assert(stall_fingerprint(&s, &torn) != a);
	one_thread(&s, fn, line, 2, true);
	stall_fingerprint(&s, &torn);
	ck_assert(torn);
	one_thread(&s, split1, line, 2, false);
	b = stall_fingerprint(&s, &torn);
	one_thread(&s, split2, line, 2, false);
	ck_assert(stall_fingerprint(&s, &torn) != b);
	/* Frames past the sample's end (a bad sample) are not read. */
	one_thread(&s, fn, line, 2, false);
	s.nframes = 1;
	stall_fingerprint(&s, &torn);
}
END_TEST

START_TEST(test_stall_detector)
{
	struct stall st;
	uint64_t t = 1000 * MS;
	int dumps = 0;

	stall_init(&st, 1.0, t);
	/* Unchanged from the first sample: nothing before T. */
	for (int i = 0; i < 10; i++, t += 100 * MS)
		ck_assert(!stall_feed(&st, 42, false, t));
	/* At T: one dump, then none however long the stall goes on. */
	ck_assert(stall_feed(&st, 42, false, t));
	ck_assert(stall_age(&st, t) >= 1.0);
	for (int i = 0; i < 100; i++, t += 100 * MS)
		dumps += stall_feed(&st, 42, false, t);
	ck_assert_int_eq(dumps, 0);
	/* Progress re-arms it; the next stall is dumped T after it. */
	ck_assert(!stall_feed(&st, 43, false, t));
	t += 900 * MS;
	ck_assert(!stall_feed(&st, 43, false, t));
	t += 100 * MS;
	ck_assert(stall_feed(&st, 43, false, t));
	/* A torn read is progress, even with the same fingerprint. */
	t += 100 * MS;
	ck_assert(!stall_feed(&st, 43, true, t));
	t += 999 * MS;
	ck_assert(!stall_feed(&st, 43, false, t));
	t += 1 * MS;
	ck_assert(stall_feed(&st, 43, false, t));
	/* Stacks that keep changing never dump. */
	for (int i = 0; i < 100; i++, t += 100 * MS)
		dumps += stall_feed(&st, 100 + (uint64_t)(i % 2), false, t);
	ck_assert_int_eq(dumps, 0);
}
END_TEST

START_TEST(test_stall_deadlock)
{
	struct stall st;
	uint64_t t = 0;

	stall_init(&st, 2.0, t);
	/* A check at once, then once every T. */
	ck_assert(stall_check_due(&st, t));
	ck_assert(!stall_check_due(&st, t + 1999 * MS));
	ck_assert(stall_check_due(&st, t + 2000 * MS));
	ck_assert(!stall_check_due(&st, t + 2001 * MS));
	/* A deadlock is dumped when it appears, once. */
	ck_assert(!stall_verdict(&st, false));
	ck_assert(stall_verdict(&st, true));
	ck_assert(!stall_verdict(&st, true));
	ck_assert(!stall_verdict(&st, false));
	ck_assert(stall_verdict(&st, true));
	/* Its dump stands for the stall it also is: no second dump for
	 * the same stacks, until progress. */
	stall_init(&st, 1.0, t);
	ck_assert(!stall_feed(&st, 5, false, t));
	ck_assert(stall_verdict(&st, true));
	stall_dumped(&st);
	ck_assert(!stall_feed(&st, 5, false, t + 5000 * MS));
	ck_assert(!stall_feed(&st, 6, false, t + 5100 * MS));
	ck_assert(stall_feed(&st, 6, false, t + 6100 * MS));
}
END_TEST

START_TEST(test_watch_stall_parse)
{
	struct watch_opts w;
	char path[64];
	pid_t pid = 0;

	{
		ARGV("watch", "--on-stall", "2s", "--count", "1", "-o", "d",
		     "--exec", "true", "--locals", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert(w.on_stall == 2);
		ck_assert_int_eq(w.rate, WATCH_STALL_RATE);
		ck_assert_str_eq(w.exec, "true");
		ck_assert(w.d.io.locals && w.d.io.pause);
	}
	{
		ARGV("watch", "--on-stall", "1", "--rate", "50", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true), 0);
		ck_assert_int_eq(w.rate, 50);
	}
	{
		ARGV("watch", "--on-stall", "1", "--every", "1", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("watch", "--every", "1", "--exec", "true", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("watch", "--on-stall", "1", "--rate", "0", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	{
		ARGV("watch", "--on-stall", "soon", "95");
		ck_assert_int_eq(watch_parse(argc_, a, &w, &pid, true),
				 EXIT_USAGE);
	}
	watch_dump_path(path, sizeof(path), "hang.txt", 1, 1);
	ck_assert_str_eq(path, "hang.txt");
	watch_dump_path(path, sizeof(path), "hang.txt", 3, 2);
	ck_assert_str_eq(path, "hang.txt.2");
	watch_dump_path(path, sizeof(path), "hang.txt", 0, 12);
	ck_assert_str_eq(path, "hang.txt.12");
	watch_dump_path(path, sizeof(path), "h-%n.txt%n", 1, 3);
	ck_assert_str_eq(path, "h-3.txt3");
	watch_dump_path(path, 4, "hang.txt", 1, 1);
	ck_assert_str_eq(path, "han");
}
END_TEST

/* A file for merge: text, in a temporary file whose name goes to path. */
static void merge_file(char *path, const char *text)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* merge's exit status: 0 when every document merged, 1 when an input
 * was bad (the rest merged), 2 on bad usage.  Its report goes to a
 * file, checked. */
START_TEST(test_merge_exit_status)
{
	char good[] = "/tmp/snakescope-check-XXXXXX";
	char bad[] = "/tmp/snakescope-check-XXXXXX";
	char out[] = "/tmp/snakescope-check-XXXXXX";
	int saved = dup(1), fd;
	char buf[4096];
	ssize_t n;

	merge_file(good, "{\"schema_version\": 1, \"host\": \"h1\", "
		   "\"pid\": 10, \"threads\": [{\"frames\": [{\"kind\": "
		   "\"python\", \"function\": \"f\", \"filename\": \"a.py\", "
		   "\"line\": 3}]}]}\n{\"host\": \"h2\", \"pid\": 10, "
		   "\"threads\": []}\n");
	merge_file(bad, "{\"pid\": 1}\nnot json\n");
	merge_file(out, "");
	fd = open(out, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(saved, 0);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	{
		ARGV("merge");
		ck_assert_int_eq(cmd_merge(argc_, a), EXIT_USAGE);
	}
	{
		ARGV("merge", "--bogus", good);
		ck_assert_int_eq(cmd_merge(argc_, a), EXIT_USAGE);
	}
	{
		ARGV("merge", good);
		ck_assert_int_eq(cmd_merge(argc_, a), 0);
	}
	{
		ARGV("merge", good, bad, "/nonexistent/x.json");
		ck_assert_int_eq(cmd_merge(argc_, a), 1);
	}
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fd = open(out, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "2 processes from 2 hosts, "
				     "1 thread\n"));
	ck_assert_ptr_nonnull(strstr(buf, "  1 process, odd one out: "
				     "h2:10\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\n  f (a.py:3)  1 process, "
				     "1 thread: h1:10\n"));
	unlink(good);
	unlink(bad);
	unlink(out);
}
END_TEST

/* Thread 'i' (1-based) of s waits at app.py:line for the lock at
 * s->locks[k]; held: its holder is thread 'by' (0: none). */
static void summary_wait(struct snapshot *s, uint64_t i, size_t k, int line,
			 uint64_t by)
{
	struct snap_lock *l = &s->locks[k];
	struct snap_lock_waiter *w;

	s->threads[i - 1].waits_for = l->address;
	snprintf(s->threads[i - 1].os.syscall,
		 sizeof(s->threads[i - 1].os.syscall), "futex");
	s->threads[i - 1].os.state = 'S';
	l->waiters = xrealloc(l->waiters, (l->nwaiters + 1) *
			      sizeof(*l->waiters));
	w = &l->waiters[l->nwaiters++];
	memset(w, 0, sizeof(*w));
	w->who.id = i;
	w->at.function = xstrdup("f");
	w->at.filename = xstrdup("/app/app.py");
	w->at.line = line;
	if (by) {
		l->has_holder = true;
		l->holder.id = by;
	}
}

/* Diagnosis first: the verdict, then a line per thread (who, state, what
 * it waits for, its holder, where) before the stacks; names escaped;
 * rows bounded; --no-summary: the old order, verdict last. */
START_TEST(test_summary)
{
	struct snapshot *s = snap_new();
	struct out_opts o = { 0 };
	struct strbuf sb;
	const char *verdict, *table, *stacks, *row;

	s->locks = xcalloc(2, sizeof(*s->locks));
	for (uint64_t i = 1; i <= 70; i++) {
		struct snap_thread *t = snap_add_thread(s);
		struct snap_frame *f = snap_add_frame(t);

		t->thread_id = i;
		t->native_id = (int64_t)(100 + i);
		t->os.state = 'S';
		f->function = xstrdup("f");
		f->filename = xstrdup("/app/app.py");
		f->line = (int)i;
	}
	s->threads[0].name = xstrdup("al\033[2Jpha");
	s->threads[1].name = xstrdup("beta");
	s->locks[0].address = 0x1000;
	s->locks[0].type = SNAP_LOCK_LOCK;
	s->locks[1].address = 0x2000;
	s->locks[1].type = SNAP_LOCK_LOCK;
	s->nlocks = 2;
	s->locks_read = true;
	summary_wait(s, 1, 1, 12, 2);
	summary_wait(s, 2, 0, 20, 1);
	snap_find_deadlocks(s);
	ck_assert_int_eq(snap_verdict(s), SNAP_VERDICT_DEADLOCK);

	strbuf_init(&sb);
	o.summary = true;
	out_text_dump(&sb, s, &o);
	verdict = strstr(sb.buf, "Deadlock: 2 threads wait for each other");
	table = strstr(sb.buf, "Threads (70):\n  THREAD ");
	stacks = strstr(sb.buf, "\nThread 1 ");
	ck_assert_ptr_nonnull(verdict);
	ck_assert_ptr_nonnull(table);
	ck_assert_ptr_nonnull(stacks);
	ck_assert(verdict < table && table < stacks);
	/* the verdict is told once, first */
	ck_assert_ptr_null(strstr(verdict + 1, "Deadlock: "));
	ck_assert_ptr_nonnull(strstr(table, "HELD BY"));
	/* columns as wide as their widest cell, then two spaces */
	row = strstr(table, "\n  \"al\\x1b[2Jpha\" (tid 101)  blocked in futex"
		     "  <threading.Lock 0x2000>  thread \"beta\"          "
		     "app.py:12 in f\n");
	ck_assert_ptr_nonnull(row);
	ck_assert_ptr_nonnull(strstr(table, "<threading.Lock 0x1000>  thread "
				     "\"al\\x1b[2Jpha\"  app.py:20 in f\n"));
	ck_assert_ptr_nonnull(strstr(table, "\n  3 (tid 103)  "));
	/* OUT_SUMMARY_ROWS lines, the rest counted */
	ck_assert_ptr_nonnull(strstr(table, "\n  ... and 10 more threads\n"));
	ck_assert_ptr_null(strstr(table, "\n  61 (tid 161)"));
	ck_assert_ptr_null(strchr(sb.buf, '\033'));

	strbuf_reset(&sb);
	o.summary = false;
	out_text_dump(&sb, s, &o);
	ck_assert_ptr_null(strstr(sb.buf, "HELD BY"));
	verdict = strstr(sb.buf, "Deadlock: 2 threads");
	ck_assert_ptr_nonnull(verdict);
	table = strstr(sb.buf, "\nLocks (held or waited for):");
	stacks = strstr(sb.buf, "\nThread 1 ");
	ck_assert_ptr_nonnull(table);
	ck_assert_ptr_nonnull(stacks);
	ck_assert(stacks < table && table < verdict);
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_escape_text);
	tcase_add_test(tc, test_escape_json);
	tcase_add_test(tc, test_writers);
	tcase_add_test(tc, test_waits_on);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_proc_waits);
	tcase_add_test(tc, test_json_members_compact);
	tcase_add_test(tc, test_source_carets);
	tcase_add_test(tc, test_parse_pid);
	tcase_add_test(tc, test_parse_seconds);
	tcase_add_test(tc, test_profile_writers);
	tcase_add_test(tc, test_flame_colors);
	tcase_add_test(tc, test_record_format_names);
	tcase_add_test(tc, test_read_spans);
	tcase_add_test(tc, test_take_pid);
	tcase_add_test(tc, test_program_sep);
	tcase_add_test(tc, test_grouped_text);
	tcase_add_test(tc, test_dump_parse);
	tcase_add_test(tc, test_record_parse);
	tcase_add_test(tc, test_watch_top_parse);
	tcase_add_test(tc, test_stall_fingerprint);
	tcase_add_test(tc, test_stall_detector);
	tcase_add_test(tc, test_stall_deadlock);
	tcase_add_test(tc, test_watch_stall_parse);
	suite_add_tcase(s, tc);
	/* The flame graph's tests start python3 (its XML parser) a few
	 * times: slow on a loaded machine, so more than Check's default 4 s
	 * (scaled by CK_TIMEOUT_MULTIPLIER under valgrind). */
	tc = tcase_create("flamegraph");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_flame_writer);
	tcase_add_test(tc, test_flame_sections);
	tcase_add_test(tc, test_flame_narrow);
	tcase_add_test(tc, test_merge_exit_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(cli_suite());
}
