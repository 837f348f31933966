"""Company settings on the video provider: upload a virtual background, choose the default one."""

import re
from pathlib import PurePath

from kaleyra.errors import KaleyraBadRequest, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.types import Company, VirtualBackground
from settings_api.uploads import MAX_BACKGROUND_BYTES, UploadTooLarge
from teleconsultation_project.errors import PROVIDER, ApiError

JPEG_MAGIC = b"\xff\xd8\xff"
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(f"{field}: {message}", details={field: [message]})


def _jpeg_filename(filename: str) -> str:
    """The client's file name, reduced to safe characters, always ending in .jpg."""
    stem = UNSAFE_FILENAME_CHARACTERS.sub("_", PurePath(filename or "").stem).strip("._")
    return f"{stem[:100] or 'background'}.jpg"


def background_image_upload(*, filename: str, content: bytes) -> VirtualBackground:
    """Uploads a JPEG (judged by its bytes, not its name or declared type) as a background."""
    if len(content) > MAX_BACKGROUND_BYTES:
        raise UploadTooLarge(MAX_BACKGROUND_BYTES)
    if not content.startswith(JPEG_MAGIC):
        raise _invalid("virtual_background", "is not a JPEG image (checked by its content)")
    try:
        return get_video_provider().upload_background(
            filename=_jpeg_filename(filename), content=content, content_type="image/jpeg"
        )
    except KaleyraBadRequest as exc:
        # The provider does not say why; these are its documented conditions.
        raise _invalid(
            "virtual_background",
            f"{PROVIDER} refused the image (status {exc.status}); it accepts JPEGs of at least "
            "1280x1280 pixels and at most 10 backgrounds per company",
        ) from None


def default_background_set(*, background_alias: str) -> Company:
    """Makes an uploaded background the company default; an unknown alias is the caller's 400."""
    try:
        return get_video_provider().set_default_background(background_alias=background_alias)
    except (KaleyraBadRequest, KaleyraNotFound):
        raise _invalid(
            "background_alias",
            f"{background_alias!r} is not a virtual background of the company; upload one with "
            "POST /settings/background-image and use the background_alias it returns",
        ) from None
