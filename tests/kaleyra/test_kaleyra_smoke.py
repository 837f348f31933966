"""`manage.py kaleyra_smoke`: every call once against a simulator over HTTP, what each sent and got,
and a summary whatever the answers were."""

import re
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, ManagementUtility, call_command

from kaleyra.simulator.pytest_plugin import HTTP_API_KEY

CALLS = [
    "get_company",
    "create_user",
    "create_user",
    "get_user",
    "update_user_role",
    "create_room",
    "get_room",
    "iter_rooms",
    "create_sdk_credentials",
    "iter_room_uploads",
    "iter_room_sessions",
    "register_webhook",
    "list_webhooks",
    "delete_webhook",
    "delete_room",
]


def smoke(**options) -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("kaleyra_smoke", stdout=out, stderr=err, **options)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def steps(output: str) -> list[tuple[str, str]]:
    """(call, accepted line) of each step, in order."""
    return re.findall(r"^(\w+)\n(?:  .*\n)*?  accepted: (.*)$", output, re.MULTILINE)


def test_every_call_is_made_once_accepted_and_cleaned_up(simulator_http):
    out, err, failure = smoke(base_url=simulator_http.engine.link_base)
    assert failure is None, out
    assert [call for call, _ in steps(out)] == CALLS
    assert all(accepted.startswith("yes") for _, accepted in steps(out)), out
    assert "Summary: 15 calls, 15 accepted." in out
    assert simulator_http.rooms() == []
    assert simulator_http.registered_webhooks() == []
    assert sorted(simulator_http.users()) == sorted(set(re.findall(r"smoke-[0-9a-f]{8}-\w+", out)))
    assert simulator_http.calls() == {call: CALLS.count(call) for call in CALLS}  # no retry


def test_it_runs_against_its_base_url_whatever_the_configured_one(simulator_http, settings, capsys):
    base_url = simulator_http.engine.link_base
    settings.BANDYER_BASE_URL = ""  # the system check would refuse the configured backend
    ManagementUtility(["manage.py", "kaleyra_smoke", "--base-url", base_url]).execute()
    assert "Summary: 15 calls, 15 accepted." in capsys.readouterr().out


def test_each_call_shows_what_was_sent_the_status_and_the_answers_keys(simulator_http):
    out, _, _ = smoke(base_url=simulator_http.engine.link_base)
    register = out[out.index("register_webhook\n") : out.index("list_webhooks\n")]
    assert "  POST /v2/webhooks\n" in register
    assert '"webhook_filters": [{"event": "on_room_deleted"}]' in register
    assert "    status: 201\n" in register
    keys = "id, post_event_webhook_url, webhook_method, webhook_filters[]{event},"
    assert f"answer keys: {keys}" in register
    listing = out[out.index("iter_rooms\n") : out.index("create_sdk_credentials\n")]
    assert "GET /v2/rooms?offset=0&limit=100" in listing
    assert "sent: (no body)" in listing
    assert "rooms[]{id, participants[]{" in listing


def test_no_api_key_join_link_or_token_is_printed(simulator_http):
    out, err, _ = smoke(base_url=simulator_http.engine.link_base)
    assert HTTP_API_KEY not in out + err
    assert "/join/" not in out + err
    assert "access_token" in out  # as a key, never its value
    assert not re.search(r"eyJ[\w-]+\.", out + err)
    assert f"links on {simulator_http.engine.link_base.split('//')[1].split(':')[0]}" in out


def test_a_listing_in_another_shape_is_not_accepted_and_the_run_still_ends_with_a_summary(
    simulator_http,
):
    base_url = simulator_http.engine.link_base
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(base_url)
        mock.get(base_url + "/v2/rooms", json={"items": [], "has_more": False})
        out, _, failure = smoke(base_url=base_url)
    assert failure is not None and failure.returncode == 1
    assert "1 of 15 calls were not accepted" in str(failure)
    outcomes = dict(steps(out))
    assert outcomes["iter_rooms"].startswith("NO (not accepted): Kaleyra iter_rooms: HTTP 200")
    assert "missing field 'rooms'" in outcomes["iter_rooms"]
    assert "answer keys: items[], has_more" in out
    assert [call for call, _ in steps(out)] == CALLS
    assert "Summary: 15 calls, 14 accepted; iter_rooms not accepted." in out
    assert simulator_http.rooms() == []  # cleanup still ran


def test_a_refused_registration_is_shown_and_the_room_is_still_deleted(simulator_http):
    simulator_http.fail_next("register_webhook", mode="500")
    out, _, failure = smoke(base_url=simulator_http.engine.link_base)
    assert failure is not None
    outcomes = dict(steps(out))
    assert outcomes["register_webhook"].startswith(
        "NO (refused): Kaleyra register_webhook: HTTP 500"
    )
    assert outcomes["delete_webhook"] == "NO (skipped): no webhook id"
    assert "webhook none made" in out
    assert simulator_http.rooms() == []


def test_a_room_whose_answer_is_not_accepted_is_deleted_by_the_id_it_carries(simulator_http):
    base_url = simulator_http.engine.link_base
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(base_url)
        simulator_http.engine.create_user({"id": "doctor", "role": "plus"})
        simulator_http.engine.create_user({"id": "patient", "role": "basic"})
        made = simulator_http.engine.create_room(
            {"participants": [{"user_id": "doctor"}, {"user_id": "patient"}]}
        )
        mock.post(base_url + "/v2/rooms", json={"room": {"room_id": made["id"]}}, status=201)
        out, _, failure = smoke(base_url=base_url)
    assert failure is not None
    assert dict(steps(out))["create_room"].startswith("NO (not accepted)")
    assert f"room {made['id']} deleted" in out
    assert simulator_http.rooms() == []


@pytest.mark.parametrize(
    "base_url",
    ["https://api.eu.bandyer.com", "https://api.in.bandyer.com/", "https://API.EU.BANDYER.COM"],
)
def test_a_production_host_is_refused_without_production(simulator_http, base_url):
    with pytest.raises(CommandError, match="production Kaleyra host"):
        call_command("kaleyra_smoke", base_url=base_url, stdout=StringIO())
    assert simulator_http.calls() == {}


def test_production_is_allowed_when_asked_for_with_a_warning(simulator_http):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get("https://api.eu.bandyer.com/v2/company", json={"name": "Acme"})
        out, err, failure = smoke(base_url="https://api.eu.bandyer.com", production=True)
    assert "running against production (api.eu.bandyer.com)" in err
    assert "Summary: 15 calls, 1 accepted" in out  # the rest unmocked: no answer
    assert failure is not None


def test_plain_http_to_another_machine_is_refused(simulator_http):
    with pytest.raises(CommandError, match="must be https"):
        call_command("kaleyra_smoke", base_url="http://kaleyra.example.org", stdout=StringIO())


def test_another_host_is_run_against_with_a_warning(simulator_http):
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        out, err, _ = smoke(base_url="https://kaleyra-mock.example.org")
    assert "kaleyra-mock.example.org is neither a Kaleyra sandbox nor this machine" in err
    assert "Summary: 15 calls, 0 accepted" in out


def test_a_sandbox_host_is_run_against_without_a_warning(simulator_http):
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        out, err, _ = smoke(base_url="https://api.sandbox.eu.bandyer.com")
    assert err == ""
    assert "Summary: 15 calls, 0 accepted" in out
