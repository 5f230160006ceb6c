"""Live-test WSGI app for `snakescope dump --subprocesses` of a gunicorn
master (tests/live/procs_check.py): a request to /stuck never ends, any
other is answered at once.

The worker serving /stuck writes its pid to the file named by the
environment variable WSGI_STUCK_FLAG (atomically: tmp + rename), then
sleeps in stuck_request() for good.  Run as `python3 -m gunicorn
--chdir tests/targets wsgi_stuck:app`.  Standard library only.
"""
import os
import time


def stuck_request():
    path = os.environ.get("WSGI_STUCK_FLAG")
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(path + ".tmp", path)
    while True:
        time.sleep(3600)


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/stuck":
        stuck_request()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
