"""`manage.py kaleyra_smoke [--base-url URL] [--production]`: runs every Kaleyra call the service
makes once against a sandbox account (or a simulator), cleaning up after itself, and prints for
each what was sent, the status, the answer's keys and whether the parser accepted it. The API key
is BANDYER_API_SECRET_KEY, from the environment; it is never printed."""

import json
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from common.http.client import Exchange
from kaleyra.client import KaleyraClient
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.smoke import Outcome, Recorder, SmokeCheck, Step, answer_keys, check_base_url

ONCE = RetryPolicy(max_retries=0, backoff_seconds=0.0, max_total_seconds=0.0)


class Command(BaseCommand):
    help = "Run every Kaleyra call the service makes once against a sandbox, and show the answers."
    # Its own base URL and guard (check_base_url): the checks of the configured backend
    # (BANDYER_BASE_URL empty, say) must not stop a run against --base-url.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", help="Kaleyra's base URL (default: BANDYER_BASE_URL), or a simulator's"
        )
        parser.add_argument(
            "--production",
            action="store_true",
            help="allow a production Kaleyra host (two test users will stay there)",
        )

    def handle(self, *args, base_url, production, **options):
        base_url = (base_url or settings.BANDYER_BASE_URL).rstrip("/")
        if not base_url:
            raise CommandError("No base URL: pass --base-url or set BANDYER_BASE_URL.")
        try:
            warning = check_base_url(base_url, production=production)
        except ValueError as exc:
            raise CommandError(f"Refused: {exc}") from None
        if not settings.BANDYER_API_SECRET_KEY:
            raise CommandError("BANDYER_API_SECRET_KEY is empty: set it in the environment.")
        if warning:
            self.stderr.write(f"Warning: {warning}.")
        run_id = secrets.token_hex(4)
        recorder = Recorder()
        client = KaleyraClient(
            base_url=base_url,
            api_key=settings.BANDYER_API_SECRET_KEY,
            connect_timeout=settings.KALEYRA_CONNECT_TIMEOUT,
            read_timeout=settings.KALEYRA_READ_TIMEOUT,
            retrier=Retrier(ONCE),
            pool_size=1,
            proxy_url=settings.KALEYRA_PROXY_URL,
            observer=recorder,
        )
        self.stdout.write(f"Kaleyra smoke check against {base_url}, run {run_id}\n")
        check = SmokeCheck(
            client,
            recorder,
            run_id=run_id,
            live=settings.LIVE_TELECONSULTATION,
            on_step=self._print_step,
        )
        steps = check.run()
        failed = [step for step in steps if not step.accepted]
        self.stdout.write(
            f"Summary: {len(steps)} calls, {len(steps) - len(failed)} accepted"
            + "".join(f"; {step.call} {step.outcome}" for step in failed)
            + "."
        )
        self.stdout.write(
            f"Cleanup: room {check.cleanup.room}; webhook {check.cleanup.webhook}; test users "
            f"{', '.join(check.cleanup.users)} stay (the service never deletes Kaleyra users)."
        )
        if failed:
            raise CommandError(f"{len(failed)} of {len(steps)} calls were not accepted.")

    def _print_step(self, step: Step) -> None:
        self.stdout.write(step.call)
        if not step.exchanges:
            self.stdout.write(
                "  (no answer)" if step.outcome is Outcome.NO_ANSWER else "  (not sent)"
            )
        for exchange in step.exchanges:
            self._print_exchange(exchange)
        verdict = "yes" if step.accepted else f"NO ({step.outcome})"
        self.stdout.write(f"  accepted: {verdict}" + (f": {step.detail}" if step.detail else ""))
        self.stdout.write("")

    def _print_exchange(self, exchange: Exchange) -> None:
        query = "&".join(f"{key}={value}" for key, value in (exchange.params or {}).items())
        path = urlsplit(exchange.url).path + (f"?{query}" if query else "")
        sent = "(no body)" if exchange.sent is None else json.dumps(exchange.sent)
        self.stdout.write(f"  {exchange.method} {path}")
        self.stdout.write(f"    sent: {sent}")
        self.stdout.write(f"    status: {exchange.answer.status}")
        self.stdout.write(f"    answer keys: {answer_keys(exchange.answer.text)}")
