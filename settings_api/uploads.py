"""The background image upload, limited while it streams in.

`SizeLimitHandler` sits first among Django's upload handlers and counts the bytes of every
uploaded file as they arrive; past the limit it stops the upload with a 413, so an oversized
image is never held whole in memory or on disk.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, load_handler

from teleconsultation_project.errors import ApiError

MAX_BACKGROUND_BYTES = 10 * 1024 * 1024  # Mia's limit; Kaleyra itself allows 16 MB


class UploadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"virtual_background is larger than {limit // (1024 * 1024)} MB ({limit} bytes)",
            status=413,
        )


class SizeLimitHandler(FileUploadHandler):
    """Passes each chunk on to the next handler until the files together pass `limit` bytes."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the uploaded file


def limited_upload_handlers(request, *, limit: int = MAX_BACKGROUND_BYTES) -> list:
    """The size guard, then Django's configured handlers."""
    return [SizeLimitHandler(request, limit=limit)] + [
        load_handler(path, request) for path in settings.FILE_UPLOAD_HANDLERS
    ]
