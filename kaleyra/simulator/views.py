"""Django view of the join page, for the in-process simulator (links under
KALEYRA_SIMULATOR_PUBLIC_URL, served by the main service at `kaleyra-simulator/`)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from kaleyra.simulator.engine import Engine
from kaleyra.simulator.join import render_join_page


@require_GET
def join_page(request: HttpRequest, token: str) -> HttpResponse:
    engine = Engine(settings.KALEYRA_SIMULATOR_DB, link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL)
    status, html = render_join_page(engine.join_target(token), dict(request.GET.lists()))
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
