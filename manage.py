#!/usr/bin/env python
"""Django's command-line entry point for the teleconsultation service."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teleconsultation_project.settings")
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from teleconsultation_project.logs import command_verbosity, configure_command_logging

    verbosity = command_verbosity(sys.argv)
    if verbosity is not None:
        configure_command_logging(verbosity)
    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        if apps.ready:
            raise  # a command's own failure: its traceback is the useful part
        # Start-up refused (missing variables, bad DATABASE_URL, broken service configuration):
        # the message names what to fix; a traceback would only bury it.
        sys.exit(f"Error: {exc}")


if __name__ == "__main__":
    main()
