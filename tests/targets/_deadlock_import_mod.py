"""Helper module of deadlocks.py's import_wait scenario (not a target).

Importing it never finishes: its top level tells deadlocks.py that the
import is under way (an Event that deadlocks.py stored on the
already-imported _record module), then sleeps forever.  The importing
thread thus keeps holding this module's import lock, and a second thread
that imports it waits for that lock."""
import time

import _record

_record.deadlock_import_started.set()
while True:
    time.sleep(3600)
