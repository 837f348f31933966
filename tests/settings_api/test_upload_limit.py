"""The size guard of the background upload stops at the first byte past the limit."""

import pytest

from settings_api.uploads import SizeLimitHandler, UploadTooLarge


def test_chunks_pass_through_up_to_the_limit_and_the_next_byte_stops_the_upload():
    handler = SizeLimitHandler(limit=10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    assert handler.receive_data_chunk(b"67890", 5) == b"67890"
    with pytest.raises(UploadTooLarge) as raised:
        handler.receive_data_chunk(b"x", 10)
    assert raised.value.status_code == 413


def test_the_limit_counts_every_file_of_the_request_together():
    handler = SizeLimitHandler(limit=10)
    handler.receive_data_chunk(b"123456", 0)
    handler.file_complete(6)
    with pytest.raises(UploadTooLarge):
        handler.receive_data_chunk(b"123456", 0)


def test_the_guard_leaves_making_the_file_to_the_next_handler():
    assert SizeLimitHandler(limit=10).file_complete(3) is None
