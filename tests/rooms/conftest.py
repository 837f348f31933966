"""Builders for teleconsultation requests, and a clock fixed at a known instant."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
START = NOW + timedelta(hours=2)


def person(user_id, groups=("customer",), full_name=None, language=None) -> dict:
    entry = {"userExternalId": user_id, "groups": list(groups), "fullName": full_name or user_id}
    if language:
        entry["language"] = language
    return entry


def doctor(user_id="doctor-1", **kwargs) -> dict:
    return person(
        user_id, groups=("doctor",), full_name=kwargs.pop("full_name", "Dr. Ada"), **kwargs
    )


def patient(user_id="patient-1", **kwargs) -> dict:
    return person(user_id, groups=("customer",), **kwargs)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def body(people, *, number=None, start=START, duration=1800, **extra) -> dict:
    payload = {
        "participants": {"number": number or len(people), "data": list(people)},
        "start_date": iso(start),
        "duration_in_seconds": duration,
    }
    payload.update(extra)
    return payload


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def create(api, db):
    """POSTs a teleconsultation and returns its id, failing loudly on any other answer."""

    def make(people, **kwargs) -> str:
        response = api.post("/teleconsultation", body(people, **kwargs), format="json")
        assert response.status_code == 201, response.json()
        return response.json()["roomId"]

    return make
