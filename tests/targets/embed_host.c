/*
 * embed_host.c - a C program that embeds CPython, for the live tests.
 *
 * usage: embed_host SCRIPT ARG...
 * Runs SCRIPT as __main__ with sys.argv = [SCRIPT, ARG...] through
 * Py_Initialize() and PyRun_SimpleString(), the way applications embed
 * Python.  tests/live/live_test.py compiles it against each interpreter's
 * shared libpython (Python 2.7 and 3.x alike) and dumps the host process.
 * PYTHONHOME must name the interpreter's prefix (the host is not "python",
 * so CPython cannot find its library on its own).
 */
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append s as a Python string literal (paths of the tests' own files:
 * escape what a literal needs, nothing is interpreted). */
static void add_literal(char *code, size_t size, const char *s)
{
	size_t n = strlen(code);

	if (n + 1 < size)
		code[n++] = '\'';
	for (; *s && n + 3 < size; s++) {
		if (*s == '\\' || *s == '\'')
			code[n++] = '\\';
		code[n++] = *s;
	}
	code[n++] = '\'';
	code[n] = '\0';
}

int main(int argc, char **argv)
{
	static char code[16384];
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SCRIPT ARG...\n", argv[0]);
		return 2;
	}
	strcat(code, "import os, sys\nsys.argv = [");
	for (int i = 1; i < argc; i++) {
		add_literal(code, sizeof(code) - 64, argv[i]);
		strcat(code, ", ");
	}
	strcat(code, "]\n"
	       "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
	       "__file__ = sys.argv[0]\n"
	       "exec(compile(open(sys.argv[0]).read(), sys.argv[0], 'exec'))\n");
	Py_Initialize();
	rc = PyRun_SimpleString(code);
	Py_Finalize();
	return rc ? 1 : 0;
}
