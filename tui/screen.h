/*
 * screen.h - what `snakescope top` shows, as lines of text with
 * attributes: built from the model, the view and the last snapshot,
 * without curses.  The curses code (tui/term.c) only copies changed lines
 * to the terminal; --once and --iterations print the same lines as plain
 * text; the tests read them.
 */
#ifndef SNAKESCOPE_TUI_SCREEN_H
#define SNAKESCOPE_TUI_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/strbuf.h"
#include "model/snapshot.h"
#include "tui/model.h"
#include "tui/view.h"

/* How a piece of text looks; the terminal code maps these to colours,
 * or to bold / reverse / underline on a monochrome terminal. */
enum tui_attr {
	TUI_A_NORMAL = 0,
	TUI_A_BOLD,        /* header values */
	TUI_A_TITLE,       /* a pane's title row */
	TUI_A_TITLE_FOCUS, /* ... of the focused pane */
	TUI_A_SELECTED,    /* the selected row of the focused pane */
	TUI_A_MARKED,      /* the selected row of another pane */
	TUI_A_DIM,         /* idle, gone, secondary */
	TUI_A_HOT,         /* the executing expression; a hot count */
	TUI_A_GIL,         /* holds the GIL */
	TUI_A_WARN,        /* errors, exited, paused */
	TUI_NATTRS
};

/* Bytes [from, to) of a line's text look like attr; later spans win. */
struct tui_span {
	uint32_t from, to;
	uint8_t attr;
};

struct tui_line {
	struct strbuf text;   /* UTF-8 (ASCII when the frame is not) */
	struct tui_span *spans;
	size_t nspans, spans_cap;
	int width;            /* columns used */
};

struct tui_frame {
	int rows, cols;
	bool utf8;            /* the terminal takes UTF-8 (else ASCII) */
	struct tui_line *lines;
	struct strbuf scratch; /* private */
};

void tui_frame_init(struct tui_frame *f, int rows, int cols, bool utf8);
void tui_frame_release(struct tui_frame *f);
/* Same text and looks? */
bool tui_line_equal(const struct tui_line *a, const struct tui_line *b);
/* Copy src into dst (dst initialised). */
void tui_line_copy(struct tui_line *dst, const struct tui_line *src);

/* Everything the screen shows besides the model and the view. */
struct tui_info {
	pid_t pid;
	size_t nprocs;          /* processes shown (view->procs) */
	const char *version;    /* Python's, "3.12.1" */
	double elapsed;         /* seconds sampled (pauses left out) */
	double rate;            /* samples a second achieved */
	double secs_per_sample; /* time one sample stands for */
	const char *note;       /* "process exited" ..., or NULL */
	/* The last snapshot (NULL before the first), for the stack, the
	 * locals and the threads' states. */
	const struct snapshot *snap;
	/* The asyncio pane's lines (plain text), ntask_lines 0: no pane. */
	char *const *task_lines;
	size_t ntask_lines;
	/* Source line 'line' of 'file', or NULL (may be NULL itself). */
	const char *(*source_line)(void *arg, const char *file, int line);
	void *source_arg;
};

/* The selected thread's stack in info->snap, or NULL. */
const struct snap_thread *tui_selected_stack(const struct tui_view *v,
					     const struct tui_info *info);

/* Build the whole screen (v laid out for f's size). */
void tui_render(struct tui_frame *f, const struct tui_view *v,
		const struct tui_model *m, const struct tui_info *info);

/* The frame as plain text, a line each, trailing blanks trimmed. */
void tui_frame_text(const struct tui_frame *f, struct strbuf *sb);

#endif
