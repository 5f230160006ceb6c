#include <config.h>

#include "tui/term.h"
#include "common/xalloc.h"

#include <curses.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tui_term {
	SCREEN *scr;
	bool color;
	chtype attr[TUI_NATTRS];
	struct tui_frame last;  /* what the terminal shows */
	bool have_last;
};

/* The one terminal open, for the exit paths. */
static struct tui_term *volatile active;
static void (*emergency_hook)(void);

static void restore(void)
{
	if (active) {
		active = NULL;
		endwin();
	}
}

static void fatal_handler(int sig)
{
	if (emergency_hook)
		emergency_hook();
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fatal_alloc(void)
{
	if (emergency_hook)
		emergency_hook();
	restore();
}

static void install_exit_paths(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
				    SIGQUIT };
	static bool done;
	struct sigaction sa;

	if (!done) {
		atexit(restore);
		done = true;
	}
	xalloc_set_fatal_hook(fatal_alloc);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

bool tui_term_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

/* Colour pairs, and what monochrome terminals get instead. */
static void setup_attrs(struct tui_term *t)
{
	static const struct {
		short fg, bg;
		chtype extra, mono;
	} looks[TUI_NATTRS] = {
		[TUI_A_NORMAL] = { -1, -1, 0, 0 },
		[TUI_A_BOLD] = { -1, -1, A_BOLD, A_BOLD },
		[TUI_A_TITLE] = { COLOR_BLACK, COLOR_CYAN, 0, A_UNDERLINE },
		[TUI_A_TITLE_FOCUS] = { COLOR_BLACK, COLOR_GREEN, 0,
					A_REVERSE | A_BOLD },
		[TUI_A_SELECTED] = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		[TUI_A_MARKED] = { -1, COLOR_BLUE, 0, A_UNDERLINE },
		[TUI_A_DIM] = { -1, -1, A_DIM, A_DIM },
		[TUI_A_HOT] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE },
		[TUI_A_GIL] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
		[TUI_A_WARN] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_REVERSE },
	};

	t->color = t->color && has_colors();
	if (t->color) {
		start_color();
		use_default_colors();
	}
	for (int i = 0; i < TUI_NATTRS; i++) {
		if (!t->color) {
			t->attr[i] = looks[i].mono;
		} else if (looks[i].fg == -1 && looks[i].bg == -1) {
			t->attr[i] = looks[i].extra;
		} else {
			init_pair((short)i, looks[i].fg, looks[i].bg);
			t->attr[i] = COLOR_PAIR(i) | looks[i].extra;
		}
	}
}

struct tui_term *tui_term_open(bool color, void (*emergency)(void),
			       struct err *e)
{
	struct tui_term *t;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_set(e, SS_EINVAL, "top needs a terminal (use --once or "
			"--iterations N for text output)");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	emergency_hook = emergency;
	install_exit_paths();
	t->scr = newterm(NULL, stdout, stdin);
	if (!t->scr) {
		err_set(e, SS_EINVAL, "cannot use the terminal '%s'",
			getenv("TERM") ? getenv("TERM") : "(TERM not set)");
		free(t);
		return NULL;
	}
	active = t;
	set_term(t->scr);
	cbreak();  /* Ctrl-C still interrupts: the loop stops cleanly */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED, NULL);
	mouseinterval(0);
	t->color = color;
	setup_attrs(t);
	return t;
}

void tui_term_close(struct tui_term *t)
{
	if (!t)
		return;
	restore();
	delscreen(t->scr);
	if (t->have_last)
		tui_frame_release(&t->last);
	free(t);
}

void tui_term_size(struct tui_term *t, int *rows, int *cols)
{
	getmaxyx(stdscr, *rows, *cols);
}

/* The look of byte i of line l: the last span over it wins. */
static int attr_at(const struct tui_line *l, size_t i)
{
	int a = TUI_A_NORMAL;

	for (size_t k = 0; k < l->nspans; k++)
		if (i >= l->spans[k].from && i < l->spans[k].to)
			a = l->spans[k].attr;
	return a;
}

static void draw_line(struct tui_term *t, int y, const struct tui_line *l,
		      int cols)
{
	size_t i = 0;

	move(y, 0);
	while (i < l->text.len) {
		int a = attr_at(l, i);
		size_t j = i + 1;

		while (j < l->text.len && attr_at(l, j) == a)
			j++;
		attrset(t->attr[a]);
		addnstr(l->text.buf + i, (int)(j - i));
		i = j;
	}
	attrset(A_NORMAL);
	if (l->width < cols)
		clrtoeol();
}

void tui_term_draw(struct tui_term *t, const struct tui_frame *f)
{
	bool all = !t->have_last || t->last.rows != f->rows ||
		   t->last.cols != f->cols;

	if (all) {
		if (t->have_last)
			tui_frame_release(&t->last);
		tui_frame_init(&t->last, f->rows, f->cols, f->utf8);
		t->have_last = true;
	}
	for (int y = 0; y < f->rows; y++) {
		if (!all && tui_line_equal(&t->last.lines[y], &f->lines[y]))
			continue;
		draw_line(t, y, &f->lines[y], f->cols);
		tui_line_copy(&t->last.lines[y], &f->lines[y]);
	}
	refresh();
}

int tui_term_key(struct tui_term *t, int timeout_ms, int *y, int *x)
{
	MEVENT ev;
	int c;

	timeout(timeout_ms < 0 ? 0 : timeout_ms);
	c = getch();
	switch (c) {
	case ERR:
		return -1;
	case KEY_UP: return TUI_KEY_UP;
	case KEY_DOWN: return TUI_KEY_DOWN;
	case KEY_LEFT: return TUI_KEY_LEFT;
	case KEY_RIGHT: return TUI_KEY_RIGHT;
	case KEY_PPAGE: return TUI_KEY_PGUP;
	case KEY_NPAGE: return TUI_KEY_PGDN;
	case KEY_HOME: return TUI_KEY_HOME;
	case KEY_END: return TUI_KEY_END;
	case KEY_BTAB: return TUI_KEY_BTAB;
	case KEY_ENTER: case '\n': case '\r': return TUI_KEY_ENTER;
	case KEY_BACKSPACE: case 127: case 8: return TUI_KEY_BACKSPACE;
	case '\t': return TUI_KEY_TAB;
	case 27: return TUI_KEY_ESC;
	case KEY_RESIZE:
		/* Everything is drawn again at the new size. */
		if (t->have_last) {
			tui_frame_release(&t->last);
			t->have_last = false;
		}
		return TUI_KEY_RESIZE;
	case KEY_MOUSE:
		if (getmouse(&ev) != OK ||
		    !(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
			return -1;
		*y = ev.y;
		*x = ev.x;
		return TUI_KEY_MOUSE;
	default:
		return c >= 0 && c <= 0xff ? c : -1;
	}
}
