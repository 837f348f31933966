"""Participants' languages: any BCP 47 tag is stored, only Kaleyra's link languages reach a link.

Kaleyra's join links take `language` in the union of what its two pages list: en, it, pl, fr,
de (developers.kaleyra.io/docs/video-api-customization) and en, it, es
(developers.kaleyra.io/reference/video-query-strings). A tag is matched by its primary subtag,
case-insensitively (`it-IT` and `IT` mean `it`). A requested language (the query) wins over the
participant's stored one; anything the links do not support means the company's default
language, which is what a link without `language` gets.
"""

import re

LINK_LANGUAGES = ("en", "it", "es", "pl", "fr", "de")
MAX_TAG_LENGTH = 35  # RFC 5646 §4.4.1 asks for at least 35 characters of storage
# A primary subtag of letters, then subtags of letters and digits (RFC 5646's outline; the
# registry of subtags is not checked).
TAG_SHAPE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def is_language_tag(value: str) -> bool:
    return len(value) <= MAX_TAG_LENGTH and bool(TAG_SHAPE.fullmatch(value))


def supported(tag: str | None) -> str | None:
    """The link language a tag means, or None when the links do not support it."""
    if not tag:
        return None
    primary = tag.strip().split("-", 1)[0].lower()
    return primary if primary in LINK_LANGUAGES else None


def link_language(requested: str | None, stored: str | None) -> str | None:
    """The `language` for a participant's link; None means the company default.

    `requested` is the query's value, None when the query has none: a value the links do not
    support (`pt`, `xx`, empty) means the company default, not the stored language.
    """
    if requested is not None:
        return supported(requested)
    return supported(stored)
