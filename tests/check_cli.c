/*
 * Unit tests for cli/: escaping of target-controlled strings and the text
 * and JSON writers over a hand-built snapshot.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check_main.h"
#include "cli/commands.h"
#include "cli/escape.h"
#include "cli/out.h"
#include "cli/source.h"
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
	CHECK_ESC(text_of, "\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
	CHECK_ESC(text_of, "\xc0\xaf", "\\xc0\\xaf");          /* overlong */
	CHECK_ESC(text_of, "back\\slash", "back\\\\slash");
	CHECK_ESC(text_of, "\x7f", "\\x7f");
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
	out_json_dump(&sb, s, false);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"pid\": 4242"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"version\": \"3.12.1\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"libpython\": null"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"thread_id\": 140000000000001, "
				     "\"native_id\": 4242, \"name\": "
				     "\"Main\\u001b[31mThread\", \"holds_gil\": true"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"function\": \"Worker.run\", "
				     "\"filename\": \"/app/w.py\", \"line\": 17, "
				     "\"end_line\": 17, \"column\": 4, "
				     "\"end_column\": 10}"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"importing\": \"pkg.mod\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"state\": {\"os_state\": "
				     "\"sleeping\", \"on_cpu\": false, "
				     "\"syscall\": \"futex\", \"gil\": \"holds\", "
				     "\"active\": false, \"gc\": false, "
				     "\"trace\": \"Tracer.trace\", \"profile\": null, "
				     "\"monitoring\": [], \"eval_hook\": false}"));
	ck_assert_ptr_null(strstr(sb.buf, "\"locals\""));
	strbuf_reset(&sb);
	out_json_dump(&sb, s, true);
	ck_assert_ptr_nonnull(strstr(sb.buf, "{\"name\": \"path\", \"kind\": "
				     "\"cell\", \"type\": \"str\", \"repr\": "
				     "\"'C:\\\\dir\\u001b'\"}"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"line\": null"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"native_id\": null"));
	strbuf_release(&sb);
	snap_free(s);
}
END_TEST

/* Source lines come from the file as the target sees it, with carets
 * under the executing expression (code-point columns from UTF-8 byte
 * offsets), none when they would cover the whole line. */
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
	o.source = source_new(getpid());
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

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_escape_text);
	tcase_add_test(tc, test_escape_json);
	tcase_add_test(tc, test_writers);
	tcase_add_test(tc, test_source_carets);
	tcase_add_test(tc, test_parse_pid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(cli_suite());
}
