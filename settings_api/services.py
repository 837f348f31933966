"""Company settings on the video provider: upload a virtual background, choose the default one."""

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from kaleyra.errors import KaleyraBadRequest, KaleyraNotFound
from kaleyra.provider import get_video_provider
from kaleyra.types import Company, VirtualBackground
from settings_api.models import UploadedBackground
from settings_api.uploads import MAX_BACKGROUND_BYTES, UploadTooLarge
from teleconsultation_project.errors import PROVIDER, ApiError

JPEG_MAGIC = b"\xff\xd8\xff"
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class DefaultBackground:
    alias: str
    url: str | None
    creation_date: datetime | None


@dataclass(frozen=True)
class CompanySettings:
    """Kaleyra's company settings, the default background as a whole background."""

    name: str | None
    default_language: str | None
    default_background: DefaultBackground | None
    end_call_redirect_url: str | None
    user_details_provider_url: str | None
    end_call_redirect_timeout_ms: int | None


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
        background = get_video_provider().upload_background(
            filename=_jpeg_filename(filename), content=content, content_type="image/jpeg"
        )
    except KaleyraBadRequest as exc:
        # The provider does not say why; these are its documented conditions.
        raise _invalid(
            "virtual_background",
            f"{PROVIDER} refused the image (status {exc.status}); it accepts JPEGs of at least "
            "1280x1280 pixels and at most 10 backgrounds per company",
        ) from None
    UploadedBackground.objects.update_or_create(
        alias=background.background_alias,
        defaults={"url": background.url, "creation_date": background.creation_date},
    )
    return background


def default_background_set(*, background_alias: str) -> CompanySettings:
    """Makes an uploaded background the company default; an unknown alias is the caller's 400."""
    try:
        company = get_video_provider().set_default_background(background_alias=background_alias)
    except (KaleyraBadRequest, KaleyraNotFound):
        raise _invalid(
            "background_alias",
            f"{background_alias!r} is not a virtual background of the company; upload one with "
            "POST /settings/background-image and use the background_alias it returns",
        ) from None
    return company_settings(company)


def company_settings(company: Company) -> CompanySettings:
    """The provider names the default background by its alias (whatever shape it answered in);
    its URL and date come from the upload that made it, when this service made it."""
    return CompanySettings(
        name=company.name,
        default_language=company.default_language,
        default_background=_background(company.default_background),
        end_call_redirect_url=company.end_call_redirect_url,
        user_details_provider_url=company.user_details_provider_url,
        end_call_redirect_timeout_ms=company.end_call_redirect_timeout_ms,
    )


def _background(alias: str | None) -> DefaultBackground | None:
    if not alias:
        return None
    uploaded = UploadedBackground.objects.filter(alias=alias).first()
    if uploaded is None:
        return DefaultBackground(alias=alias, url=None, creation_date=None)
    return DefaultBackground(alias=alias, url=uploaded.url, creation_date=uploaded.creation_date)
