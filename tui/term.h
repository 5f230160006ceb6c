/*
 * term.h - the terminal of `snakescope top`: the only code that knows
 * curses.  It copies the lines of a tui_frame that changed since the last
 * one (no clear(): nothing flickers), reads keys and clicks, and puts the
 * terminal back on every way out: tui_term_close(), exit() (atexit), an
 * allocation failure and a crash (SIGSEGV, SIGABRT, ...).
 */
#ifndef SNAKESCOPE_TUI_TERM_H
#define SNAKESCOPE_TUI_TERM_H

#include <stdbool.h>

#include "common/err.h"
#include "tui/screen.h"

struct tui_term;

/*
 * Take over the terminal (standard input and output).  color: use colours
 * when the terminal has them (else bold / reverse / underline only).
 * emergency: run first when a crash or an allocation failure ends the
 * program (it resumes a paused target), or NULL.  Returns NULL with *e
 * set when there is no usable terminal.
 */
struct tui_term *tui_term_open(bool color, void (*emergency)(void),
			       struct err *e);

/* Give the terminal back (NULL is fine). */
void tui_term_close(struct tui_term *t);

/* The terminal's size now. */
void tui_term_size(struct tui_term *t, int *rows, int *cols);

/* Does the terminal take UTF-8 (from the locale)? */
bool tui_term_utf8(void);

/* Show f: only the lines that differ from the last frame shown (all of
 * them after a resize), then one refresh. */
void tui_term_draw(struct tui_term *t, const struct tui_frame *f);

/*
 * Wait up to timeout_ms for a key.  Returns a character, a TUI_KEY_*
 * code (TUI_KEY_MOUSE: a click at *y, *x), or -1 when none came.
 */
int tui_term_key(struct tui_term *t, int timeout_ms, int *y, int *x);

#endif
