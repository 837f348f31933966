"""No provider call ever runs while a database transaction is open (rule 12 of the lifecycle)."""

import importlib
import sys

import pytest
from django.conf import settings
from django.db import connection, connections

from kaleyra import provider as provider_module
from tests.rooms.conftest import body, doctor, patient


class TransactionGuard:
    """Wraps the provider and records every call made inside an atomic block: the calling
    thread's, or the request's (the test's thread) for a call made on a kept thread while the
    request works, checked as the call starts and as it ends."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.request_connection = connections["default"]  # this thread's, the requests'
        self.calls_in_transaction: list[str] = []
        self.calls: list[str] = []

    def in_transaction(self) -> bool:
        return connection.in_atomic_block or self.request_connection.in_atomic_block

    def __getattr__(self, name):
        method = getattr(self.wrapped, name)

        def guarded(*args, **kwargs):
            self.calls.append(name)
            inside = self.in_transaction()
            try:
                return method(*args, **kwargs)
            finally:
                if inside or self.in_transaction():
                    self.calls_in_transaction.append(name)

        return guarded


def modules_calling_the_provider() -> list:
    """Every `rooms` module the API loads that gets the provider: found rather than listed, so a
    call that moves to another module stays guarded."""
    importlib.import_module(settings.ROOT_URLCONF)
    return [
        module
        for name, module in sorted(sys.modules.items())
        if name.startswith("rooms.") and hasattr(module, "get_video_provider")
    ]


@pytest.mark.django_db(transaction=True)
def test_every_write_calls_the_provider_outside_transactions(api, simulator, monkeypatch, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    guard = TransactionGuard(provider_module.get_video_provider())
    for module in modules_calling_the_provider():
        monkeypatch.setattr(module, "get_video_provider", lambda: guard)

    room_id = api.post("/teleconsultation", body([doctor()], number=2), format="json").json()[
        "roomId"
    ]
    api.post(f"/teleconsultation/{room_id}/participants/data", patient(), format="json")
    api.patch(
        f"/teleconsultation/{room_id}",
        {"participants": {"number": 2, "data": [doctor(), patient("patient-2")]}},
        format="json",
    )
    # Complete and with new people: the room is asked for while the user map is written.
    complete = api.post(
        "/teleconsultation", body([doctor("doctor-3"), patient("patient-3")]), format="json"
    )
    assert complete.status_code == 201, complete.content
    api.as_user("patient-2").get(f"/teleconsultation/{room_id}")
    api.delete(f"/teleconsultation/{room_id}/uploads")
    api.delete(f"/teleconsultation/{room_id}")

    assert {"create_user", "create_room", "delete_room", "get_room"} <= set(guard.calls)
    assert guard.calls_in_transaction == []
