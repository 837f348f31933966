"""Builders for the /settings tests: image bytes and an admin caller."""

import pytest

from tests.kaleyra import support

MB = 1024 * 1024
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def jpeg(size: int = 2048) -> bytes:
    """A JPEG as large as the simulator (and Kaleyra) accept: 1280x1280, `size` bytes."""
    return support.jpeg(1280, 1280, size=size)


def png(size: int = 2048) -> bytes:
    return PNG_HEADER + b"\x00" * (size - len(PNG_HEADER))


@pytest.fixture
def admin(api):
    return api.as_user("ops-1", groups=("admin",))
