"""WSGI entry point for gunicorn (configured by gunicorn.conf.py)."""

import logging
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teleconsultation_project.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    # One line naming what to fix instead of a traceback per worker; exit status 4 is gunicorn's
    # "application failed to load", which stops the server instead of restarting workers forever.
    logging.getLogger("teleconsultation.startup").critical("Cannot start: %s", exc)
    sys.exit(4)
