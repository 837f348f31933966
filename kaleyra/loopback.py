"""Whether a URL points at this machine: plain HTTP to the local simulator is tolerated there,
and the simulator delivers webhooks nowhere else."""

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(hostname: str | None) -> bool:
    """127.0.0.0/8, ::1 and localhost."""
    if not hostname:
        return False
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)
