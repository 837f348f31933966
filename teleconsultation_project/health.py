"""Operational probes, as lc39 gives every Mia-Platform service: alive, ready, check-up.

Each answers lc39's body, `{"status": "OK" | "KO", "name": ..., "version": ...}` (the service's
name and version from pyproject.toml), with 200 or 503, plus `checks`: what each check found.
Probes are polled every few seconds, so they log nothing at INFO or above (ProbeMiddleware keeps
them out of the access log too); why a check failed is in the 503 body and at DEBUG level.
"""

import logging
import tomllib
from pathlib import Path

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kaleyra.errors import KaleyraError
from kaleyra.provider import get_video_provider

logger = logging.getLogger("teleconsultation.health")

OK = "OK"
KO = "KO"

PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
NAME = PROJECT["project"]["name"]
VERSION = PROJECT["project"]["version"]

ProbeSerializer = inline_serializer(
    "Probe",
    {
        "status": serializers.ChoiceField(choices=[OK, KO]),
        "name": serializers.CharField(help_text="The service's name"),
        "version": serializers.CharField(help_text="The service's version"),
        "checks": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text='What each check found: "OK", or why it failed',
        ),
    },
)


class Migrations:
    """Whether every migration is applied; remembered once true, since that cannot change back
    while this code runs (a new migration comes with a new deployment, hence a new process)."""

    def __init__(self) -> None:
        self.all_applied = False

    def status(self) -> str:
        if not self.all_applied:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                return f"{len(pending)} migration(s) not applied yet"
            self.all_applied = True
        return OK


migrations = Migrations()


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return migrations.status()
    except Exception as exc:  # any driver error means "not ready"
        logger.debug("Database probe failed: %s", exc)
        return "does not answer"


def provider_status() -> str:
    try:
        get_video_provider().ping()
        return OK
    except KaleyraError as exc:
        logger.debug("Video provider probe failed: %s (status %s)", type(exc).__name__, exc.status)
        return "does not answer"


def probe_response(checks: dict[str, str] | None = None) -> Response:
    """lc39's body: OK and 200 when every check is OK, else KO and 503."""
    healthy = all(status == OK for status in (checks or {}).values())
    body = {"status": OK if healthy else KO, "name": NAME, "version": VERSION}
    if checks is not None:
        body["checks"] = checks
    return Response(body, status=200 if healthy else 503)


class Probe(APIView):
    authentication_classes: list = []
    permission_classes: list = []


class HealthzView(Probe):
    @extend_schema(tags=["operations"], responses={200: ProbeSerializer}, summary="Liveness")
    def get(self, request):
        return probe_response()


class ReadyView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={
            200: ProbeSerializer,
            503: ProbeSerializer,
        },
        summary="Readiness: the database answers and every migration is applied",
    )
    def get(self, request):
        return probe_response({"database": database_status()})


class CheckUpView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={
            200: ProbeSerializer,
            503: ProbeSerializer,
        },
        summary="Check-up: the database and the video provider answer",
    )
    def get(self, request):
        checks = {"database": database_status(), "videoProvider": provider_status()}
        return probe_response(checks)
