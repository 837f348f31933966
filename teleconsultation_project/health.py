"""Operational probes, as lc39 gives every Mia-Platform service: alive, ready, check-up.

Probes are polled every few seconds, so they log nothing at INFO or above (ProbeMiddleware keeps
them out of the access log too); why a check failed is in the 503 body and at DEBUG level.
"""

import logging

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kaleyra.errors import KaleyraError
from kaleyra.provider import get_video_provider
from teleconsultation_project.errors import error_body
from teleconsultation_project.schema import error_response

logger = logging.getLogger("teleconsultation.health")

OK = "OK"

ProbeSerializer = inline_serializer(
    "Probe",
    {
        "status": serializers.ChoiceField(choices=[OK]),
        "checks": serializers.DictField(child=serializers.CharField(), required=False),
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


def probe_response(what: str, checks: dict[str, str]) -> Response:
    failed = {name: status for name, status in checks.items() if status != OK}
    if not failed:
        return Response({"status": OK, "checks": checks})
    reasons = "; ".join(f"{name}: {status}" for name, status in failed.items())
    details = {name: [status] for name, status in failed.items()}
    return Response(error_body(503, f"{what}: {reasons}", details=details), status=503)


class Probe(APIView):
    authentication_classes: list = []
    permission_classes: list = []


class HealthzView(Probe):
    @extend_schema(tags=["operations"], responses={200: ProbeSerializer}, summary="Liveness")
    def get(self, request):
        return Response({"status": OK})


class ReadyView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={
            200: ProbeSerializer,
            503: error_response(503, "Not ready: database: 2 migration(s) not applied yet"),
        },
        summary="Readiness: the database answers and every migration is applied",
    )
    def get(self, request):
        return probe_response("Not ready", {"database": database_status()})


class CheckUpView(Probe):
    @extend_schema(
        tags=["operations"],
        responses={
            200: ProbeSerializer,
            503: error_response(503, "Check-up failed: videoProvider: does not answer"),
        },
        summary="Check-up: the database and the video provider answer",
    )
    def get(self, request):
        checks = {"database": database_status(), "videoProvider": provider_status()}
        return probe_response("Check-up failed", checks)
