"""Who may write to a visit: `TELECONSULTATION_WRITE_ACCESS`.

The gateway authenticates and forwards who the caller is; the service authorizes per visit.
`participants` (the default): creating needs a caller in a plus group, in an admin group
(`TELECONSULTATION_ADMIN_GROUPS`) or a back-office request; changing, adding to, deleting a visit
or its uploads needs a plus participant of that visit, an admin-group member or a back-office
request. `open` is Mia's behaviour (the gateway alone decides), a documented compatibility switch.
Support tools (admin, commands) act as the system and pass no `Writer`. The API checks the caller
before it reads a write's body (`rooms.api.decorators.caller_first` and `visit_first`): a stranger
gets the same 401 or 403 whatever the body holds, and the refusal is in the audit trail.
"""

from dataclasses import dataclass

from django.conf import settings

from kaleyra.types import Role
from rooms.domain import Teleconsultation
from rooms.errors import UnauthorizedUser
from teleconsultation_project.errors import ApiError
from teleconsultation_project.identity import Caller, is_truthy
from teleconsultation_project.service_config import get_service_config

PARTICIPANTS, OPEN = "participants", "open"


class Forbidden(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=403)


@dataclass(frozen=True)
class Writer:
    """Who asks for a write through the API: the caller (None without identity) and whether the
    gateway marked the request as coming from the back office."""

    caller: Caller | None
    backoffice: bool = False

    @property
    def actor(self) -> str | None:
        return self.caller.id if self.caller else None


def writer_from_request(request) -> Writer:
    # Read from the header itself: a back-office request may carry no user id. Read as the
    # caller's own flag is (identity.is_truthy): Mia's gateway may send "1" as well as "true".
    flag = request.headers.get(settings.BACKOFFICE_HEADER_KEY)
    return Writer(caller=request.user, backoffice=is_truthy(flag))


def _open() -> bool:
    return settings.TELECONSULTATION_WRITE_ACCESS == OPEN


def _trusted(writer: Writer | None) -> bool:
    """The system (support tools), the open mode, a back-office request or an admin."""
    if writer is None or _open() or writer.backoffice:
        return True
    admins = set(settings.TELECONSULTATION_ADMIN_GROUPS)
    return writer.caller is not None and bool(admins & set(writer.caller.groups))


def _caller_to_check(writer: Writer | None) -> Caller | None:
    """None when the writer is trusted; else the caller whose rights decide, 401 without one."""
    if writer is None or _trusted(writer):
        return None
    if writer.caller is None:
        raise UnauthorizedUser()
    return writer.caller


def require_identity(writer: Writer | None) -> None:
    """401 before anything is looked up when a write has nobody behind it."""
    _caller_to_check(writer)


def checks_membership(writer: Writer | None) -> bool:
    """Whether a write by `writer` depends on the visit (`require_write` reads its participants);
    401 without identity."""
    return _caller_to_check(writer) is not None


def require_create(writer: Writer | None) -> None:
    caller = _caller_to_check(writer)
    if caller is None:
        return
    if get_service_config().privileges.role_for(caller.groups) is Role.PLUS:
        return
    raise Forbidden(
        f"User {caller.id} may not schedule teleconsultations: it takes a plus group "
        f"({', '.join(sorted(get_service_config().privileges.plus.groups))}) or an admin group"
    )


def require_write(writer: Writer | None, teleconsultation: Teleconsultation) -> None:
    """A plus participant of this visit, an admin or the back office; else 403."""
    caller = _caller_to_check(writer)
    if caller is None:
        return
    member = teleconsultation.participant(caller.id)
    if member is not None and member.role == Role.PLUS.value:
        return
    raise Forbidden(
        f"User {caller.id} may not change teleconsultation {teleconsultation.id}: only "
        "its plus participants, an admin group or the back office may"
    )


# --- reads: what a participant may see ---------------------------------------------------------


def require_caller(caller: Caller | None) -> None:
    """401 `Unauthorized user` before anything is looked up when a read has nobody behind it."""
    if caller is None:
        raise UnauthorizedUser()


def require_participant(caller: Caller | None, teleconsultation: Teleconsultation) -> None:
    """A read of what happened in a visit (its attendance) is for its participants only: anyone
    else gets the 401 a stranger gets from `GET /teleconsultation/{roomId}`."""
    if caller is None or teleconsultation.participant(caller.id) is None:
        raise UnauthorizedUser()
