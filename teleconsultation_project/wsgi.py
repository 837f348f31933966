"""WSGI entry point for gunicorn (configured by gunicorn.conf.py)."""

import logging
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teleconsultation_project.settings")

try:
    application = get_wsgi_application()
    # The URL map, and every view and module it names, imported now rather than by the first
    # request: with gunicorn's preload_app, once in the master, so that no forked worker's first
    # request pays for it (~120 ms on 2 cores), and the workers share those pages of memory.
    get_resolver().url_patterns  # noqa: B018
except ImproperlyConfigured as exc:
    # One line naming what to fix instead of a traceback. Exit status 4 is gunicorn's own for
    # "application failed to load": from a worker, it stops gunicorn instead of a restart loop.
    logging.getLogger("teleconsultation.startup").critical("Cannot start: %s", exc)
    sys.exit(4)
