"""`manage.py kaleyra_company --user-details-url`: where Kaleyra asks for the names in a call."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kaleyra.provider import get_video_provider
from tests.kaleyra.support import jpeg

URL = "https://tc.example.org/kaleyra/user-details"


def test_the_command_sets_the_user_details_provider_url(simulator):
    out = StringIO()
    call_command("kaleyra_company", user_details_url=URL, stdout=out)
    assert get_video_provider().get_company().user_details_provider_url == URL
    assert out.getvalue() == f"Kaleyra asks for display names at {URL}\n"


def test_the_default_background_is_left_alone(simulator):
    background = get_video_provider().upload_background(
        filename="sea.jpg", content=jpeg(), content_type="image/jpeg"
    )
    get_video_provider().set_default_background(background_alias=background.background_alias)
    call_command("kaleyra_company", user_details_url=URL, stdout=StringIO())
    company = get_video_provider().get_company()
    assert company.default_background == background.background_alias
    assert company.user_details_provider_url == URL


def test_a_url_that_is_not_one_is_refused_before_kaleyra_is_asked(simulator):
    with pytest.raises(CommandError, match="'kaleyra/user-details' is not an http\\(s\\) URL"):
        call_command("kaleyra_company", user_details_url="kaleyra/user-details", stdout=StringIO())
    assert simulator.call_count("set_default_background") == 0


def test_a_refusal_is_a_command_error(simulator):
    simulator.fail_next("set_default_background", mode="500")
    with pytest.raises(CommandError, match="set_user_details_provider"):
        call_command("kaleyra_company", user_details_url=URL, stdout=StringIO())
