"""`manage.py kaleyra_company --user-details-url URL`: sets the company's
`user_details_provider_url` on Kaleyra (or the configured simulator), so calls ask the service's
`POST /kaleyra/user-details` for their participants' names."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from kaleyra.errors import KaleyraError
from kaleyra.provider import get_video_provider
from kaleyra.retry import background_work


class Command(BaseCommand):
    help = "Change Kaleyra Video's company settings: where calls ask for display names."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user-details-url",
            metavar="URL",
            required=True,
            help="the service's POST /kaleyra/user-details, as Kaleyra reaches it",
        )

    def handle(self, *args, user_details_url, **options):
        try:
            URLValidator(schemes=["http", "https"])(user_details_url)
        except ValidationError:
            raise CommandError(f"{user_details_url!r} is not an http(s) URL") from None
        try:
            with background_work():
                company = get_video_provider().set_user_details_provider(url=user_details_url)
        except KaleyraError as exc:
            raise CommandError(f"Kaleyra refused or failed: {exc}") from None
        self.stdout.write(
            "Kaleyra asks for display names at "
            f"{company.user_details_provider_url or user_details_url}"
        )
