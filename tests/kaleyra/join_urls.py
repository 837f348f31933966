"""URLconf for the join page tests: only the simulator's pages, at the path the project uses."""

from django.urls import include, path

urlpatterns = [path("kaleyra-simulator/", include("kaleyra.simulator.urls"))]
