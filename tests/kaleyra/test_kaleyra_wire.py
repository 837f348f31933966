"""The wire adapter accepts every plausible variant of the unclear v2 shapes."""

from datetime import UTC, datetime

import pytest

from kaleyra import wire
from kaleyra.types import Role


def test_room_accepts_the_v1_wrapped_shape_with_room_id_and_user_urls():
    room = wire.parse_room(
        {
            "room": {
                "room_id": "room_xyz",
                "user_urls": [{"user": "usr_1", "url": "https://l/1", "is_admin": True}],
            }
        }
    )
    assert room.id == "room_xyz"
    assert room.link_for("usr_1") == "https://l/1"
    assert room.participants[0].is_admin is True


def test_room_accepts_the_v2_bare_shape():
    room = wire.parse_room({"id": "room_1", "participants": [{"user_id": "u", "link": "l"}]})
    assert (room.id, room.link_for("u"), room.participants[0].is_admin) == ("room_1", "l", False)


@pytest.mark.parametrize(
    ("value", "alias"),
    [("sea", "sea"), ({"background_alias": "sea"}, "sea"), ({"alias": "sea"}, "sea"), (None, None)],
)
def test_company_default_background_as_string_or_object(value, alias):
    assert wire.parse_company({"default_background": value}).default_background == alias


def test_company_accepts_the_v1_wrapped_shape():
    assert wire.parse_company({"company": {"name": "ACME"}}).name == "ACME"


def test_background_accepts_alias_or_background_alias_wrapped_or_not():
    wrapped = {"virtual_background": {"alias": "a", "url": "u", "creation_date": "2020-12-23"}}
    background = wire.parse_background(wrapped)
    assert background.background_alias == "a"
    assert background.creation_date == datetime(2020, 12, 23, tzinfo=UTC)
    assert wire.parse_background({"background_alias": "b", "url": "u"}).background_alias == "b"


def test_user_accepts_user_id_and_unknown_role_is_a_wire_error():
    assert wire.parse_user({"user_id": "u"}).id == "u"
    with pytest.raises(wire.WireError):
        wire.parse_user({"id": "u", "role": "admin"})


def test_created_user_with_another_id_is_a_wire_error():
    with pytest.raises(wire.WireError, match="asked for user"):
        wire.parse_created_user({"id": "other"}, "u", Role.PLUS)


def test_created_user_without_fields_is_the_user_asked_for():
    user = wire.parse_created_user({}, "u", Role.PLUS)
    assert (user.id, user.role) == ("u", Role.PLUS)


def test_dates_without_offset_are_utc_and_offsets_are_converted():
    assert wire.parse_datetime("2020-12-23T15:14:16.000") == datetime(
        2020, 12, 23, 15, 14, 16, tzinfo=UTC
    )
    assert wire.parse_datetime("2020-12-23T16:14:16+01:00").hour == 15


def test_booleans_are_not_accepted_as_integers():
    with pytest.raises(wire.WireError):
        wire.parse_room({"id": "r", "participants": [], "duration": True})


@pytest.mark.parametrize(
    "filters",
    [
        ["on_room_deleted", "on_recording_available"],
        [{"event": "on_room_deleted"}, {"event": "on_recording_available"}],
        [{"name": "on_room_deleted"}, "on_recording_available"],
    ],
)
def test_webhook_events_are_names_or_filter_objects(filters):
    webhook = wire.parse_webhook({"id": "wh_1", "webhook_filters": filters})
    assert webhook.events == ("on_room_deleted", "on_recording_available")


@pytest.mark.parametrize("filters", ["on_room_deleted", [{"events": "x"}], [""], [3]])
def test_webhook_filters_of_another_shape_are_a_wire_error(filters):
    with pytest.raises(wire.WireError, match="webhook_filters"):
        wire.parse_webhook({"id": "wh_1", "webhook_filters": filters})


def test_a_webhook_listing_needs_objects_under_webhooks():
    with pytest.raises(wire.WireError, match="missing field 'webhooks'"):
        wire.parse_webhooks_page({"items": []})
    with pytest.raises(wire.WireError, match="not an object"):
        wire.parse_webhooks_page([None])
