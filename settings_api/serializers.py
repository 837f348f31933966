"""Request and response shapes of the /settings API (Kaleyra's field names, as Mia's)."""

from rest_framework import serializers

from teleconsultation_project.input_limits import (
    OffsetDateTimeField,
    StrictCharField,
    StrictSerializer,
)


class BackgroundImageUploadSerializer(StrictSerializer):
    virtual_background = serializers.FileField(
        allow_empty_file=False, help_text="A JPEG image of at most 10 MB"
    )


class DefaultBackgroundSerializer(StrictSerializer):
    background_alias = StrictCharField(
        max_length=255, help_text="Alias returned by POST /settings/background-image"
    )


class VirtualBackgroundSerializer(serializers.Serializer):
    background_alias = serializers.CharField()
    url = serializers.CharField()
    creation_date = OffsetDateTimeField(allow_null=True, help_text="UTC, with milliseconds")


class BackgroundUploadedSerializer(serializers.Serializer):
    virtual_background = VirtualBackgroundSerializer()


class DefaultBackgroundOutputSerializer(serializers.Serializer):
    alias = serializers.CharField()
    url = serializers.CharField(
        allow_null=True, help_text="Null for a background this service did not upload"
    )
    creation_date = OffsetDateTimeField(allow_null=True, help_text="UTC, with milliseconds")


class CompanySerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    default_language = serializers.CharField(allow_null=True)
    default_background = DefaultBackgroundOutputSerializer(allow_null=True)
    end_call_redirect_url = serializers.CharField(allow_null=True)
    user_details_provider_url = serializers.CharField(allow_null=True)
    end_call_redirect_timeout_ms = serializers.IntegerField(allow_null=True)


class CompanyUpdatedSerializer(serializers.Serializer):
    company = CompanySerializer()
