"""gunicorn settings of the service: read by the image's CMD, docker compose and `make bench`.

The time budget follows the slowest thing a request waits for: Kaleyra calls, which the client
stops after KALEYRA_REQUEST_DEADLINE_SECONDS (retries included). A worker is killed only well
after that, and a shutdown lets requests in flight finish. Logs are the service's JSON lines.
"""

import atexit
import math
import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "teleconsultation_project.wsgi:application"
bind = "0.0.0.0:8000"
# The application loads once, in the master, before any port is opened or worker forked: a
# configuration it refuses stops gunicorn with one message (and workers share its memory).
preload_app = True

# Kaleyra calls wait on the network: threads keep a worker answering while one of them waits.
# Each thread holds its own database connection: workers x threads per instance.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * (_cores or 1) + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# gthread, answering in the JSON error shape what gunicorn refuses before Django sees it.
worker_class = "teleconsultation_project.gunicorn_worker.JsonErrorWorker"

# A request may spend the whole Kaleyra deadline on the provider, plus its own database work.
kaleyra_deadline = float(os.environ.get("KALEYRA_REQUEST_DEADLINE_SECONDS", 20))
timeout = math.ceil(kaleyra_deadline) + 10
graceful_timeout = timeout
# Longer than the usual 60 s idle timeout of the proxy in front, so the proxy closes an idle
# connection first and never reuses one gunicorn has just closed (a 502).
keepalive = 65
# gunicornc's control socket sits at one path per user: a second instance on the same machine
# (tests, another checkout) would take it over. Nothing here uses it.
control_socket_disable = True
# The workers' heartbeat files on a memory file system: a slow disk cannot stall them.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Counters and histograms of every worker add up in one /-/metrics (prometheus_client's
# multiprocess mode); the directory must be set before the application imports prometheus_client.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")
    _master = os.getpid()

    @atexit.register
    def _remove_metrics_dir():  # at the master's exit, a refused start-up included
        if os.getpid() == _master:  # forked workers inherit this handler
            shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # left by an earlier run in a directory given to us
        stale.unlink()


def pre_fork(server, worker):
    # A connection the master opened while loading must not be shared by the workers it forks.
    from django.db import connections

    connections.close_all()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
accesslog = "-"
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "teleconsultation_project.logs.RequestIdFilter"},
        "access_fields": {"()": "teleconsultation_project.logs.GunicornAccessFilter"},
    },
    "formatters": {"json": {"()": "teleconsultation_project.logs.JsonLineFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": loglevel.upper(), "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["console"], "propagate": False},
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["console"],
            "filters": ["access_fields"],
            "propagate": False,
        },
        # gunicorn's access line has every field of the application's one (request id
        # included, from the response header) plus the client and size: one line per request.
        "teleconsultation.access": {"level": "WARNING"},
    },
}
