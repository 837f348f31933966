"""Routes of the /settings API."""

urlpatterns: list = []
