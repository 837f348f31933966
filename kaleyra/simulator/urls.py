"""Routes of the simulator's pages, included by the project at `kaleyra-simulator/` when the
simulator backend is active."""

from django.urls import path

from kaleyra.simulator.views import join_page, recording

app_name = "kaleyra_simulator"

urlpatterns = [
    path("join/<str:token>", join_page, name="join"),
    path("recordings/<str:token>", recording, name="recording"),
]
