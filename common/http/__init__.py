"""The one base of every outbound HTTP call (Kaleyra, the CRUD Service, the user directory).

`client.OutboundClient` is the only code that hands a request to a `requests` session: it owns
the (connect, read) timeouts, the incoming request's deadline (`deadline`), the `X-Request-Id`
passed on, the repeat of calls that are safe to repeat (`retry`), the error base (`errors`) and
one Prometheus family for every call (`metrics`). The session and its pool are built in `session`.
Only this package and the simulators import `requests` (tests/foundation/test_outbound_http.py).
"""
