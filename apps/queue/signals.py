"""A signal that lets other apps join in the queue's operator commands without the queue depending on them.

- `purge_requested(now)`: `purgesync` runs; a receiver deletes its own old rows and returns
  (what, how many) for the command's report.
"""

from django.dispatch import Signal

purge_requested = Signal()
