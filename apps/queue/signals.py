"""Signals that let other apps join in the queue's work without the queue depending on them.

- `purge_requested(now)`: `purgesync` runs; a receiver deletes its own old rows and returns
  (what, how many) for the command's report.
- `sync_call_logged(site_id, call, status_code, at, counts, error, app_version)`: a sync call's log row
  was written (after its response went out); monitoring adds the call to its rollup and counters.
"""

from django.dispatch import Signal

purge_requested = Signal()
sync_call_logged = Signal()
