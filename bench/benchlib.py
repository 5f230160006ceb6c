"""Shared by the bench/ scripts: the interpreters to measure, starting
a recording target and measuring one snakescope run."""
import glob
import json
import os
import re
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def interpreters():
    """pyenv's, /usr/bin/python3.X and /opt/py/*/bin/python3.X[d]: every
    interpreter the live tests use, each real file once."""
    found = sorted(glob.glob("/root/.pyenv/versions/*/bin/python"))
    found += sorted(p for p in glob.glob("/usr/bin/python3.[0-9]*")
                    if re.fullmatch(r".*/python3\.\d+", p))
    found += sorted(p for p in glob.glob("/opt/py/*/bin/python3*")
                    if re.fullmatch(r".*/python3\.\d+d?", p))
    seen, out = set(), []
    for p in found:
        real = os.path.realpath(p)
        if os.access(p, os.X_OK) and real not in seen:
            seen.add(real)
            out.append(p)
    return out


def supported_ranges(snakescope):
    """[((2, 7), (2, 7)), ((3, 6), (3, 15))] from "supported: CPython
    2.7, 3.6-3.15"."""
    out = subprocess.run([snakescope, "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"^supported: CPython (.*)$", out, re.M)
    ranges = []
    for part in m[1].split(", "):
        r = re.fullmatch(r"(\d+)\.(\d+)(?:-(\d+)\.(\d+))?", part)
        lo = (int(r[1]), int(r[2]))
        ranges.append((lo, (int(r[3]), int(r[4])) if r[3] else lo))
    return ranges


def version_of(py):
    out = subprocess.run([py, "-c", "import sys; sys.stdout.write('%d %d %s' %"
                          " (sys.version_info[0], sys.version_info[1],"
                          " sys.version.split()[0]))"],
                         capture_output=True, text=True).stdout.split()
    return (int(out[0]), int(out[1])), out[2]


def start(py, target, tmp, extra=()):
    # A fresh record path per start: an old record would look "ready".
    record = tempfile.mktemp(prefix=target + ".", suffix=".json", dir=tmp)
    proc = subprocess.Popen([py, "-B", os.path.join(TOP, "tests", "targets", target),
                             record] + list(extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while not os.path.exists(record):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("%s did not start: %s" % (target,
                               proc.stderr.read().decode(errors="replace")))
        time.sleep(0.02)
    with open(record) as f:
        rec = json.load(f)
    rtid = rec.get("recorder_native_id")
    while rtid and os.path.exists("/proc/%d/task/%d" % (proc.pid, rtid)):
        time.sleep(0.01)
    return proc


def peak_rss_kib(cmd):
    """Peak RSS of cmd, via GNU time.  os.wait4() from this script would
    report Python's own high-water mark: a forked child keeps its parent's
    maxrss across exec."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    m = re.search(r"^RSS (\d+)$", r.stderr, re.M)
    return int(m[1]) if m else None


def measure(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    if status != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd),
                           p.stderr.read().decode(errors="replace")))
    p.stderr.close()
    return wall, (ru.ru_utime + ru.ru_stime) * 1000
