"""Builders for the /settings tests: image bytes and an admin caller."""

import pytest

MB = 1024 * 1024
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def jpeg(size: int = 2048) -> bytes:
    return JPEG_HEADER + b"\x00" * (size - len(JPEG_HEADER))


def png(size: int = 2048) -> bytes:
    return PNG_HEADER + b"\x00" * (size - len(PNG_HEADER))


@pytest.fixture
def admin(api):
    return api.as_user("ops-1", groups=("admin",))
