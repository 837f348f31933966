"""The poll, `GET /teleconsultation/{id}`, answered ahead of the general middleware stack.

A waiting participant's page asks this every 30 seconds until its link is handed out, so it is
most of the service's traffic. Through the whole stack a poll costs twice the CPU of its own work:
sessions, CSRF, messages and static files (all for the admin), URL resolution, DRF's dispatch and
content negotiation (docs/performance.md). `PollMiddleware` sits after the request id, the access
log, the request metrics and the Kaleyra deadline, and answers a plain poll itself with what the
DRF view uses: the caller from the gateway headers, `join_link.teleconsultation_access`, the same
body, renderer, error handler and audit entry, Django's own security, common and frame-options
middleware, django-prometheus' per-view metrics. The answer is the view's, byte for byte
(tests/rooms/test_poll.py compares the two over callers, visits, errors and headers).

Anything out of the ordinary goes on down the stack to the view: a query option to validate
(`useBackground`, `language`, DRF's `format`), a body, an Accept header DRF might refuse or that
asks for indentation, a Host that is not allowed, a request the security middleware redirects.
"""

import re
import time

from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import ResolverMatch, resolve
from django.utils.functional import cached_property
from django_prometheus.middleware import Metrics
from rest_framework.renderers import JSONRenderer

from rooms.api.serializers import AccessQuerySerializer, AccessSerializer
from rooms.selectors import join_link
from rooms.services import audit
from teleconsultation_project.errors import api_exception_handler
from teleconsultation_project.identity import caller_from_headers, request_headers

POLL = re.compile(r"/teleconsultation/([^/]+)")
# Query parameters the view reads: DRF's format override and the GET's options.
VIEW_PARAMETERS = frozenset(("format", *AccessQuerySerializer.PARAMETERS))
# Accept values for which DRF's negotiation picks the JSON renderer with no options.
JSON_ACCEPTED = frozenset(("*/*", "application/*", "application/json"))


def _unused(request):  # the middleware below are called for their process_* steps only
    raise AssertionError("not called")


class PollMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.security = SecurityMiddleware(_unused)
        self.common = CommonMiddleware(_unused)
        self.frame_options = XFrameOptionsMiddleware(_unused)
        self.renderer = JSONRenderer()

    def __call__(self, request):
        match = POLL.fullmatch(request.path_info)
        if match is None or request.method != "GET" or not _plain(request):
            return self.get_response(request)
        try:
            # The Host check (ALLOWED_HOSTS), and the redirects settings may ask for.
            redirect = self.security.process_request(request) or self.common.process_request(
                request
            )
        except DisallowedHost:
            redirect = True
        if redirect:
            return self.get_response(request)  # the stack answers, as for any other path
        teleconsultation_id = match[1]
        request.resolver_match = ResolverMatch(
            self._view, (), {"roomId": teleconsultation_id}, url_name=self._route.url_name
        )
        began = time.perf_counter()
        response = self._answer(request, teleconsultation_id)
        self._metrics.record(request, response, time.perf_counter() - began)
        response = self.frame_options.process_response(request, response)
        response = self.common.process_response(request, response)
        return self.security.process_response(request, response)

    def _answer(self, request, teleconsultation_id: str) -> HttpResponse:
        caller = caller_from_headers(request_headers(request.META), request.GET)
        try:
            access = join_link.teleconsultation_access(
                teleconsultation_id=teleconsultation_id, caller=caller
            )
        except Exception as exc:  # as the view's handle_exception: the contract's error body
            return self._error(request, exc)
        response = self._json(AccessSerializer(access).data, status=200)
        if access.access_link:
            audit.link_handed_out(request, teleconsultation_id, caller.id)
        return response

    def _error(self, request, exc: Exception) -> HttpResponse:
        answer = api_exception_handler(exc, {"request": request, "view": None})
        response = self._json(answer.data, status=answer.status_code)
        for name, value in answer.items():
            if name.lower() != "content-type":  # the rendered answer's own is kept
                response[name] = value  # Retry-After and the like
        return response

    def _json(self, body: dict, *, status: int) -> HttpResponse:
        response = HttpResponse(
            self.renderer.render(body), status=status, content_type="application/json"
        )
        response["Allow"] = self._allow
        return response

    @cached_property
    def _route(self) -> ResolverMatch:
        return resolve("/teleconsultation/" + "0" * 24)

    @cached_property
    def _view(self):
        return self._route.func

    @cached_property
    def _allow(self) -> str:
        view = self._view.view_class(**self._view.view_initkwargs)
        view.setup(None)  # as Django does per request: it adds HEAD where there is GET
        return ", ".join(view.allowed_methods)

    @cached_property
    def _metrics(self) -> "_ViewMetrics":
        return _ViewMetrics(self._route.view_name)


class _ViewMetrics:
    """The series django-prometheus' PrometheusAfterMiddleware records for a request to the view,
    recorded alike for the poll (its label sets looked up once, not on every request)."""

    def __init__(self, view: str):
        self.metrics = Metrics.get_instance()
        self.view = view
        self._children: dict = {}

    def _child(self, metric, **labels):
        key = (metric, *labels.values())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(**labels)
        return child

    def record(self, request, response, seconds: float) -> None:
        m, view, method = self.metrics, self.view, "GET"
        transport = "https" if request.is_secure() else "http"
        status = str(response.status_code)
        self._child(m.requests_by_method, method=method).inc()
        self._child(m.requests_by_transport, transport=transport).inc()
        if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":
            m.requests_ajax.inc()
        m.requests_body_bytes.observe(0)  # a poll has no body (_plain)
        self._child(
            m.requests_by_view_transport_method, view=view, transport=transport, method=method
        ).inc()
        self._child(m.responses_by_status, status=status).inc()
        self._child(
            m.responses_by_status_view_method, status=status, view=view, method=method
        ).inc()
        # The view's answers are DRF Responses, template responses with no template name.
        self._child(m.responses_by_templatename, templatename="None").inc()
        self._child(m.responses_by_charset, charset=str(response.charset)).inc()
        m.responses_body_bytes.observe(len(response.content))
        self._child(m.requests_latency_by_view_method, view=view, method=method).observe(seconds)


def _plain(request) -> bool:
    """A poll the view would answer with nothing to validate, parse or negotiate."""
    meta = request.META
    if meta.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in meta:
        return False
    if meta.get("QUERY_STRING"):
        try:
            if not VIEW_PARAMETERS.isdisjoint(request.GET.keys()):
                return False
        except SuspiciousOperation:  # too many parameters: the view says so, as for any endpoint
            return False
    accept = meta.get("HTTP_ACCEPT")
    if not accept:
        return True
    if ";" in accept:
        return False  # a quality or an `indent`: DRF's negotiation decides
    return not JSON_ACCEPTED.isdisjoint(kind.strip() for kind in accept.split(","))
