"""The simulator's state lives in its sqlite file: shared by handles, kept across restarts."""

import sqlite3
import subprocess
import sys

import pytest

from kaleyra.errors import KaleyraServerError
from kaleyra.retry import Retrier, RetryPolicy
from kaleyra.simulator import Simulator
from kaleyra.simulator.engine import Engine
from kaleyra.simulator.inprocess import InProcessSimulator
from kaleyra.types import ParticipantSpec, Role

PARTICIPANTS = [ParticipantSpec("doctor", True, {}), ParticipantSpec("patient", False, {})]


def provider_on(path):
    engine = Engine(path, link_base="http://sim.test")
    return InProcessSimulator(engine, Retrier(RetryPolicy(0, 0.0, 0.0)))


def test_state_survives_a_restart_on_the_same_file(tmp_path):
    path = tmp_path / "state.sqlite3"
    first = provider_on(path)
    first.create_user(user_id="doctor", role=Role.PLUS)
    first.create_user(user_id="patient", role=Role.BASIC)
    room = first.create_room(participants=PARTICIPANTS, duration=300, live=True)
    Simulator(path).fail_next("get_room", mode="500")

    second = provider_on(path)
    handle = Simulator(path)
    assert handle.users() == {"doctor": Role.PLUS, "patient": Role.BASIC}
    assert handle.room_exists(room.id)
    assert handle.get_room_record(room.id)["duration"] == 300
    assert second.get_company().name == "Simulated company"
    assert handle.call_count("create_room") == 1
    with pytest.raises(KaleyraServerError):  # the fault queued through the other handle
        second.get_room(room.id)
    assert second.get_room(room.id) == room


def test_the_company_id_is_stable_across_handles(tmp_path):
    path = tmp_path / "state.sqlite3"
    Simulator(path)
    with sqlite3.connect(path) as connection:
        before = connection.execute("SELECT company_id FROM company").fetchone()
    Simulator(path).reset()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT company_id FROM company").fetchone() == before


def test_the_parent_directory_is_created_and_the_file_uses_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "state.sqlite3"
    Simulator(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reset_forgets_everything(tmp_path):
    path = tmp_path / "state.sqlite3"
    provider = provider_on(path)
    provider.create_user(user_id="doctor", role=Role.PLUS)
    provider.create_user(user_id="patient", role=Role.BASIC)
    room = provider.create_room(participants=PARTICIPANTS, duration=None, live=True)
    handle = Simulator(path)
    handle.add_upload(room.id)
    handle.fail_next("get_company", mode="500")
    handle.reset()
    assert (handle.users(), handle.rooms(), handle.uploads(), handle.calls()) == ({}, [], [], {})
    assert provider.get_company().name == "Simulated company"  # the fault went too


def test_another_process_sees_and_changes_the_same_state(tmp_path):
    path = tmp_path / "state.sqlite3"
    handle = Simulator(path)
    script = (
        "from kaleyra.simulator import Simulator\n"
        "from kaleyra.simulator.engine import Engine\n"
        f"engine = Engine({str(path)!r}, link_base='http://x')\n"
        "engine.create_user({'id': 'from-child', 'role': 'plus'})\n"
        "print(Simulator(" + repr(str(path)) + ").call_count('create_user'))\n"
    )
    handle.engine.enter("create_user")
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=20
    )
    assert done.stdout.strip() == "1"
    assert handle.user_role("from-child") is Role.PLUS
