from django.urls import include, path

urlpatterns = [path("kaleyra-simulator/", include("kaleyra.simulator.urls"))]
