"""What we believe Kaleyra v2 answers (see kaleyra/wire.py for the sources of each shape).

The contract suite replays these with `responses`, and checks that the simulator answers the same
requests with the same shapes, so the client, the simulator and these recordings cannot drift.
"""

ROOM_ID = "room_5beecf8c0f29"
LINK = "https://sandbox.bandyer.com/connect/direct-rest-call-handler/"

# `active` [DOC user management: deactivating is an update of "active"].
USER_DOCTOR = {
    "id": "doctor",
    "role": "plus",
    "active": True,
    "creation_date": "2024-06-12T10:00:00.000Z",
}
USER_PATIENT = {
    "id": "patient",
    "role": "basic",
    "active": True,
    "creation_date": "2024-06-12T10:00:00.000Z",
}
CREATED_USER = {"id": "doctor", "role": "plus"}

ROOM = {
    "id": ROOM_ID,
    "participants": [
        {"user_id": "doctor", "is_admin": True, "tools": {"chat": True}, "link": LINK + "aaaa"},
        {"user_id": "patient", "is_admin": False, "tools": {"chat": True}, "link": LINK + "bbbb"},
    ],
    # The v2 create-room fields [DOC v2 room post] and the `live` we send (3P); no status,
    # disabled flag, time used or recording status: no source shows them.
    "recording": "none",
    "call_type": "audio_video",
    "description": None,
    "duration": 1800,
    "offline_transcription": False,
    "creation_date": "2024-06-12T10:00:00.000Z",
    "live": True,
}


DESCRIPTION = "tc:42:0b6f1c9e"  # how our code tags the rooms it creates


def rooms_page(offset: int, rooms: list[dict], has_more: bool, limit: int = 100) -> dict:
    # UNCLEAR upstream (kaleyra.wire.ROOMS_PATH): the v2 list shape of users and uploads.
    return {
        "offset": offset,
        "limit": limit,
        "has_more": has_more,
        "count": len(rooms),
        "rooms": rooms,
    }


def upload(key: str) -> dict:
    return {
        "key": key,
        "user_id": "doctor",
        "room_id": ROOM_ID,
        "session_id": "session_5beecf8c0f29",
        "upload_type": "file_upload",
        "creation_date": "2024-06-12T10:05:00.000Z",
    }


def uploads_page(offset: int, keys: list[str], has_more: bool, limit: int = 100) -> dict:
    return {
        "offset": offset,
        "limit": limit,
        "has_more": has_more,
        "count": len(keys),
        "uploads": [upload(key) for key in keys],
    }


CREDENTIALS = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln",
    "expires_at": "2024-06-12T11:00:00.000Z",
    "user_id": "doctor",
}

COMPANY = {
    "name": "Simulated company",
    "default_language": "en",
    "default_background": None,
    "end_call_redirect_url": None,
    "user_details_provider_url": None,
    "end_call_redirect_timeout_ms": None,
}

BACKGROUND = {
    "background_alias": "bg_0a1b2c3d4e5f",
    "url": "https://static.bandyer.com/corporate/virtual_backgrounds/sandbox/acme/bg.jpeg",
    "creation_date": "2024-06-12T10:00:00.000Z",
}


# UNCLEAR upstream (kaleyra.wire.WEBHOOKS_PATH): the body we send, echoed with an id.
WEBHOOK = {
    "id": "wh_0a1b2c3d4e5f",
    "post_event_webhook_url": "https://teleconsultation.example.org/webhooks/kaleyra",
    "webhook_method": "POST",
    "webhook_filters": ["on_room_deleted", "on_recording_available"],
    "version": "1",
    "creation_date": "2024-06-12T10:00:00.000Z",
}


def error(status_phrase: str, message: str) -> dict:
    # UNCLEAR upstream: no Kaleyra Video error body was ever seen; the client only keeps it.
    return {"error": status_phrase, "message": message}
