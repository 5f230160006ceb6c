/*
 * view.h - the display state of `snakescope top`: panes, selection,
 * scrolling, sort, filter, modes, and what each key does to them.  No
 * curses here (keys come as TUI_KEY_* codes), so all of it is tested
 * without a terminal.
 *
 * A key goes through one table (tui_keys) to an action.  An action only
 * changes this state and returns what the caller must redo (TUI_REDRAW,
 * TUI_SNAPSHOT, TUI_RESET, TUI_QUIT...): it never draws and never reads
 * the target.
 */
#ifndef SNAKESCOPE_TUI_VIEW_H
#define SNAKESCOPE_TUI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui/model.h"

enum tui_pane {
	TUI_PANE_THREADS = 0,
	TUI_PANE_FUNCS,
	TUI_PANE_STACK,
	TUI_PANE_TASKS,
	TUI_NPANES
};

/* Keys other than characters (which come as themselves). */
enum tui_key {
	TUI_KEY_UP = 0x10000,
	TUI_KEY_DOWN,
	TUI_KEY_PGUP,
	TUI_KEY_PGDN,
	TUI_KEY_HOME,
	TUI_KEY_END,
	TUI_KEY_ENTER,
	TUI_KEY_ESC,
	TUI_KEY_BACKSPACE,
	TUI_KEY_TAB,
	TUI_KEY_BTAB,
	TUI_KEY_LEFT,
	TUI_KEY_RIGHT,
	/* Events for the loop, not the key table: */
	TUI_KEY_RESIZE,  /* the terminal changed size */
	TUI_KEY_MOUSE,   /* a click (see tui_term_key) */
};

/* What an action asks of the caller (bits). */
enum tui_do {
	TUI_REDRAW = 1,    /* draw the screen again */
	TUI_SNAPSHOT = 2,  /* read a new snapshot now (stack, tasks, locals) */
	TUI_RESET = 4,     /* forget the counts (tui_model_reset) */
	TUI_QUIT = 8,
	TUI_PAUSE = 16,    /* the view was paused or resumed */
};

/* Sort columns. */
enum tui_thread_col {
	TUI_TCOL_TID = 0, TUI_TCOL_NAME, TUI_TCOL_GIL, TUI_TCOL_ACTIVE,
	TUI_TCOL_CPU, TUI_TCOLS
};
enum tui_func_col {
	TUI_FCOL_OWN = 0, TUI_FCOL_TOTAL, TUI_FCOL_FUNCTION, TUI_FCOL_FILE,
	TUI_FCOLS
};

struct tui_rect {
	int y, x, h, w; /* h == 0: not shown */
};

struct tui_pane_state {
	size_t sel, top;   /* selected row, first row shown */
	size_t nrows;
	struct tui_rect r; /* first line is the pane's title */
};

#define TUI_FILTER_MAX 64

struct tui_view {
	int focus;                      /* enum tui_pane */
	struct tui_pane_state pane[TUI_NPANES];
	int thread_sort, func_sort;     /* enum tui_thread_col / func_col */
	bool thread_desc, func_desc;
	char filter[TUI_FILTER_MAX + 1];
	bool prompt;                    /* the filter is being typed */
	bool per_thread;                /* functions of the selected thread */
	bool lines;                     /* line-level rows */
	bool paused;                    /* view (and sampling) paused */
	bool help;
	bool locals;                    /* show the selected frame's locals */
	bool native_available;          /* 'n' has native frames to show
					   (top --native) */
	bool native;                    /* the stack pane shows them */
	bool has_thread;                /* a thread is selected: */
	uint64_t thread_id;             /* ... this one */
	int thread_pid;                 /* ... of this process */
	bool procs;                     /* several processes: PID columns */
	bool drilled;                   /* functions: one function's lines */
	uint32_t drill_code;            /* its index in the model's codes */
	int refresh_idx;                /* into tui_refresh_steps */
	char message[128];              /* one-off status line message */
	/* rows, as tui_view_update() last built them */
	uint32_t *thread_rows;          /* indexes in model->threads */
	size_t thread_rows_cap;
	uint32_t *func_rows;            /* indexes in model->entries */
	size_t func_rows_cap;
};

/* Refresh intervals '+' and '-' step through, in seconds. */
extern const double tui_refresh_steps[];
extern const size_t tui_nrefresh_steps;

void tui_view_init(struct tui_view *v);
void tui_view_release(struct tui_view *v);

/* Seconds between refreshes. */
double tui_view_refresh(const struct tui_view *v);
/* Pick the step closest to secs. */
void tui_view_set_refresh(struct tui_view *v, double secs);

/*
 * Build the rows from the model (sorted, filtered) and keep the selection
 * on the same thread.  nstack: frames of the selected thread's stack;
 * ntask_lines: lines of the task pane (0: no tasks, pane hidden).
 */
void tui_view_update(struct tui_view *v, const struct tui_model *m,
		     size_t nstack, size_t ntask_lines);

/* Place the panes on a screen of rows x cols (after tui_view_update). */
void tui_view_layout(struct tui_view *v, int rows, int cols);

/* Header lines at the top, status line at the bottom (of the layout). */
int tui_view_header_lines(int rows);
/* Is the screen too small to show anything but a note? */
bool tui_view_too_small(int rows, int cols);

/* Apply a key (a character or a TUI_KEY_*).  Returns TUI_* bits. */
unsigned tui_view_key(struct tui_view *v, const struct tui_model *m, int key);

/* A mouse click at screen (y, x): focus and select what is under it. */
unsigned tui_view_click(struct tui_view *v, const struct tui_model *m,
			int y, int x);

/* The model index of the thread whose functions are shown, or
 * TUI_ALL_THREADS. */
uint32_t tui_view_scope(const struct tui_view *v, const struct tui_model *m);

/* The key table, for the help screen: action i's keys ("j k Down")
 * and what it does, i < tui_view_nhelp(). */
size_t tui_view_nhelp(void);
void tui_view_help(size_t i, const char **keys, const char **what);

/* A function table column's name for the header ("own", "total", ...). */
const char *tui_func_col_name(int col);

#endif
