"""The base of the clients' exception trees, and how a failure is named in the metrics.

Each client keeps its own tree (`KaleyraError`, `CrudError`) under `OutboundError` and builds it
in its own `build_error`; what they share is here: the operation, the HTTP status when there was
an answer, and the `outcome` label, read from that status or, with no answer, from the class.
"""


class OutboundError(Exception):
    """Base of every failure of an outbound call. `status` is None when nothing was answered
    (then `no_answer_outcome` names what happened)."""

    no_answer_outcome = "unavailable"

    def __init__(self, message: str, *, operation: str, status: int | None = None):
        super().__init__(message)
        self.operation = operation
        self.status = status

    @property
    def outcome(self) -> str:
        if self.status is None:
            return self.no_answer_outcome
        return outcome_of_status(self.status)


def outcome_of_status(status: int) -> str:
    """The outcome of an answer the client could not use, by its status."""
    if status in (401, 403):
        return "auth_error"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "bad_request"
    if status >= 500:
        return "server_error"
    # A 2xx whose body could not be read, or a 1xx/3xx: redirects are not followed.
    return "bad_response"
