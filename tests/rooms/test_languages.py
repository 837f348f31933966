"""Which language a participant's link carries: Kaleyra's six, else the company default."""

import pytest

from rooms.rules.languages import is_language_tag, link_language


@pytest.mark.parametrize(
    ("requested", "stored", "expected"),
    [
        ("de", "it", "de"),  # the query wins over the stored language
        ("DE", None, "de"),
        ("it-IT", None, "it"),  # a regional tag means its language
        ("en-GB", "pl", "en"),
        (None, "fr", "fr"),  # no query: the participant's own
        (None, "fr-CA", "fr"),
        (None, "pt-BR", None),  # stored but not a link language: company default
        (None, None, None),
        (None, "", None),
        ("pt", None, None),  # not a link language: company default, no 400
        ("pt", "it", None),  # ... even when the stored one would be supported
        ("pt-PT", None, None),
        ("es", None, "es"),  # only on Kaleyra's query-strings reference; en, it, es there
        ("es-ES", "it", "es"),
        (None, "es-MX", "es"),
        ("xx", None, None),
        ("", "it", None),  # an empty query value is a value the links do not support
        ("  ", None, None),
        ("<script>", None, None),
    ],
)
def test_link_language(requested, stored, expected):
    assert link_language(requested, stored) == expected


@pytest.mark.parametrize(
    "tag",
    ["it", "pt-BR", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "en" + "-abcdefgh" * 3 + "-abcde"],
)
def test_bcp_47_tags_are_accepted(tag):
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "it_IT", "it-", "-it", "toolongprimary", "pt BR", "é", "a" * 8 + "-b" * 14, "it\n"]
)
def test_what_is_not_shaped_like_a_tag_or_too_long_is_refused(tag):
    assert not is_language_tag(tag)
