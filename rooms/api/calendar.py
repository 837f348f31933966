"""API views of the calendar feeds: POST and DELETE /calendar-feeds (the caller's own feed, with
the gateway's identity headers) and GET /calendar/<secret>.ics (the feed, without them: the
secret is the credential)."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms.api import decorators
from rooms.errors import CalendarFeedNotFound
from rooms.selectors import calendar
from rooms.services import audit, calendar_feeds
from teleconsultation_project.schema import error_response

TAGS = ["calendar"]
UNAUTHORIZED = error_response(401, "Unauthorized user", error="Unauthorized user")
NOT_FOUND = error_response(404, "No calendar feed at this address")


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.CharField(
        help_text="The feed's address for a calendar app; shown this once (only a hash is kept)"
    )


class CalendarFeedsApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A new address of the caller's calendar feed (the one before stops working)",
        request=None,
        responses={201: CalendarFeedSerializer, 401: UNAUTHORIZED},
        examples=[
            OpenApiExample(
                "The address",
                response_only=True,
                status_codes=["201"],
                value={"url": "https://teleconsultation.example.com/calendar/3q2-...-Xw.ics"},
            )
        ],
    )
    @decorators.recorded(audit.CALENDAR_FEED_CREATE)
    def post(self, request):
        secret = calendar_feeds.create_feed(request.user)
        url = request.build_absolute_uri(reverse("calendar", kwargs={"secret": secret}))
        response = Response(CalendarFeedSerializer({"url": url}).data, status=201)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        tags=TAGS,
        summary="Revokes the caller's calendar feed (its address answers 404 from now on)",
        request=None,
        responses={204: None, 401: UNAUTHORIZED},
    )
    @decorators.recorded(audit.CALENDAR_FEED_REVOKE)
    def delete(self, request):
        calendar_feeds.revoke_feed(request.user)
        return Response(status=204)


class CalendarApi(APIView):
    authentication_classes = ()  # the secret is the credential; no gateway headers needed

    @extend_schema(
        tags=TAGS,
        summary="The calendar feed (iCalendar) of the person who made this address",
        auth=[],
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The ETag of the copy the client has: 304 while it is current",
            )
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="iCalendar (RFC 5545), one VEVENT per visit"
            ),
            304: OpenApiResponse(description="The client's copy is current"),
            404: NOT_FOUND,
        },
    )
    def get(self, request, secret: str):
        found = calendar.feed(secret, if_none_match=request.headers.get("If-None-Match", ""))
        if found is None:
            raise CalendarFeedNotFound()
        if found.body is None:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(found.body, content_type="text/calendar; charset=utf-8")
        response["ETag"] = found.etag
        response["Cache-Control"] = "private, no-cache"
        return response
