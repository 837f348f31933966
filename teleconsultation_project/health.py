"""Operational probes, as lc39 gives every Mia-Platform service: alive, ready, check-up."""

import logging

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kaleyra.errors import KaleyraError
from kaleyra.provider import get_video_provider

logger = logging.getLogger("teleconsultation.health")

ProbeSerializer = inline_serializer(
    "Probe",
    {
        "status": serializers.ChoiceField(choices=["OK", "KO"]),
        "checks": serializers.DictField(child=serializers.CharField(), required=False),
    },
)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "OK"
    except Exception as exc:  # any driver error means "not ready"; the reason goes to the log
        logger.warning("Database probe failed: %s", exc)
        return "KO"


def provider_status() -> str:
    try:
        get_video_provider().ping()
        return "OK"
    except KaleyraError as exc:
        logger.warning(
            "Video provider probe failed: %s (status %s)", type(exc).__name__, exc.status
        )
        return "KO"


def probe_response(checks: dict[str, str]) -> Response:
    healthy = all(value == "OK" for value in checks.values())
    body = {"status": "OK" if healthy else "KO", "checks": checks}
    return Response(body, status=200 if healthy else 503)


class Probe(APIView):
    authentication_classes: list = []
    permission_classes: list = []


class HealthzView(Probe):
    @extend_schema(tags=["operations"], responses={200: ProbeSerializer}, summary="Liveness")
    def get(self, request):
        return Response({"status": "OK"})


class ReadyView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={200: ProbeSerializer, 503: ProbeSerializer},
        summary="Readiness: the database answers",
    )
    def get(self, request):
        return probe_response({"database": database_status()})


class CheckUpView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={200: ProbeSerializer, 503: ProbeSerializer},
        summary="Check-up: the database and the video provider answer",
    )
    def get(self, request):
        return probe_response({"database": database_status(), "videoProvider": provider_status()})
