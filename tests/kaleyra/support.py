"""Shared builders of the kaleyra suite (plain functions, imported by the tests)."""

from kaleyra.client import KaleyraClient
from kaleyra.retry import Retrier, RetryPolicy

BASE_URL = "https://api.sandbox.eu.bandyer.com"
API_KEY = "ak_test_Secret123"


class FakeTime:
    """Clock and sleep in one: sleeping advances the clock, so the retry budget is exercised."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(fake_time, *, max_retries=3, backoff=0.5, budget=10.0, rand=None, **options):
    """A client on BASE_URL whose sleeps are recorded; `rand` defaults to the jitter's maximum."""
    retrier = Retrier(
        RetryPolicy(max_retries=max_retries, backoff_seconds=backoff, max_total_seconds=budget),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rand=rand or (lambda low, high: high),
    )
    arguments = {
        "base_url": BASE_URL,
        "api_key": API_KEY,
        "connect_timeout": 3.05,
        "read_timeout": 10.0,
        "retrier": retrier,
    }
    return KaleyraClient(**{**arguments, **options})


def jpeg(width: int = 1280, height: int = 1280, *, size: int = 0) -> bytes:
    """The head of a baseline JPEG as big as `width` x `height`: SOI, a JFIF APP0 and the SOF0
    frame header the simulator reads the size from; padded with zeros to `size` bytes."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"
    sof0 = b"\xff\xc0" + (2 + len(frame)).to_bytes(2, "big") + frame
    head = b"\xff\xd8" + app0 + sof0
    return head + b"\x00" * max(0, size - len(head))


def simulator_api(simulator_http):
    """Calls the served simulator as any v2 client would: `call(method, path, **kwargs)` gives
    (status, JSON body or None, headers)."""
    import requests

    from kaleyra.simulator.pytest_plugin import HTTP_API_KEY

    session = requests.Session()
    session.headers["apikey"] = HTTP_API_KEY
    base = simulator_http.engine.link_base

    def call(method, path, **kwargs):
        response = session.request(method, base + path, timeout=5, **kwargs)
        body = response.json() if response.content else None
        return response.status_code, body, response.headers

    return call
