"""What a command run leaves for Prometheus: its process ends with the run, before any scrape, so
with PROMETHEUS_PUSHGATEWAY_URL set the run's outcome is pushed to a Pushgateway, grouped by the
command's name (`job`).

prometheus_client builds the push (its URL and the text format); it goes out through the one
outbound base (`common/http`), counted as service `pushgateway`. A push that fails is a WARNING
line, never a failed run: the run's work is done and its summary printed either way.
"""

import logging
import time
from collections.abc import Callable, Mapping

from django.conf import settings
from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

from common.http.client import Answer, OutboundClient
from common.http.session import DEFAULT_POOL_SIZE, build_session

logger = logging.getLogger("teleconsultation.pushgateway")


class PushFailed(Exception):
    pass


class PushgatewayClient(OutboundClient):
    service = "pushgateway"
    logger = logger

    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 5.0):
        session = build_session(
            headers={}, pool_size=DEFAULT_POOL_SIZE, proxy_url="", environment="never"
        )
        super().__init__(
            session=session, connect_timeout=connect_timeout, read_timeout=read_timeout
        )

    def handler(
        self,
        url: str,
        method: str,
        timeout: float | None,
        headers: list[tuple[str, str]],
        data: bytes,
    ) -> Callable[[], None]:
        """prometheus_client's push handler: the push it prepared, sent through this client."""

        def read(answer: Answer) -> None:
            if not 200 <= answer.status < 300:
                raise PushFailed(f"the Pushgateway answered with status {answer.status}")

        def push() -> None:
            self._attempt("push", method, url, read, headers=dict(headers), data=data)

        return push

    def _transport_error(
        self, operation: str, kind: str, exc: Exception | None, resource: str
    ) -> Exception:
        what = "did not answer in time" if kind == "timeout" else "is unreachable"
        return PushFailed(f"the Pushgateway {what}")


def run_registry(
    *, counts: Mapping[str, int], outcome: str, started: float, finished: float
) -> CollectorRegistry:
    """The metrics of one run: gauges, since each push replaces the run before."""
    registry = CollectorRegistry()
    items = Gauge(
        "teleconsultation_command_items",
        "Items the command's last run handled, by outcome (done, partly_done, skipped, failed)",
        ["outcome"],
        registry=registry,
    )
    for name, count in counts.items():
        items.labels(outcome=name).set(count)
    Gauge(
        "teleconsultation_command_duration_seconds",
        "How long the command's last run took",
        registry=registry,
    ).set(finished - started)
    Gauge(
        "teleconsultation_command_last_run_timestamp_seconds",
        "When the command's last run ended (Unix time)",
        registry=registry,
    ).set(finished)
    Gauge(
        "teleconsultation_command_failed",
        "1 when the command's last run failed, stopped or was interrupted (exit status 1), else 0",
        registry=registry,
    ).set(0 if outcome == "done" else 1)
    if outcome == "done":
        # Left out of a failed run's push: the group keeps the last success's (POST, not PUT).
        Gauge(
            "teleconsultation_command_last_success_timestamp_seconds",
            "When the command's last run that did everything ended (Unix time)",
            registry=registry,
        ).set(finished)
    return registry


def push_run(
    *,
    command: str,
    counts: Mapping[str, int],
    outcome: str,
    started: float,
    client: PushgatewayClient | None = None,
) -> bool:
    """Pushes a run's metrics when PROMETHEUS_PUSHGATEWAY_URL is set; whether it was pushed."""
    url = settings.PROMETHEUS_PUSHGATEWAY_URL
    if not url:
        return False
    registry = run_registry(counts=counts, outcome=outcome, started=started, finished=time.time())
    client = client or PushgatewayClient()
    try:
        pushadd_to_gateway(url, job=command, registry=registry, handler=client.handler)
    except PushFailed as exc:
        logger.warning("The run's metrics were not pushed: %s", exc)
        return False
    return True
