"""Shared by the bench/ scripts: the interpreters to measure."""
import glob
import os
import re


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
