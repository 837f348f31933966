"""The simulator's webhook deliveries: envelopes signed as Kaleyra signs them (`bandyer-signature`),
posted from a background thread to a loopback URL, once, with a short timeout. A failed delivery
is logged, never raised: the simulated operation has already happened."""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from kaleyra.loopback import is_loopback_url
from kaleyra.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger("kaleyra.simulator")

DELIVERY_TIMEOUT = (1.0, 2.0)
EVENT_VERSION = "1.0"  # as in the docs' signed sample [DOC]
Target = Callable[[], tuple[str, str]]  # (url, key), read at each delivery; no url = no delivery


class WebhookSender:
    def __init__(self, target: Target, *, clock: Callable[[], float] = time.time):
        self._target = target
        self._clock = clock

    @classmethod
    def fixed(cls, url: str, key: str) -> "WebhookSender":
        return cls(lambda: (url, key))

    @classmethod
    def from_settings(cls) -> "WebhookSender":
        """Delivers to KALEYRA_SIMULATOR_WEBHOOK_URL as it is when the event happens, signed with
        the key the service verifies with (`kaleyra.webhooks.configured_key`)."""

        def target() -> tuple[str, str]:
            from django.conf import settings

            from kaleyra.webhooks import configured_key

            return settings.KALEYRA_SIMULATOR_WEBHOOK_URL, configured_key()

        return cls(target)

    def envelope(self, event: str, namespace: str, data: Mapping[str, Any]) -> bytes:
        payload = {
            "event": event,
            "event_version": EVENT_VERSION,
            "namespace": namespace,
            "timestamp": int(self._clock() * 1000),  # milliseconds, as in the docs' sample
            "data": dict(data),
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    def send(self, event: str, namespace: str, data: Mapping[str, Any]) -> threading.Thread | None:
        """Starts delivering `event`; returns the delivery thread (join it to wait), or None when
        no URL is set or the URL is not on this machine."""
        url, key = self._target()
        if not url:
            return None
        if not is_loopback_url(url):
            logger.error("Simulated webhook %s not sent: %s is not a loopback URL", event, url)
            return None
        body = self.envelope(event, namespace, data)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(key, int(self._clock()), body),
        }
        thread = threading.Thread(
            target=_deliver,
            args=(url, body, headers, event),
            name=f"kaleyra-simulator-webhook-{event}",
            daemon=True,
        )
        thread.start()
        return thread


def _deliver(url: str, body: bytes, headers: dict[str, str], event: str) -> None:
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy applies
    try:
        response = session.post(
            url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        logger.warning("Simulated webhook %s to %s failed: %s", event, url, exc)
        return
    finally:
        session.close()
    if response.status_code != 200:
        # Kaleyra retries until it gets a 200 [DOC]; the simulator only says so.
        logger.warning("Simulated webhook %s to %s answered %s", event, url, response.status_code)
