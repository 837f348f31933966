"""URL map: Mia-compatible API, probes and metrics, API docs, admin; JSON 404 for the rest."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from teleconsultation_project import health, metrics, views
from teleconsultation_project.schema import OpenApiJsonView

urlpatterns = [
    # The API first: its busiest route, a waiting participant's poll, is found without trying the
    # probes', the documentation's and the admin's patterns (the probes are answered before the
    # URL map anyway, by ProbeMiddleware).
    path("", include("rooms.urls")),
    path("-/healthz", health.HealthzView.as_view(), name="healthz"),
    path("-/ready", health.ReadyView.as_view(), name="ready"),
    path("-/check-up", health.CheckUpView.as_view(), name="check-up"),
    path("-/metrics", metrics.metrics_view, name="metrics"),
    path("documentation/json", OpenApiJsonView.as_view(), name="openapi"),
    path("documentation/", SpectacularSwaggerView.as_view(url_name="openapi"), name="swagger"),
    path("admin/", admin.site.urls),
    path("", include("settings_api.urls")),
]

if settings.KALEYRA_BACKEND == "simulator":
    urlpatterns.append(path("kaleyra-simulator/", include("kaleyra.simulator.urls")))

# Last: every other path answers the JSON 404 of the contract, in debug mode too.
urlpatterns.append(re_path(r"^.*$", views.not_found))

handler400 = "teleconsultation_project.views.bad_request"
handler403 = "teleconsultation_project.views.permission_denied"
handler404 = "teleconsultation_project.views.not_found"
handler500 = "teleconsultation_project.views.server_error"
