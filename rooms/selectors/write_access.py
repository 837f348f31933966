"""Who before what: the visit a write with a body is about, read and checked before the body is
(`rooms.api.decorators.visit_first`), so a stranger learns nothing from the body's validity."""

from rooms.domain import Teleconsultation
from rooms.errors import TeleconsultationNotFound
from rooms.rules import permissions
from rooms.rules.permissions import Writer
from rooms.storage import get_storage


def visit_to_write(*, teleconsultation_id: str, writer: Writer) -> Teleconsultation | None:
    """The visit, once `writer` may write to it, refused in the contract's order: no identity 401,
    unknown or trashed 404, not a plus participant 403. None when the writer is trusted (the back
    office, an admin, the open mode): nothing is read then, and the body is judged first, as Mia
    does."""
    if not permissions.checks_membership(writer):
        return None
    teleconsultation = get_storage().find(teleconsultation_id)
    if teleconsultation is None:
        raise TeleconsultationNotFound(teleconsultation_id)
    permissions.require_write(writer, teleconsultation)
    return teleconsultation
