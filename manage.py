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
        sys.stdout.flush()  # inside the try: a closed pipe is noticed here at the latest
    except BrokenPipeError:
        end_quietly_on_closed_pipe()
    except ImproperlyConfigured as exc:
        if apps.ready:
            raise  # a command's own failure: its traceback is the useful part
        # Start-up refused (missing variables, bad DATABASE_URL, broken service configuration):
        # the message names what to fix; a traceback would only bury it.
        sys.exit(f"Error: {exc}")


def end_quietly_on_closed_pipe() -> None:
    """Whoever read stdout went away (`manage.py export_audit ... | head`): stop as a shell tool
    does, without a traceback. Python's recommended handling (the `signal` module's docs, "Note on
    SIGPIPE"): stdout goes to devnull so the flush at exit cannot fail again, and the exit status
    is a SIGPIPE death's, 128 + 13."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(141)


if __name__ == "__main__":
    main()
