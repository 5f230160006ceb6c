"""Helper module of thread_states.py (not a target): importing it blocks at
import time, on an Event that lives in the already-imported _record module,
so the importing thread stays parked in the middle of the import (3.x:
inside importlib's _find_and_load).  The Event is never set."""
import _record

_record.import_gate.wait()
