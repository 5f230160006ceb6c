#!/usr/bin/env python3
"""What `make install` puts in place besides the program: the man page
snakescope(1) and the bash completion, checked installed under a DESTDIR.

- `make install DESTDIR=D` installs D/PREFIX/share/man/man1/snakescope.1
  and D/PREFIX/share/bash-completion/completions/snakescope (datadir
  derived from the prefix), and `make uninstall DESTDIR=D` removes both;
- the man page renders without a warning (`groff -man -ww -z`, `man -l`
  with warnings), lexgrog finds its NAME line, its .TH names the
  program's version;
- it cannot drift from the program: each command's section (.SS
  "snakescope CMD") names every option that `snakescope CMD --help`
  lists, and defines (.TP) no option that --help does not; OPTIONS names
  the main --help's; EXIT STATUS lists 0 to 7; ENVIRONMENT names every
  variable the sources getenv();
- the completion script loads in bash; `snakescope d<TAB>` gives dump and
  deadlock; for each command `snakescope CMD -<TAB>` offers exactly the
  options of its --help (`run MODE -<TAB>` those of the mode, without
  -p/--pid, and --delay for dump); `--tasks=<TAB>`, `--format <TAB>`; a
  process ID completes to the PIDs of Python processes: a python started
  here is offered, this shell is not.

Environment: SNAKESCOPE (the binary), SNAKESCOPE_SRCDIR,
SNAKESCOPE_BUILDDIR (where `make install` runs), MAKE.  Exit status 0,
1 on a failure, 77 when groff or bash is missing.  Standard library only.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SNAKESCOPE = os.path.abspath(os.environ.get("SNAKESCOPE") or "./snakescope")
SRCDIR = os.path.abspath(os.environ.get("SNAKESCOPE_SRCDIR") or
                         os.path.join(os.path.dirname(__file__), ".."))
BUILDDIR = os.path.abspath(os.environ.get("SNAKESCOPE_BUILDDIR") or ".")
MAKE = os.environ.get("MAKE") or "make"
COMMANDS = ["dump", "deadlock", "record", "watch", "top", "snapshot", "run"]
RUN_MODES = ["record", "watch", "dump", "top"]
# An option as help texts write them: -x, --long, --long=VALUE
OPT_RE = re.compile(r"(?:(?<=[\s,(\[/'])|^)(--?[A-Za-z][A-Za-z0-9-]*)")

failures = []


def check(what, problems):
    if problems:
        failures.append(what)
        print("FAIL - %s" % what)
        for p in problems:
            print("\n".join("    " + s for s in str(p).splitlines()))
    else:
        print("ok - %s" % what)
    sys.stdout.flush()


def run(argv, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.run(argv, timeout=120, **kw)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def help_options(args):
    """The options `snakescope ARGS --help` lists: those of its option
    lines (indented, starting with '-'), in the tag before the column of
    descriptions (two spaces or more), not those its prose names."""
    rc, out, err = run([SNAKESCOPE] + args + ["--help"])
    if rc != 0:
        raise RuntimeError("snakescope %s --help: exit %d %s"
                           % (" ".join(args), rc, err))
    opts = set()
    for line in out.splitlines():
        if re.match(r"^\s+-", line):
            opts |= set(OPT_RE.findall(re.split(r"\s{2,}",
                                                line.strip())[0]))
    return opts


def make(target, destdir):
    env = dict(os.environ)
    # a make of our own, not a job of the make running the tests
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(var, None)
    return run([MAKE, "-C", BUILDDIR, target, "DESTDIR=" + destdir],
               env=env)


# --------------------------------------------------------------------------
# the man page

def roff_text(line):
    """A roff line as the words it shows: fonts dropped, \\- as -."""
    line = re.sub(r"\\f(\[[A-Z]*\]|[BIRP])", "", line)
    return line.replace("\\-", "-").replace("\\(em", "--").replace('"', "")


def man_sections(path):
    """{("SH", name) or ("SS", name): [lines]} of the page, roff source."""
    sections, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r'^\.(SH|SS)\s+"?([^"]*)"?\s*$', line)
            if m:
                cur = (m.group(1), m.group(2))
                sections[cur] = []
            elif cur is not None:
                sections[cur].append(line)
    return sections


def section_options(lines):
    """(every option named, the options .TP items define)."""
    named, defined = set(), set()
    for i, line in enumerate(lines):
        text = roff_text(line)
        named |= set(OPT_RE.findall(text))
        if i > 0 and lines[i - 1].startswith(".TP"):
            # the item's tag: options before the first word that is not
            # one (the modes of run are words)
            defined |= set(o for o in OPT_RE.findall(text))
    return named, defined


def check_man(man):
    rc, out, err = run(["groff", "-man", "-ww", "-z", man])
    check("groff -man -ww -z: no warnings", [] if rc == 0 and not err.strip()
          else ["exit %d" % rc, err])
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C")
        rc, out, err = run(["man", "--warnings", "-l", man], env=env)
        check("man -l: renders, without warnings",
              [] if rc == 0 and "snakescope" in out and not err.strip()
              else ["exit %d" % rc, err, out[:500]])
    if shutil.which("lexgrog"):
        rc, out, err = run(["lexgrog", man])
        check("lexgrog: the NAME line",
              [] if rc == 0 and "snakescope - " in out
              else ["exit %d" % rc, out, err])
    sections = man_sections(man)
    with open(man) as f:
        th = [line for line in f if line.startswith(".TH")]
    rc, out, _ = run([SNAKESCOPE, "--version"])
    version = out.split()[1] if out.split()[1:] else "?"
    check(".TH names snakescope %s" % version,
          [] if th and ('"snakescope %s"' % version) in th[0]
          else ["TH line: %r" % th])

    for cmd in COMMANDS:
        lines = sections.get(("SS", "snakescope %s" % cmd))
        if lines is None:
            check("man: section 'snakescope %s'" % cmd, ["missing"])
            continue
        want = help_options([cmd])
        named, defined = section_options(lines)
        problems = ["%s --help lists %s, the man page's section does not "
                    "name it" % (cmd, o) for o in sorted(want - named)]
        problems += ["the man page defines %s for %s, which its --help does "
                     "not list" % (o, cmd) for o in sorted(defined - want)]
        check("man: 'snakescope %s' names the %d options of its --help, "
              "and no other" % (cmd, len(want)), problems)
    want = help_options([])
    named, _ = section_options(sections.get(("SH", "OPTIONS"), []))
    check("man: OPTIONS names those of snakescope --help",
          ["missing %s" % o for o in sorted(want - named)])

    exits = sections.get(("SH", "EXIT STATUS"), [])
    listed = set(exits[i + 1].split()[-1] for i, line in enumerate(exits)
                 if line.startswith(".TP") and i + 1 < len(exits))
    check("man: EXIT STATUS lists 0 to 7",
          ["missing %d" % n for n in range(8) if str(n) not in listed])

    env = " ".join(roff_text(s) for s in sections.get(("SH", "ENVIRONMENT"),
                                                      []))
    used = set()
    for src in glob.glob(os.path.join(SRCDIR, "*", "*.c")):
        if os.sep + "tests" + os.sep in src or os.sep + "fuzz" + os.sep in src:
            continue
        with open(src, errors="replace") as f:
            used |= set(re.findall(r'getenv\("([A-Z_0-9]+)"\)', f.read()))
    check("man: ENVIRONMENT names what the sources getenv() (%s)"
          % ", ".join(sorted(used)),
          ["%s is not in ENVIRONMENT" % v for v in sorted(used)
           if not re.search(r"\b%s\b" % v, env)] +
          ([] if used else ["found no getenv() in %s" % SRCDIR]))


# --------------------------------------------------------------------------
# the completion

COMPLETE = r'''
set -u
. "$1"
t() {
	COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_snakescope
	printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' '
	echo
}
complete -p snakescope >/dev/null || { echo "no completion for snakescope"; exit 1; }
'''


def complete(script, words):
    """COMPREPLY for the command line words (the last the one completed)."""
    body = COMPLETE + "t " + " ".join("'%s'" % w for w in words) + "\n"
    rc, out, err = run(["bash", "--norc", "--noprofile", "-c", body,
                        "bash", script])
    if rc != 0 or err.strip():
        raise RuntimeError("bash: exit %d: %s%s" % (rc, err, out))
    return out.split()


def check_completion(script):
    rc, out, err = run(["bash", "--norc", "--noprofile", "-c",
                        '. "$1" && complete -p snakescope', "bash", script])
    check("completion: loads in bash, completes snakescope",
          [] if rc == 0 and "_snakescope" in out and not err.strip()
          else ["exit %d" % rc, out, err])
    if rc:
        return
    got = complete(script, ["snakescope", "d"])
    check("completion: 'snakescope d<TAB>' -> dump deadlock",
          [] if sorted(got) == ["deadlock", "dump"] else ["got %r" % got])
    got = complete(script, ["snakescope", ""])
    check("completion: 'snakescope <TAB>' -> the commands",
          ["%s missing: %r" % (c, got) for c in COMMANDS if c not in got])

    def opts_of(words):
        return set(o.rstrip("=") for o in complete(script, words))
    for cmd in COMMANDS[:-1]:
        want = help_options([cmd])
        got = opts_of(["snakescope", cmd, "-"])
        check("completion: 'snakescope %s -<TAB>' -> the options of its "
              "--help" % cmd,
              ["missing %s" % o for o in sorted(want - got)] +
              ["extra %s" % o for o in sorted(got - want)])
    for mode in RUN_MODES:
        # run starts a program: no process to name, no core to read
        want = help_options([mode]) - {"-p", "--pid", "--core", "--exe",
                                       "--sysroot", "--lib-path"}
        if mode == "dump":
            # one dump of the program, not of its descendants
            want.discard("--subprocesses")
            want.add("--delay")
        got = opts_of(["snakescope", "run", mode, "-"])
        check("completion: 'snakescope run %s -<TAB>' -> %s's options "
              "without -p/--pid" % (mode, mode),
              ["missing %s" % o for o in sorted(want - got)] +
              ["extra %s" % o for o in sorted(got - want)])
    for words, want in (
            (["snakescope", "dump", "--tasks", "=", ""],
             ["none", "table", "tree"]),
            (["snakescope", "record", "--format", ""],
             ["chrometrace", "flamegraph", "folded", "json", "pprof",
              "raw", "speedscope"]),
            (["snakescope", "run", ""], ["--help", "dump", "record", "top",
                                         "watch"])):
        got = sorted(complete(script, words))
        check("completion: '%s<TAB>' -> %s" % (" ".join(words), " ".join(
            want)), [] if got == want else ["got %r" % got])

    py = sys.executable
    p = subprocess.Popen([py, "-c", "import time; time.sleep(60)"])
    try:
        for words in (["snakescope", "dump", ""],
                      ["snakescope", "top", "-p", ""],
                      ["snakescope", "record", "-o", "f", "--pid", ""]):
            got = complete(script, words)
            problems = []
            if str(p.pid) not in got:
                problems.append("python process %d not offered: %r"
                                % (p.pid, got))
            sleeper = subprocess.Popen(["sleep", "60"])
            try:
                got = complete(script, words)
                if str(sleeper.pid) in got:
                    problems.append("sleep process %d offered"
                                    % sleeper.pid)
            finally:
                sleeper.kill()
                sleeper.wait()
            check("completion: '%s<TAB>' offers a python process's PID, "
                  "not a sleep's" % " ".join(words), problems)
    finally:
        p.kill()
        p.wait()


def main():
    for tool in ("groff", "bash"):
        if not shutil.which(tool):
            print("SKIP - %s is not installed" % tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="snakescope-install-")
    try:
        dest = os.path.join(tmp, "root")
        rc, out, err = make("install", dest)
        check("make install DESTDIR=...", [] if rc == 0 else
              ["exit %d" % rc, out[-2000:], err[-2000:]])
        if rc:
            return 1
        mans = glob.glob(os.path.join(dest, "**", "man1", "snakescope.1"),
                         recursive=True)
        comps = glob.glob(os.path.join(dest, "**", "bash-completion",
                                       "completions", "snakescope"),
                          recursive=True)
        check("installed: share/man/man1/snakescope.1 and "
              "share/bash-completion/completions/snakescope",
              ([] if len(mans) == 1 and mans[0].endswith(
                  "/share/man/man1/snakescope.1") else
               ["man pages: %r" % mans]) +
              ([] if len(comps) == 1 and comps[0].endswith(
                  "/share/bash-completion/completions/snakescope") else
               ["completions: %r" % comps]))
        if mans:
            check_man(mans[0])
        if comps:
            check_completion(comps[0])
        rc, out, err = make("uninstall", dest)
        left = [f for f in mans + comps if os.path.exists(f)]
        check("make uninstall DESTDIR=... removes both",
              ([] if rc == 0 else ["exit %d" % rc, err[-2000:]]) +
              ["%s is still there" % f for f in left])
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        check("install checks ran", [str(e)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
