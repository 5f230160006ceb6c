/*
 * out_flame.c - the flame graph writer ('record --format flamegraph', or
 * '-o NAME.svg'): one SVG file that a browser shows with no other file,
 * its script inside it.
 *
 * The boxes come from the profile's distinct stacks sorted by their
 * frames' text (so that equal prefixes are neighbours, and siblings are in
 * name order), then swept once as flamegraph.pl does with folded lines: a
 * level is open while the stacks share it, and is written when the first
 * stack that does not share it comes.  So memory is the sorted index and
 * one entry per level, whatever the number of samples.  Each box carries
 * its first sample, its samples and its depth (data-s, data-n, data-d):
 * the script places boxes from those when it zooms.
 */
#include <config.h>

#include "cli/profile.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAD 10                    /* left and right margins */
#define INNER (FLAME_WIDTH - 2 * PAD)
#define ROW 16                    /* a level's height */
#define TOP 60                    /* title, controls and note */
#define GAP 14                    /* between two sections */
#define BOTTOM 34                 /* the details line */
#define CHAR_W 7.3                /* a character of the 12 px monospace font */
#define GREY "#d0d0d0"            /* section roots */
/* Boxes at least this wide (px) are outlined, so that neighbours of one
 * colour (a function at two lines) stay apart; narrower ones are not,
 * or the outline would pale them. */
#define OUTLINED 1.5

/* The script: zoom on click, the details line on hover, search (button,
 * Ctrl-F or '/'; '?s=REGEX' in the address), Escape or 'Reset zoom' to
 * go back.  window.snakescopeFlame exposes zoom/unzoom/search to other
 * scripts.  It must not contain the CDATA end. */
static const char flame_script[] =
"\"use strict\";\n"
"(function () {\n"
"var svg = document.documentElement;\n"
"var PAD = +svg.getAttribute(\"data-pad\"), W = +svg.getAttribute(\"data-inner\");\n"
"var CW = +svg.getAttribute(\"data-char\");\n"
"var OUTLINED = +svg.getAttribute(\"data-outlined\");\n"
"var all = +svg.getAttribute(\"data-samples\");\n"
"var details = document.getElementById(\"details\");\n"
"var matched = document.getElementById(\"matched\");\n"
"var unzoomBtn = document.getElementById(\"unzoom\");\n"
"var searchBtn = document.getElementById(\"search\");\n"
"var TITLE = /^([\\s\\S]*) \\([0-9]+ samples?, [0-9.]+%\\)$/;\n"
"function sections() { return svg.querySelectorAll(\"g.section\"); }\n"
"function boxes(sec) { return sec.children; }\n"
"function info(g) {\n"
"  var r = g.getElementsByTagName(\"rect\")[0];\n"
"  return { r: r, t: g.getElementsByTagName(\"text\")[0],\n"
"           s: +r.getAttribute(\"data-s\"), n: +r.getAttribute(\"data-n\"),\n"
"           d: +r.getAttribute(\"data-d\") };\n"
"}\n"
"function title(g) { return g.getElementsByTagName(\"title\")[0].textContent; }\n"
"function nameOf(g) { var t = title(g), m = TITLE.exec(t); return m ? m[1] : t; }\n"
"function fit(g, t, w) {\n"
"  var n = Math.floor((w - 6) / CW), s = nameOf(g);\n"
"  t.textContent = n < 3 ? \"\" : s.length <= n ? s : s.slice(0, n - 2) + \"..\";\n"
"}\n"
"function place(g, x, w, cls) {\n"
"  var i = info(g);\n"
"  i.r.setAttribute(\"x\", x.toFixed(1));\n"
"  i.r.setAttribute(\"width\", w.toFixed(1));\n"
"  i.t.setAttribute(\"x\", (x + 3).toFixed(1));\n"
"  fit(g, i.t, w);\n"
"  if (w >= OUTLINED) cls = cls ? cls + \" s\" : \"s\";\n"
"  if (cls) g.setAttribute(\"class\", cls); else g.removeAttribute(\"class\");\n"
"  g.style.display = \"\";\n"
"}\n"
"function zoom(g) {\n"
"  var sec = g.parentNode, z = info(g), bs = boxes(sec);\n"
"  if (!z.n) return;\n"
"  for (var k = 0; k < bs.length; k++) {\n"
"    var b = bs[k], i = info(b);\n"
"    if (i.d < z.d && i.s <= z.s && z.s < i.s + i.n)\n"
"      place(b, PAD, W, \"parent\");\n"
"    else if (i.d >= z.d && i.s >= z.s && i.s + i.n <= z.s + z.n)\n"
"      place(b, PAD + (i.s - z.s) * W / z.n, i.n * W / z.n, \"\");\n"
"    else\n"
"      b.style.display = \"none\";\n"
"  }\n"
"  sec.setAttribute(\"data-zoom\", z.d + \":\" + z.s);\n"
"  unzoomBtn.style.opacity = \"1\";\n"
"}\n"
"function unzoom() {\n"
"  var ss = sections();\n"
"  for (var j = 0; j < ss.length; j++) {\n"
"    var sec = ss[j], total = +sec.getAttribute(\"data-total\"), bs = boxes(sec);\n"
"    sec.removeAttribute(\"data-zoom\");\n"
"    for (var k = 0; k < bs.length; k++) {\n"
"      var i = info(bs[k]);\n"
"      place(bs[k], PAD + i.s * W / total, i.n * W / total, \"\");\n"
"    }\n"
"  }\n"
"  unzoomBtn.style.opacity = \"0\";\n"
"}\n"
"function clearSearch() {\n"
"  var rs = svg.querySelectorAll(\"rect[data-fill]\");\n"
"  for (var k = 0; k < rs.length; k++) {\n"
"    rs[k].setAttribute(\"fill\", rs[k].getAttribute(\"data-fill\"));\n"
"    rs[k].removeAttribute(\"data-fill\");\n"
"  }\n"
"  matched.textContent = \"\";\n"
"  svg.removeAttribute(\"data-matched\");\n"
"}\n"
"function search(term) {\n"
"  var re, sum = 0, ss = sections();\n"
"  clearSearch();\n"
"  if (!term) return 0;\n"
"  try { re = new RegExp(term); }\n"
"  catch (e) { re = new RegExp(term.replace(/[.*+?^${}()|[\\]\\\\]/g, \"\\\\$&\")); }\n"
"  for (var j = 0; j < ss.length; j++) {\n"
"    var bs = boxes(ss[j]), spans = [], end = -1;\n"
"    for (var k = 0; k < bs.length; k++) {\n"
"      var i = info(bs[k]);\n"
"      if (!i.d || !re.test(nameOf(bs[k]))) continue;\n"
"      i.r.setAttribute(\"data-fill\", i.r.getAttribute(\"fill\"));\n"
"      i.r.setAttribute(\"fill\", \"#e040e0\");\n"
"      spans.push([i.s, i.s + i.n]);\n"
"    }\n"
"    /* a match inside another counts once */\n"
"    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });\n"
"    for (var k = 0; k < spans.length; k++) {\n"
"      if (spans[k][1] <= end) continue;\n"
"      sum += spans[k][1] - Math.max(spans[k][0], end);\n"
"      end = spans[k][1];\n"
"    }\n"
"  }\n"
"  var pct = all ? 100 * sum / all : 0;\n"
"  matched.textContent = \"Matched: \" + pct.toFixed(2) + \"% (\" + sum +\n"
"    (sum == 1 ? \" sample)\" : \" samples)\");\n"
"  svg.setAttribute(\"data-matched\", String(sum));\n"
"  return pct;\n"
"}\n"
"function ask() {\n"
"  var term = window.prompt(\"Search for (a regular expression):\", \"\");\n"
"  if (term !== null) search(term);\n"
"}\n"
"function boxOf(el) {\n"
"  for (; el && el !== svg; el = el.parentNode)\n"
"    if (el.parentNode && el.parentNode.getAttribute &&\n"
"        el.parentNode.getAttribute(\"class\") === \"section\")\n"
"      return el;\n"
"  return null;\n"
"}\n"
"svg.addEventListener(\"click\", function (e) {\n"
"  var g = boxOf(e.target);\n"
"  if (g) zoom(g);\n"
"});\n"
"svg.addEventListener(\"mouseover\", function (e) {\n"
"  var g = boxOf(e.target);\n"
"  if (g) details.textContent = title(g);\n"
"});\n"
"svg.addEventListener(\"mouseout\", function (e) {\n"
"  if (boxOf(e.target)) details.textContent = \" \";\n"
"});\n"
"unzoomBtn.addEventListener(\"click\", function (e) { e.stopPropagation(); unzoom(); });\n"
"searchBtn.addEventListener(\"click\", function (e) { e.stopPropagation(); ask(); });\n"
"window.addEventListener(\"keydown\", function (e) {\n"
"  if ((e.ctrlKey && e.key === \"f\") || e.key === \"/\") { e.preventDefault(); ask(); }\n"
"  else if (e.key === \"Escape\") { clearSearch(); unzoom(); }\n"
"});\n"
"var q = /[?&]s=([^&]*)/.exec(window.location.search || \"\");\n"
"if (q) { try { search(decodeURIComponent(q[1])); } catch (e) { search(q[1]); } }\n"
"window.snakescopeFlame = { zoom: zoom, unzoom: unzoom, search: search };\n"
"})();\n";

struct level {
	uint32_t frame;
	unsigned long start, n, idle;
};

struct flame {
	const struct profile *pf;
	bool with_pid;
	FILE *f;
	struct strbuf sb, name;
	unsigned long all;       /* samples in every section */
	unsigned long total;     /* ... in the section being written */
	int y;                   /* the section's top */
	unsigned long omitted;   /* boxes too narrow to draw */
	int rc;
};

/* Append s (already made printable by escape_text) for XML text or an
 * attribute, at most max code points of it.  U+FFFE and U+FFFF, which
 * XML does not allow, become their escapes. */
static void xml_add(struct strbuf *sb, const char *s, size_t max)
{
	for (size_t n = 0; *s && n < max; n++) {
		const unsigned char *u = (const unsigned char *)s;
		size_t len;

		switch (*s) {
		case '&': strbuf_addstr(sb, "&amp;"); s++; continue;
		case '<': strbuf_addstr(sb, "&lt;"); s++; continue;
		case '>': strbuf_addstr(sb, "&gt;"); s++; continue;
		case '"': strbuf_addstr(sb, "&quot;"); s++; continue;
		case '\'': strbuf_addstr(sb, "&#39;"); s++; continue;
		}
		len = utf8_seq_len(u);
		if (!len || (len == 1 && *u < 0x20)) {
			/* escape_text leaves neither: the check is cheap */
			strbuf_addf(sb, "\\x%02x", *u);
			s++;
		} else if (len == 3 && u[0] == 0xef && u[1] == 0xbf &&
			   u[2] >= 0xbe) {
			strbuf_addf(sb, "\\u%s", u[2] == 0xbe ? "fffe" : "ffff");
			s += 3;
		} else {
			strbuf_add(sb, s, len);
			s += len;
		}
	}
}

static size_t utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* fl->name: a frame's text as the folded format writes it. */
static void frame_name(struct flame *fl, const struct prof_frame *fr)
{
	strbuf_reset(&fl->name);
	escape_text(&fl->name, fr->function);
	strbuf_addstr(&fl->name, " (");
	escape_text(&fl->name, fr->filename);
	if (fr->line >= 0)
		strbuf_addf(&fl->name, ":%d", fr->line);
	strbuf_addch(&fl->name, ')');
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

void flame_color(enum prof_kind kind, bool idle, const char *function,
		 char out[8])
{
	uint64_t h = name_hash(function);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0,
	       v3 = ((h >> 16) & 0xff) / 255.0;
	int r, g, b;

	if (idle) {            /* greys: time spent waiting */
		r = g = 175 + (int)(40 * v1);
		b = r + 12;
	} else if (kind == PROF_NATIVE) {   /* blues */
		r = 70 + (int)(50 * v1);
		g = 150 + (int)(60 * v2);
		b = 200 + (int)(55 * v3);
	} else if (kind == PROF_INTERNAL) { /* violets */
		r = 165 + (int)(40 * v1);
		g = 135 + (int)(30 * v2);
		b = 200 + (int)(40 * v3);
	} else {               /* Python: reds to yellows */
		r = 215 + (int)(40 * v1);
		g = 80 + (int)(140 * v2);
		b = 30 + (int)(45 * v3);
	}
	snprintf(out, 8, "#%02x%02x%02x", r & 0xff, g & 0xff, b & 0xff);
}

static void flush(struct flame *fl)
{
	if (fwrite(fl->sb.buf, 1, fl->sb.len, fl->f) != fl->sb.len)
		fl->rc = -1;
	strbuf_reset(&fl->sb);
}

/* One box at depth d: samples [s, s + n) of the section, named fl->name. */
static void box(struct flame *fl, int d, unsigned long s, unsigned long n,
		const char *fill)
{
	struct strbuf *sb = &fl->sb;
	double x = PAD + (double)s * INNER / fl->total;
	double w = (double)n * INNER / fl->total;
	size_t fits = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
	size_t len;

	if (w < FLAME_MIN_WIDTH) {
		fl->omitted++;
		return;
	}
	strbuf_addstr(sb, w >= OUTLINED ? "<g class=\"s\"><title>" :
		      "<g><title>");
	xml_add(sb, fl->name.buf, SIZE_MAX);
	strbuf_addf(sb, " (%lu sample%s, %.2f%%)</title>", n,
		    n == 1 ? "" : "s", fl->all ? 100.0 * n / fl->all : 0.0);
	strbuf_addf(sb, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		    "fill=\"%s\" data-s=\"%lu\" data-n=\"%lu\" data-d=\"%d\"/>",
		    x, fl->y + d * ROW, w, ROW - 1, fill, s, n, d);
	strbuf_addf(sb, "<text x=\"%.1f\" y=\"%d\">", x + 3,
		    fl->y + d * ROW + ROW - 4);
	/* the script's rule: all of it, or what fits and "..", or nothing */
	len = utf8_count(fl->name.buf);
	if (fits >= 3 && len <= fits) {
		xml_add(sb, fl->name.buf, SIZE_MAX);
	} else if (fits >= 3) {
		xml_add(sb, fl->name.buf, fits - 2);
		strbuf_addstr(sb, "..");
	}
	strbuf_addstr(sb, "</text></g>\n");
	if (sb->len > 1 << 16)
		flush(fl);
}

static void close_level(struct flame *fl, const struct level *lv, int d)
{
	const struct prof_frame *fr = &fl->pf->frames[lv->frame];
	char fill[8];

	if ((double)lv->n * INNER / fl->total < FLAME_MIN_WIDTH) {
		fl->omitted++;
		return;
	}
	frame_name(fl, fr);
	flame_color(fr->kind, 2 * lv->idle > lv->n, fr->function, fill);
	box(fl, d, lv->start, lv->n, fill);
}

/* ---- the stacks in order ---------------------------------------------- */

static uint64_t section_of(const struct flame *fl, const struct prof_stack *st)
{
	if (fl->pf->by_thread && st->thread != UINT32_MAX)
		return st->thread;
	if (fl->with_pid)
		return (uint32_t)st->pid;
	return 0;
}

static int frame_cmp(const struct profile *pf, uint32_t a, uint32_t b)
{
	const struct prof_frame *x = &pf->frames[a], *y = &pf->frames[b];
	int c;

	if (a == b)
		return 0;
	if ((c = strcmp(x->function, y->function)) ||
	    (c = strcmp(x->filename, y->filename)))
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static int stack_cmp(const void *pa, const void *pb, void *arg)
{
	const struct flame *fl = arg;
	const struct prof_stack *a = *(struct prof_stack *const *)pa;
	const struct prof_stack *b = *(struct prof_stack *const *)pb;
	uint64_t sa = section_of(fl, a), sb = section_of(fl, b);
	size_t n = a->nframes < b->nframes ? a->nframes : b->nframes;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	for (size_t k = 0; k < n; k++) {
		int c = frame_cmp(fl->pf, a->frames[k], b->frames[k]);

		if (c)
			return c;
	}
	return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
}

/* The section of the sorted stacks [i, *end): its samples and depth. */
static unsigned long section_span(const struct flame *fl,
				  struct prof_stack **sorted, size_t n,
				  size_t i, size_t *end, size_t *depth)
{
	uint64_t key = section_of(fl, sorted[i]);
	unsigned long total = 0;

	*depth = 0;
	for (; i < n && section_of(fl, sorted[i]) == key; i++) {
		total += sorted[i]->count;
		if (sorted[i]->nframes > *depth)
			*depth = sorted[i]->nframes;
	}
	*end = i;
	return total;
}

/* Write the boxes of the sorted stacks [i, end), one section. */
static void section(struct flame *fl, struct prof_stack **sorted, size_t i,
		    size_t end, struct level *lv)
{
	const struct profile *pf = fl->pf;
	const struct prof_stack *first = sorted[i];
	size_t depth = 0;
	unsigned long x = 0;
	char label[512];

	strbuf_addf(&fl->sb, "<g class=\"section\" data-total=\"%lu\">\n",
		    fl->total);
	for (; i < end; i++) {
		const struct prof_stack *st = sorted[i];
		size_t common = 0;

		while (common < depth && common < st->nframes &&
		       !frame_cmp(pf, lv[common + 1].frame, st->frames[common]))
			common++;
		for (size_t d = depth; d > common; d--)
			close_level(fl, &lv[d], (int)d);
		for (size_t k = common; k < st->nframes; k++)
			lv[k + 1] = (struct level){ .frame = st->frames[k],
						    .start = x };
		depth = st->nframes;
		for (size_t d = 1; d <= depth; d++) {
			lv[d].n += st->count;
			lv[d].idle += st->idle;
		}
		x += st->count;
	}
	for (size_t d = depth; d > 0; d--)
		close_level(fl, &lv[d], (int)d);
	/* The section's root, last: the script finds boxes by their data,
	 * not their order. */
	strbuf_reset(&fl->name);
	if (pf->by_thread && first->thread != UINT32_MAX) {
		profile_thread_label(&pf->threads[first->thread], fl->with_pid,
				     label, sizeof(label));
		escape_text(&fl->name, label);
	} else if (fl->with_pid) {
		strbuf_addf(&fl->name, "process %d", (int)first->pid);
	} else {
		strbuf_addstr(&fl->name, "all");
	}
	box(fl, 0, 0, fl->total, GREY);
	strbuf_addstr(&fl->sb, "</g>\n");
}

int profile_write_flamegraph(const struct profile *pf, bool with_pid,
			     const char *title, FILE *f)
{
	struct prof_stack **sorted = NULL;
	struct level *lv;
	struct flame fl;
	size_t maxdepth = 0, nsections = 0, rows = 0, end, depth;
	int height;

	memset(&fl, 0, sizeof(fl));
	fl.pf = pf;
	fl.with_pid = with_pid;
	fl.f = f;
	strbuf_init(&fl.sb);
	strbuf_init(&fl.name);
	if (pf->nstacks) {
		sorted = xmalloc(pf->nstacks * sizeof(*sorted));
		memcpy(sorted, pf->stacks, pf->nstacks * sizeof(*sorted));
		qsort_r(sorted, pf->nstacks, sizeof(*sorted), stack_cmp, &fl);
	}
	for (size_t i = 0; i < pf->nstacks; i = end) {
		fl.all += section_span(&fl, sorted, pf->nstacks, i, &end,
				       &depth);
		if (depth > maxdepth)
			maxdepth = depth;
		rows += depth + 1;
		nsections++;
	}
	height = TOP + (int)rows * ROW + (int)nsections * GAP + BOTTOM;
	lv = xcalloc(maxdepth + 1, sizeof(*lv));

	strbuf_addf(&fl.sb,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"data-samples=\"%lu\" data-pad=\"%d\" data-inner=\"%d\" "
		"data-char=\"%.1f\" data-outlined=\"%.1f\">\n", FLAME_WIDTH,
		height, FLAME_WIDTH, height, fl.all, PAD, INNER, CHAR_W,
		OUTLINED);
	strbuf_addstr(&fl.sb,
		"<style>\n"
		"text { font: 12px monospace; fill: #000; }\n"
		"g.s rect { stroke: #fff; stroke-width: 0.5; }\n"
		"g.section g:hover rect { stroke: #000; }\n"
		"g.section g { cursor: pointer; }\n"
		"g.parent { opacity: 0.6; }\n"
		"#title { font-size: 17px; }\n"
		"#unzoom, #search { cursor: pointer; }\n"
		"</style>\n"
		"<rect width=\"100%\" height=\"100%\" fill=\"#f6f6f0\"/>\n");
	strbuf_addf(&fl.sb, "<text id=\"title\" x=\"%d\" y=\"24\" "
		    "text-anchor=\"middle\">", FLAME_WIDTH / 2);
	strbuf_reset(&fl.name);
	escape_text(&fl.name, title ? title : "snakescope record");
	xml_add(&fl.sb, fl.name.buf, SIZE_MAX);
	strbuf_addstr(&fl.sb, "</text>\n");
	strbuf_addf(&fl.sb, "<text id=\"unzoom\" x=\"%d\" y=\"24\" "
		    "style=\"opacity:0\">Reset zoom</text>\n"
		    "<text id=\"search\" x=\"%d\" y=\"24\" "
		    "text-anchor=\"end\">Search</text>\n",
		    PAD, FLAME_WIDTH - PAD);
	flush(&fl);

	fl.y = TOP;
	for (size_t i = 0; i < pf->nstacks; i = end) {
		fl.total = section_span(&fl, sorted, pf->nstacks, i, &end,
					&depth);
		section(&fl, sorted, i, end, lv);
		fl.y += (int)(depth + 1) * ROW + GAP;
		flush(&fl);
	}

	/* The note comes after the sweep, which counted the left out. */
	/* (a sample of two running threads is two stacks: the shares in
	 * the titles are of these) */
	strbuf_addf(&fl.sb, "<text id=\"note\" x=\"%d\" y=\"44\" "
		    "text-anchor=\"middle\">%lu stack%s sampled", FLAME_WIDTH / 2,
		    fl.all, fl.all == 1 ? "" : "s");
	if (fl.omitted)
		strbuf_addf(&fl.sb, "; %lu box%s narrower than %.1f px left "
			    "out (the folded format keeps them)", fl.omitted,
			    fl.omitted == 1 ? "" : "es", FLAME_MIN_WIDTH);
	strbuf_addstr(&fl.sb, pf->nstacks ? "; click a box to zoom, "
		      "Ctrl-F to search" : "; nothing was recorded");
	strbuf_addstr(&fl.sb, "</text>\n");
	strbuf_addf(&fl.sb, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		    "<text id=\"matched\" x=\"%d\" y=\"%d\" "
		    "text-anchor=\"end\"></text>\n", PAD, height - 12,
		    FLAME_WIDTH - PAD, height - 12);
	strbuf_addf(&fl.sb, "<script type=\"text/ecmascript\"><![CDATA[\n%s"
		    "]]></script>\n</svg>\n", flame_script);
	flush(&fl);
	free(lv);
	free(sorted);
	strbuf_release(&fl.sb);
	strbuf_release(&fl.name);
	return fl.rc;
}
