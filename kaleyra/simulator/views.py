"""Django views of the simulator's pages, for the in-process simulator (links under
KALEYRA_SIMULATOR_PUBLIC_URL, served by the main service at `kaleyra-simulator/`): the join page
and the recording links."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from kaleyra.simulator.engine import Engine
from kaleyra.simulator.join import join_page as render_join_page
from kaleyra.simulator.sessions import RECORDING_CONTENT_TYPE
from kaleyra.simulator.webhook_sender import WebhookSender


def _engine() -> Engine:
    return Engine(
        settings.KALEYRA_SIMULATOR_DB,
        link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL,
        webhooks=WebhookSender.from_settings(),  # a participant leaving may end a recording
    )


# A simulated call page posts its buttons back to the link itself, as a call client would act
# on its own session; the link's token is the only credential, as on Kaleyra.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def join_page(request: HttpRequest, token: str) -> HttpResponse:
    status, html = render_join_page(
        _engine(),
        token,
        method=request.method or "GET",
        query=dict(request.GET.lists()),
        form=dict(request.POST.lists()),
    )
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


@require_GET
def recording(request: HttpRequest, token: str) -> HttpResponse:
    status, content = _engine().recording_file(token, request.GET.get("expires"))
    content_type = RECORDING_CONTENT_TYPE if status == 200 else "text/plain; charset=utf-8"
    return HttpResponse(content, status=status, content_type=content_type)
