"""The id of the request being served, for every layer that logs it or passes it on.

The project's middleware sets it for each request; the log lines, the audit trail and the clients
of Kaleyra, the CRUD Service and the user directory read it (the clients send it along as
`X-Request-Id`). It lives here, below them all, so that those clients need not import the project.
"""

import contextvars

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
