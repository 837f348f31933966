"""Command-line options the support commands share: dates with an offset, batches, dry runs,
items handled at once."""

import argparse
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

DEFAULT_BATCH_SIZE = 100
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64  # each item in hand holds a thread and a database connection


def aware_datetime(text: str) -> datetime:
    """An ISO 8601 date and time with its offset, as the API takes them: `Z` or `+hh:mm`."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time")
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no offset: add Z or +hh:mm (e.g. 2026-12-01T00:00:00Z)"
        )
    return moment


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return number


def concurrency(text: str) -> int:
    number = positive_int(text)
    if number > MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"{number} is more than {MAX_CONCURRENCY} items at once (each holds a database "
            "connection)"
        )
    return number


def days_ago(days: int) -> datetime:
    """That many days before now, to the second: a cut-off people read (no microseconds)."""
    return (timezone.now() - timedelta(days=days)).replace(microsecond=0)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done, change nothing"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows read at a time (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--concurrency",
        type=concurrency,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"items handled at once, each on its own thread and database connection, 1 to "
        f"{MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY}; 1: one after the other)",
    )
