/*
 * xalloc.h - allocation that never returns NULL.
 *
 * On exhaustion the registered cleanup hook runs (it resumes a paused target
 * and restores the terminal), a message is printed and the process aborts,
 * so call sites never check for NULL.
 */
#ifndef SNAKESCOPE_XALLOC_H
#define SNAKESCOPE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array to hold at least 'need' elements of 'size' bytes. */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Function run before aborting on allocation failure (one hook). */
void xalloc_set_fatal_hook(void (*hook)(void));

#endif
