#include <config.h>

#include "cli/source.h"
#include "attach/proc.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SOURCE_MAX_BYTES (16u << 20)
#define SOURCE_MAX_FILES 256

struct source_file {
	char *name;    /* as the target knows it */
	char *text;    /* NULL: unreadable */
	char **lines;  /* into text, NUL-terminated */
	size_t nlines;
};

struct source_cache {
	pid_t pid;
	struct source_file files[SOURCE_MAX_FILES];
	size_t n;
};

struct source_cache *source_new(pid_t pid)
{
	struct source_cache *sc = xcalloc(1, sizeof(*sc));

	sc->pid = pid;
	return sc;
}

void source_free(struct source_cache *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->files[i].name);
		free(sc->files[i].text);
		free(sc->files[i].lines);
	}
	free(sc);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SOURCE_MAX_BYTES) {
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static void load(struct source_cache *sc, struct source_file *sf)
{
	char *path;
	size_t cap = 0;

	/* "<frozen importlib._bootstrap>", "<string>", "<stdin>": no file. */
	if (!sf->name[0] || sf->name[0] == '<')
		return;
	if (sf->name[0] == '/')
		path = proc_file_path(sc->pid, sf->name, false, 0, 0);
	else
		path = proc_cwd_path(sc->pid, sf->name);
	sf->text = read_file(path);
	free(path);
	if (!sf->text)
		return;
	for (char *p = sf->text; *p;) {
		char *nl = strchr(p, '\n');

		sf->lines = xgrow(sf->lines, &cap, sf->nlines + 1,
				  sizeof(*sf->lines));
		sf->lines[sf->nlines++] = p;
		if (!nl)
			break;
		*nl = 0;
		if (nl > p && nl[-1] == '\r')
			nl[-1] = 0;
		p = nl + 1;
	}
}

const char *source_line(struct source_cache *sc, const char *filename,
			int line)
{
	struct source_file *sf = NULL;

	if (!sc || !filename || line < 1)
		return NULL;
	for (size_t i = 0; i < sc->n; i++)
		if (!strcmp(sc->files[i].name, filename))
			sf = &sc->files[i];
	if (!sf) {
		if (sc->n == SOURCE_MAX_FILES)
			return NULL;
		sf = &sc->files[sc->n++];
		sf->name = xstrdup(filename);
		load(sc, sf);
	}
	return sf->text && (size_t)line <= sf->nlines ? sf->lines[line - 1]
						      : NULL;
}
