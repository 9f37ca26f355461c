"""gunicorn settings read by every `gunicorn` started in this folder (make run, the test harnesses).

Only what /metrics needs with several workers: prometheus-client's multiprocess mode. Each worker
writes its counters to files in PROMETHEUS_MULTIPROC_DIR, and a scrape answered by any worker adds
them all up. The folder must be set before a worker imports prometheus_client, so it is set here, in
the master: an empty folder of its own unless the environment names one (emptied at start, since
files of an earlier run would be counted again). A worker that exits has its live gauges dropped.
"""

import os
import shutil
import tempfile

_own_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="syncserver-metrics-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
