#include <config.h>

#include "session/source.h"
#include "attach/rootfs.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <unistd.h>

#define SOURCE_MAX_FILES 256

struct source_file {
	char *name;    /* as the target knows it */
	char *text;    /* NULL: unreadable */
	char **lines;  /* into text, NUL-terminated */
	size_t nlines;
};

struct source_cache {
	source_open_fn open;
	void *arg;
	struct source_file files[SOURCE_MAX_FILES];
	size_t n;
};

struct source_cache *source_new(source_open_fn open, void *arg)
{
	struct source_cache *sc = xcalloc(1, sizeof(*sc));

	sc->open = open;
	sc->arg = arg;
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

/* The whole of a source file the target names, read as the target sees
 * it (rootfs.h: never outside its root, never a FIFO or a device); NULL
 * when it cannot be. */
static char *read_source(const struct source_cache *sc, const char *name)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;
	int fd;

	if (sc->open(sc->arg, name, ROOTFS_MAX_SOURCE, &fd))
		return NULL;
	for (;;) {
		ssize_t got;

		/* The size was bounded when it was opened; a file that grows
		 * since is cut there. */
		buf = xgrow(buf, &cap, n + 4096 + 1, 1);
		got = read(fd, buf + n, MIN(cap - n - 1, ROOTFS_MAX_SOURCE - n));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n >= ROOTFS_MAX_SOURCE)
			break;
	}
	close(fd);
	buf[n] = 0;
	return buf;
}

static void load(struct source_cache *sc, struct source_file *sf)
{
	size_t cap = 0;

	/* "<frozen importlib._bootstrap>", "<string>", "<stdin>": no file. */
	if (!sf->name[0] || sf->name[0] == '<')
		return;
	sf->text = read_source(sc, sf->name);
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
