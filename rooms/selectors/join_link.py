"""Reads of the teleconsultation domain: what a participant may see.

`teleconsultation_access` is the GET endpoint: one storage read (one SQL query) and at most one
provider call, none while the room's details are cached (`rooms.selectors.room_details`). A
participant's join link is handed out only when the room exists and the join window is open
(`rooms.rules.join_window`); before that the answer says from when it will be, after it since when
it is closed.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils import timezone

from rooms.errors import TeleconsultationNotFound, UnauthorizedUser
from rooms.rules import join_window
from rooms.rules.languages import link_language
from rooms.selectors.room_details import room_details
from rooms.storage import get_storage
from teleconsultation_project.identity import Caller
from teleconsultation_project.service_config import get_service_config


@dataclass(frozen=True)
class CallParticipant:
    kaleyra_user_id: str
    full_name: str


@dataclass(frozen=True)
class Access:
    kaleyra_user_id: str
    access_link: str | None
    available_from: datetime
    # Set once the join window has closed (JOIN_CLOSES_AFTER_END_MS): the link is null for good.
    closed_at: datetime | None
    participants: tuple[CallParticipant, ...]
    details: dict | None


# `language` is set here, so a copy in the stored link goes; a name never stays in a link (a URL
# ends up in browser history and proxy logs): Kaleyra asks the user details provider instead.
DROPPED_PARAMETERS = frozenset({"language", "display_name", "dn"})


def personal_link(link: str, *, language: str | None, background: bool) -> str:
    """The stored join link with the participant's options (Kaleyra's documented parameters),
    and no personal data: the call shows names from `POST /kaleyra/user-details`."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in DROPPED_PARAMETERS]
    if language:
        query.append(("language", language))
    if background:
        query.append(("virtual_background", "image"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def teleconsultation_access(
    *,
    teleconsultation_id: str,
    caller: Caller | None,
    language: str | None = None,
    use_background: bool = False,
) -> Access:
    if caller is None:
        raise UnauthorizedUser()
    teleconsultation = get_storage().find(teleconsultation_id)
    if teleconsultation is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    members = teleconsultation.participants
    me = teleconsultation.participant(caller.id)
    if me is None:
        raise UnauthorizedUser()
    now = timezone.now()
    link = None
    if join_window.link_available(teleconsultation, me, now=now):
        background = use_background or get_service_config().wants_background(
            [*caller.groups, *me.groups]
        )
        link = personal_link(
            me.access_link,
            language=link_language(language, me.language),
            background=background,
        )
    return Access(
        kaleyra_user_id=me.kaleyra_user_id,
        access_link=link,
        available_from=join_window.opens_at(teleconsultation),
        closed_at=join_window.closed_at(teleconsultation, now=now),
        participants=tuple(CallParticipant(m.kaleyra_user_id, m.full_name) for m in members),
        details=room_details(teleconsultation.kaleyra_room_id),
    )
