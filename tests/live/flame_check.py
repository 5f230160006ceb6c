"""The flame graph of `snakescope record -o x.svg` in a real browser:
headless Chromium (Debian's `chromium`) opens the picture as a person
would, the script inside it zooms and searches, and what it did is
compared with the boxes of the file.

check_flame_browser(report, interp, version, workdir, harness, first)
    harness: the live_test module (see record_check).  Runs once, on the
    first interpreter (the picture does not depend on the version); the
    others are reported as skipped by name, and so is every one when
    chromium is not installed.

    profile_mix.py (--depth 2) is recorded for 1 s into x.svg, and a page
    (harness.html, beside it) shows x.svg in an iframe; on its load event
    the page's script, as a person with a mouse:
      - moves over the widest `loop` box: the details line must read that
        box's title;
      - clicks it: it must fill the width (1180 px), every box under it
        must be as wide as its share of it, the boxes above it dimmed
        ('parent') and full width, every other box hidden;
      - clicks Search and answers the prompt '^hot ': every hot box, and
        no other, highlighted, and 'Matched: P% (N samples)' with N the
        hot boxes' samples and P their share of all;
      - presses Escape: every box back where the file put it, no
        highlight, no 'Matched';
      - zooms and searches again, for the screenshot;
    and writes what it saw as JSON into the page, which Chromium prints
    (--dump-dom).  Screenshots of x.svg as opened and of the page after
    the zoom and the search are kept in $SNAKESCOPE_ARTIFACTS/flamegraph/
    (default tests/artifacts/flamegraph/), with x.svg.  The three browsers
    run at once: about 5 s.

Standard library only.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import record_check

BROWSER_TIMEOUT = 40.0
WIDTH = 1180.0              # the boxes' full width (FLAME_WIDTH - 2 * PAD)
TOLERANCE = 0.06            # px: widths are written with one decimal

HARNESS = r"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>flame graph check</title></head>
<body style="margin:0">
<iframe id="f" src="x.svg" width="1200" height="%(height)d"
 style="border:0;display:block"></iframe>
<pre id="result">pending</pre>
<script>
function boxes(d) {
  var out = [], gs = d.querySelectorAll("g.section > g");
  for (var k = 0; k < gs.length; k++) {
    var r = gs[k].querySelector("rect");
    out.push({ title: gs[k].querySelector("title").textContent,
               d: +r.getAttribute("data-d"), s: +r.getAttribute("data-s"),
               n: +r.getAttribute("data-n"),
               x: +r.getAttribute("x"), width: +r.getAttribute("width"),
               hidden: gs[k].style.display === "none",
               cls: gs[k].getAttribute("class") || "",
               fill: r.getAttribute("fill"),
               label: gs[k].querySelector("text").textContent });
  }
  return out;
}
function widest(d, re) {
  var gs = d.querySelectorAll("g.section > g"), best = null, bn = -1;
  for (var k = 0; k < gs.length; k++) {
    var n = +gs[k].querySelector("rect").getAttribute("data-n");
    if (re.test(gs[k].querySelector("title").textContent) && n > bn) {
      best = gs[k]; bn = n;
    }
  }
  return best;
}
function act(fr, d) {
  var w = fr.contentWindow, loop = widest(d, /^loop /), r, ev;
  if (!loop) throw new Error("no loop box");
  r = loop.querySelector("rect");
  r.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
  var hovered = d.getElementById("details").textContent;
  r.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  w.prompt = function () { return "^hot "; };
  d.getElementById("search").dispatchEvent(
    new MouseEvent("click", { bubbles: true }));
  return { hovered: hovered, clicked: loop.querySelector("title").textContent };
}
window.addEventListener("load", function () {
  var out = {};
  try {
    var fr = document.getElementById("f"), d = fr.contentDocument;
    out.before = boxes(d);
    var a = act(fr, d);
    out.hovered = a.hovered;
    out.clicked = a.clicked;
    out.zoomed = boxes(d);
    out.matched = d.getElementById("matched").textContent;
    out.unzoom_opacity = d.getElementById("unzoom").style.opacity;
    fr.contentWindow.dispatchEvent(new KeyboardEvent("keydown",
      { key: "Escape", bubbles: true }));
    out.reset = boxes(d);
    out.matched_after_reset = d.getElementById("matched").textContent;
    act(fr, d);   /* again, for the screenshot */
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  document.getElementById("result").textContent = JSON.stringify(out);
});
</script>
</body></html>
"""


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def artifacts_dir():
    base = os.environ.get("SNAKESCOPE_ARTIFACTS") or os.path.join(
        "tests", "artifacts")
    path = os.path.join(base, "flamegraph")
    os.makedirs(path, exist_ok=True)
    return path


def browse(browser, profile_dir, args):
    """Runs headless Chromium with args; (stdout, problems).  Its whole
    process group goes when it overruns."""
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-extensions",
            "--user-data-dir=" + profile_dir,
            "--allow-file-access-from-files", "--hide-scrollbars"] + args
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "", ["chromium did not finish within %gs: %s"
                    % (BROWSER_TIMEOUT, " ".join(argv))]
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        return "", ["chromium exited with status %d: %s"
                    % (proc.returncode, " ".join(argv))] + tail
    return out.decode("utf-8", "replace"), []


def close(a, b):
    return abs(a - b) <= TOLERANCE


def zoom_problems(state, clicked):
    """The boxes after the click on the box titled 'clicked'."""
    problems = []
    z = [b for b in state if b["title"] == clicked]
    if len(z) != 1:
        return ["the clicked box %r is not once in the picture" % clicked]
    z = z[0]
    for b in state:
        inside = b["d"] >= z["d"] and z["s"] <= b["s"] and \
            b["s"] + b["n"] <= z["s"] + z["n"]
        above = b["d"] < z["d"] and b["s"] <= z["s"] < b["s"] + b["n"]
        if inside:
            want = b["n"] * WIDTH / z["n"]
            if b["hidden"] or not close(b["width"], want) or \
                    not close(b["x"], 10 + (b["s"] - z["s"]) * WIDTH / z["n"]):
                problems.append("after the zoom, %r: x %.1f width %.1f%s, "
                                "expected width %.1f"
                                % (b["title"], b["x"], b["width"],
                                   " hidden" if b["hidden"] else "", want))
        elif above:
            if b["hidden"] or "parent" not in b["cls"].split() or \
                    not close(b["width"], WIDTH):
                problems.append("after the zoom, %r above the clicked box: "
                                "width %.1f, class %r%s (expected %g, "
                                "'parent')" % (b["title"], b["width"],
                                               b["cls"], " hidden"
                                               if b["hidden"] else "", WIDTH))
        elif not b["hidden"]:
            problems.append("after the zoom, %r (beside the clicked box) "
                            "is still shown" % b["title"])
    return problems[:10]


def search_problems(state, matched, samples):
    problems = []
    hot = [b for b in state if b["title"].startswith("hot ") and b["d"] > 0]
    lit = [b for b in state if b["fill"] == "#e040e0"]
    if not hot:
        problems.append("no hot box to find")
    if sorted(b["title"] for b in lit) != sorted(b["title"] for b in hot):
        problems.append("highlighted %r, expected the hot boxes %r"
                        % ([b["title"] for b in lit][:5],
                           [b["title"] for b in hot][:5]))
    n = sum(b["n"] for b in hot)
    want = "Matched: %.2f%% (%d sample%s)" % (
        100.0 * n / samples if samples else 0, n, "" if n == 1 else "s")
    if matched != want:
        problems.append("the search says %r, expected %r" % (matched, want))
    return problems


def reset_problems(before, after, matched):
    problems = []
    if matched:
        problems.append("after Escape 'Matched' still reads %r" % matched)
    if len(before) != len(after):
        return problems + ["%d boxes before, %d after Escape"
                           % (len(before), len(after))]
    for b, a in zip(before, after):
        if a["hidden"] or not close(a["x"], b["x"]) or \
                not close(a["width"], b["width"]) or a["fill"] != b["fill"] \
                or a["label"] != b["label"]:
            problems.append("after Escape %r: x %.1f width %.1f fill %s "
                            "label %r; as opened: %.1f %.1f %s %r"
                            % (a["title"], a["x"], a["width"], a["fill"],
                               a["label"], b["x"], b["width"], b["fill"],
                               b["label"]))
    return problems[:10]


def png_problems(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return ["no screenshot: %s" % e]
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 2000:
        return ["%s is not a screenshot (%d bytes)" % (path, len(data))]
    return []


def check_flame_browser(report, interp, version, workdir, harness, first):
    what = "%s %s: flame graph in a browser" % (version, interp)
    if not first:
        report.skip("%s - runs once, on the first interpreter" % what)
        return
    browser = chromium()
    if not browser:
        report.skip("%s - chromium not installed (scripts/install-deps.sh "
                    "installs it)" % what)
        return
    t0 = time.monotonic()
    cx = record_check.Context(harness, interp, version, workdir)
    t = cx.target("profile_mix.py", ["--depth", "2"])
    try:
        try:
            record_check.wait_record(t, stats=True)
        except (RuntimeError, ValueError) as e:
            report.fail(what, ["profile_mix.py ready: %s" % e])
            return
        base = os.path.join(workdir, "flame-%d" % harness.serial())
        os.makedirs(base)
        svg = os.path.join(base, "x.svg")
        res = cx.snakescope("record", t.pid, "-o", svg, "--duration", "1")
    finally:
        t.kill()
    problems = record_check.run_problems(res)
    if problems:
        report.fail(what + ": record -o x.svg", problems)
        return
    doc, problems = record_check.parse_svg(svg)
    if doc is None:
        report.fail(what + ": x.svg", problems)
        return
    with open(svg) as f:
        height = int(re.search(r' height="(\d+)"', f.read()).group(1))
    page = os.path.join(base, "harness.html")
    with open(page, "w") as f:
        f.write(HARNESS % {"height": height})
    keep = artifacts_dir()
    who = re.sub(r"[^A-Za-z0-9.]+", "_", interp).strip("_")
    stem = os.path.join(keep, "%s-%s-" % (version, who))
    shutil.copy(svg, stem + "profile.svg")
    # The three browsers at once, each with a profile of its own: the
    # check's time is one browser's start-up, not three.
    runs = {"dom": ["--dump-dom", "file://" + page]}
    for name, url, size in (
            ("opened", "file://" + svg, "1200,%d" % height),
            ("zoom-search", "file://" + page, "1200,%d" % (height + 40))):
        runs[name] = ["--window-size=" + size,
                      "--screenshot=" + stem + name + ".png", url]
    results = {}

    def one(name):
        results[name] = browse(browser, os.path.join(base, "profile-" + name),
                               runs[name])
    threads = [threading.Thread(target=one, args=(k,)) for k in runs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    out, problems = results["dom"]
    m = re.search(r'<pre id="result">(.*?)</pre>', out, re.S)
    if not problems and not m:
        problems = ["no result in the page Chromium printed: %r"
                    % out[-500:]]
    if not problems:
        text = m.group(1).replace("&lt;", "<").replace("&gt;", ">") \
            .replace("&quot;", '"').replace("&amp;", "&")
        try:
            seen = json.loads(text)
        except ValueError as e:
            seen = {"error": "not JSON (%s): %r" % (e, text[:300])}
        if "error" in seen:
            problems.append("the page's script failed: %s" % seen["error"])
        else:
            if seen["hovered"] != seen["clicked"]:
                problems.append("the details line reads %r over the box "
                                "titled %r" % (seen["hovered"],
                                               seen["clicked"]))
            if seen["unzoom_opacity"] != "1":
                problems.append("'Reset zoom' not shown after a zoom")
            problems += zoom_problems(seen["zoomed"], seen["clicked"])
            problems += search_problems(seen["zoomed"], seen["matched"],
                                        doc["samples"])
            problems += reset_problems(seen["before"], seen["reset"],
                                       seen["matched_after_reset"])
    report_what = what + " (hover, click to zoom, search, Escape)"
    if problems:
        report.fail(report_what, problems[:20])
    else:
        report.ok(report_what)

    shots, problems = [], []
    for name in ("opened", "zoom-search"):
        png = stem + name + ".png"
        shots.append(os.path.basename(png))
        problems += results[name][1] or png_problems(png)
    if problems:
        report.fail(what + ": screenshots", problems[:5])
    else:
        report.ok(what + ": screenshots in %s (%s)" % (keep, ", ".join(shots)))
    report.note("%s: took %.1f s" % (what, time.monotonic() - t0))
