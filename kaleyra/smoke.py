"""The Kaleyra smoke check (`manage.py kaleyra_smoke`): every call the service makes, once, against
a sandbox account or a simulator, in order and cleaning up after itself, keeping for each what was
sent and answered and whether `kaleyra.wire` accepted the answer. A failed call does not stop the
run; what it created is deleted whatever happens."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from common.http.client import Exchange
from kaleyra.client import KaleyraClient
from kaleyra.errors import KaleyraBadResponse, KaleyraError
from kaleyra.loopback import is_loopback_host
from kaleyra.types import TOOL_KEYS, ParticipantSpec, Role, Room

T = TypeVar("T")

# api.<region>.bandyer.com is production; sandboxes are api.sandbox.<region>.bandyer.com.
KALEYRA_HOST = re.compile(r"(?:.+\.)?bandyer\.com", re.IGNORECASE)
ROOM_SECONDS = 600
CREDENTIALS_SECONDS = 360  # the shortest lifetime Kaleyra grants [DOC]
WEBHOOK_EVENTS = ("on_room_deleted",)
# Registered, never called: `.invalid` cannot resolve (RFC 2606).
WEBHOOK_URL = "https://example.invalid/kaleyra-smoke/{run_id}"
ANSWER_LIMIT = 300  # characters of a refusal's body shown
KEY_DEPTH = 3  # how deep answer_keys shows nested objects


def check_base_url(base_url: str, *, production: bool) -> str | None:
    """ValueError for a URL the check must not run against; a warning for one it may but that is
    neither a Kaleyra sandbox nor this machine; None when fine."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if is_loopback_host(host) and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https" or not host:
        raise ValueError(
            f"the base URL must be https:// (plain http only on this machine), got {base_url!r}."
        )
    if KALEYRA_HOST.fullmatch(host):
        if "sandbox" in host.lower().split("."):
            return None
        if not production:
            raise ValueError(
                f"{host} is a production Kaleyra host: the check creates users and a room there. "
                "Use a sandbox (api.sandbox.<region>.bandyer.com), or pass --production."
            )
        return f"running against production ({host}): its two test users will stay"
    return f"{host} is neither a Kaleyra sandbox nor this machine"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not accepted"  # a 2xx the parser refused: a wrong guess in kaleyra.wire
    REFUSED = "refused"  # a 4xx or 5xx
    NO_ANSWER = "no answer"  # timeout, connection refused or dropped
    SKIPPED = "skipped"  # what it needed was not made


@dataclass
class Step:
    """One call: its client method, the exchanges it made, how it ended, a word on the result
    (never a token or a link) and the result itself."""

    call: str
    outcome: Outcome = Outcome.SKIPPED
    detail: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    result: Any = None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def may_have_made_something(self) -> bool:
        """Kaleyra may have done it, though we cannot read what it answered."""
        return self.outcome in (Outcome.NOT_ACCEPTED, Outcome.NO_ANSWER)


class Recorder:
    """The client's observer: keeps the exchanges of the step under way."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def take(self) -> list[Exchange]:
        taken, self.exchanges = self.exchanges, []
        return taken


@dataclass
class Cleanup:
    """What the run made and what became of it, for the summary."""

    users: tuple[str, ...]
    room: str = "none made"
    webhook: str = "none made"


class SmokeCheck:
    """`run()` makes the calls in order and reports each step to `on_step` as it ends."""

    def __init__(
        self,
        client: KaleyraClient,
        recorder: Recorder,
        *,
        run_id: str,
        live: bool,
        on_step: Callable[[Step], None],
    ):
        self.client = client
        self.recorder = recorder
        self.live = live
        self.on_step = on_step
        self.steps: list[Step] = []
        self.plus_user = f"smoke-{run_id}-plus"
        self.basic_user = f"smoke-{run_id}-basic"
        self.description = f"smoke:{run_id}"
        self.webhook_url = WEBHOOK_URL.format(run_id=run_id)
        self.cleanup = Cleanup(users=(self.plus_user, self.basic_user))

    def run(self) -> list[Step]:
        self.call("get_company", self.client.get_company)
        for user_id, role in ((self.plus_user, Role.PLUS), (self.basic_user, Role.BASIC)):
            self.call(
                "create_user",
                partial(self.client.create_user, user_id=user_id, role=role),
                describe=lambda user: f"{user.id} ({user.role})",
            )
        self.call(
            "get_user",
            lambda: self.client.get_user(self.plus_user),
            describe=lambda user: f"{user.id} ({user.role})",
        )
        self.call(
            "update_user_role",  # to the role it has: no licence is taken
            lambda: self.client.update_user_role(user_id=self.basic_user, role=Role.BASIC),
            describe=lambda user: f"{user.id} ({user.role})",
        )
        made = self.call("create_room", self._create_room, describe=_room_detail)
        room_id = made.result.id if made.accepted else _raw_id(made, "room")
        try:
            self._use_room(room_id)
            self._webhook()
        finally:
            self._delete_room(made, room_id)
        return self.steps

    def _create_room(self) -> Room:
        return self.client.create_room(
            participants=[
                ParticipantSpec(self.plus_user, True, dict.fromkeys(TOOL_KEYS, True)),
                ParticipantSpec(self.basic_user, False, {"chat": True}),
            ],
            duration=ROOM_SECONDS,
            live=self.live,
            description=self.description,
        )

    def _use_room(self, room_id: str | None) -> None:
        if room_id is None:
            self.skip("get_room", "no room id")
        else:
            self.call("get_room", lambda: self.client.get_room(room_id), describe=_room_detail)
        self.call(
            "iter_rooms",
            lambda: next(self.client.iter_rooms(), None),
            describe=lambda room: "first page read" + (f", first room {room.id}" if room else ""),
        )
        self.call(
            "create_sdk_credentials",
            lambda: self.client.create_sdk_credentials(
                user_id=self.plus_user, expires_in=CREDENTIALS_SECONDS
            ),
            describe=lambda token: f"a token for {token.user_id}, expires {token.expires_at}",
        )
        if room_id is None:
            self.skip("iter_room_uploads", "no room id")
            self.skip("iter_room_sessions", "no room id")
        else:
            self.call(
                "iter_room_uploads",
                lambda: next(self.client.iter_room_uploads(room_id), None),
                describe=lambda upload: "first page read",
            )
            # A new room has had no call: an empty first page (recording_link and
            # delete_recording need a recorded session, so they are not run).
            self.call(
                "iter_room_sessions",
                lambda: next(self.client.iter_room_sessions(room_id), None),
                describe=lambda session: "first page read",
            )

    def _webhook(self) -> None:
        made = self.call(
            "register_webhook",
            lambda: self.client.register_webhook(url=self.webhook_url, events=WEBHOOK_EVENTS),
            describe=lambda hook: f"id {hook.id}, events {', '.join(hook.events) or '(none)'}",
        )
        webhook_id = made.result.id if made.accepted else _raw_id(made, "webhook")
        try:
            listed = self.call(
                "list_webhooks",
                self.client.list_webhooks,
                describe=lambda hooks: (
                    f"{len(hooks)} registered, ours "
                    + ("listed" if any(h.url == self.webhook_url for h in hooks) else "NOT listed")
                ),
            )
            if webhook_id is None and listed.accepted:
                webhook_id = next(
                    (h.id for h in listed.result if h.url == self.webhook_url and h.id), None
                )
        finally:
            self._delete_webhook(made, webhook_id)

    def _delete_webhook(self, made: Step, webhook_id: str | None) -> None:
        if webhook_id is None:
            if made.accepted or made.may_have_made_something:
                self.cleanup.webhook = f"id unknown: delete the one posting to {self.webhook_url}"
            self.skip("delete_webhook", "no webhook id")
            return
        deleted = self.call("delete_webhook", lambda: self.client.delete_webhook(webhook_id))
        self.cleanup.webhook = f"{webhook_id} " + ("deleted" if deleted.accepted else "NOT deleted")

    def _delete_room(self, made: Step, room_id: str | None) -> None:
        if room_id is None:
            if made.may_have_made_something:
                self.cleanup.room = f"id unknown: delete the room described {self.description!r}"
            self.skip("delete_room", "no room id")
            return
        deleted = self.call("delete_room", lambda: self.client.delete_room(room_id))
        self.cleanup.room = f"{room_id} " + ("deleted" if deleted.accepted else "NOT deleted")

    def call(
        self, call: str, run: Callable[[], T], describe: Callable[[T], str] | None = None
    ) -> Step:
        """Runs one call of the client and reports it; a KaleyraError ends the step, not the run."""
        step = Step(call)
        try:
            step.result = run()
        except KaleyraBadResponse as exc:
            step.outcome, step.detail = Outcome.NOT_ACCEPTED, str(exc)
        except KaleyraError as exc:
            step.outcome = Outcome.NO_ANSWER if exc.status is None else Outcome.REFUSED
            # The body as the error keeps it: truncated, the API key removed.
            step.detail = str(exc) + (f"; answered {exc.body[:ANSWER_LIMIT]}" if exc.body else "")
        else:
            step.outcome = Outcome.ACCEPTED
            step.detail = describe(step.result) if describe else ""
        step.exchanges = self.recorder.take()
        self._report(step)
        return step

    def skip(self, call: str, reason: str) -> None:
        self._report(Step(call, detail=reason))

    def _report(self, step: Step) -> None:
        self.steps.append(step)
        self.on_step(step)


def _room_detail(room: Room) -> str:
    """The room's id and the hosts of its join links: never a link, which lets anyone in."""
    hosts = sorted({urlsplit(p.link).hostname or "?" for p in room.participants})
    return f"{room.id}, {len(room.participants)} participants, links on {', '.join(hosts)}"


def _raw_id(step: Step, wrapper: str) -> str | None:
    """The id in an answer the parser refused (`id` or `<wrapper>_id`, bare or wrapped in
    `{wrapper: ...}`), so what was made can still be deleted."""
    for exchange in step.exchanges:
        if not 200 <= exchange.answer.status < 300:
            continue
        try:
            payload = json.loads(exchange.answer.text)
        except ValueError:
            continue
        for obj in (payload, payload.get(wrapper) if isinstance(payload, dict) else None):
            if isinstance(obj, dict):
                for name in ("id", f"{wrapper}_id"):
                    if isinstance(obj.get(name), str) and obj[name]:
                        return obj[name]
    return None


def answer_keys(text: str) -> str:
    """The keys of a JSON answer, nested ones in braces (`rooms[]{id, participants[]{link}}`):
    its shape without a value, so no token, link or id is printed."""
    if not text.strip():
        return "(empty body)"
    try:
        payload = json.loads(text)
    except ValueError:
        return "(not JSON)"
    if isinstance(payload, dict):
        return _keys(payload, KEY_DEPTH) or "(empty object)"
    if isinstance(payload, list):
        return _nested(payload, KEY_DEPTH)
    return f"(a JSON {type(payload).__name__}, no keys)"


def _keys(obj: dict[str, Any], depth: int) -> str:
    return ", ".join(f"{key}{_nested(value, depth - 1)}" for key, value in obj.items())


def _nested(value: Any, depth: int) -> str:
    if isinstance(value, list):
        return "[]" + (_nested(value[0], depth) if value else "")
    if isinstance(value, dict) and depth > 0:
        return "{" + _keys(value, depth) + "}"
    return ""
