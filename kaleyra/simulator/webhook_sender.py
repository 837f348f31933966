"""The simulator's webhook deliveries: envelopes signed as Kaleyra signs them (`bandyer-signature`),
posted from a background thread to loopback URLs, with a short timeout. An answer other than
2xx, or no answer, is retried: Kaleyra retries until it gets its 200 [DOC webhooks], on a
schedule it does not document, so here `attempts` tries `backoff` seconds apart, doubling. A
delivery that never succeeds is logged, never raised: the simulated operation has happened."""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from kaleyra.loopback import is_loopback_url
from kaleyra.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger("kaleyra.simulator")

DELIVERY_TIMEOUT = (1.0, 2.0)
DELIVERY_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 0.5
EVENT_VERSION = "1.0"  # as in the docs' signed sample [DOC]
# (url, key), read at each delivery: the URL used when no webhook is registered (no url = none).
Target = Callable[[], tuple[str, str]]


class WebhookSender:
    def __init__(
        self,
        target: Target,
        *,
        clock: Callable[[], float] = time.time,
        attempts: int = DELIVERY_ATTEMPTS,
        backoff: float = RETRY_BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._target = target
        self._clock = clock
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep

    @classmethod
    def fixed(cls, url: str, key: str, **options: Any) -> "WebhookSender":
        return cls(lambda: (url, key), **options)

    @classmethod
    def from_settings(cls, **options: Any) -> "WebhookSender":
        """Delivers to KALEYRA_SIMULATOR_WEBHOOK_URL as it is when the event happens, signed with
        the key the service verifies with (`kaleyra.webhooks.configured_key`)."""

        def target() -> tuple[str, str]:
            from django.conf import settings

            from kaleyra.webhooks import configured_key

            return settings.KALEYRA_SIMULATOR_WEBHOOK_URL, configured_key()

        return cls(target, **options)

    def envelope(self, event: str, namespace: str, data: Mapping[str, Any]) -> bytes:
        payload = {
            "event": event,
            "event_version": EVENT_VERSION,
            "namespace": namespace,
            "timestamp": int(self._clock() * 1000),  # milliseconds, as in the docs' sample
            "data": dict(data),
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    def send(
        self,
        event: str,
        namespace: str,
        data: Mapping[str, Any],
        *,
        urls: Sequence[str] | None = None,
    ) -> threading.Thread | None:
        """Starts delivering `event` to `urls` (None: the sender's own URL); returns the delivery
        thread (join it to wait), or None when no URL is left once those not on this machine
        are dropped."""
        own_url, key = self._target()
        candidates = [own_url] if urls is None else list(urls)
        targets = []
        for url in filter(None, candidates):
            if is_loopback_url(url):
                targets.append(url)
            else:
                logger.error("Simulated webhook %s not sent: %s is not a loopback URL", event, url)
        if not targets:
            return None
        body = self.envelope(event, namespace, data)
        thread = threading.Thread(
            target=self._deliver_all,
            args=(targets, body, key, event),
            name=f"kaleyra-simulator-webhook-{event}",
            daemon=True,
        )
        thread.start()
        return thread

    def _deliver_all(self, urls: list[str], body: bytes, key: str, event: str) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only: no proxy applies
        try:
            for url in urls:
                self._deliver(session, url, body, key, event)
        finally:
            session.close()

    def _deliver(
        self, session: requests.Session, url: str, body: bytes, key: str, event: str
    ) -> None:
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(key, int(self._clock()), body),  # signed at each try
            }
            try:
                response = session.post(
                    url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT, allow_redirects=False
                )
            except requests.RequestException as exc:
                logger.warning("Simulated webhook %s to %s failed: %s", event, url, exc)
                continue
            if 200 <= response.status_code < 300:
                return
            logger.warning(
                "Simulated webhook %s to %s answered %s", event, url, response.status_code
            )
        logger.warning(
            "Simulated webhook %s to %s given up after %s attempts", event, url, self.attempts
        )
