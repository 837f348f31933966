"""The pure rules of visit events out: lead times as the operator writes them, the backoff between
attempts, and the signature a receiver checks (`rooms.services.visit_events` sends them)."""

import hashlib
import hmac
import re
from datetime import timedelta

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def lead_time(text: str) -> timedelta:
    """`24h`, `15m`, `30s`, `2d`: a positive whole number and its unit."""
    match = _DURATION.match(text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a lead time such as 24h or 15m")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4... minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def signature(body: bytes, *, timestamp: int, secret: str) -> str:
    """The header's value: `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
