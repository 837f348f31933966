"""The page a simulated join link opens. Opening it joins the call: with two participants of a
room in, a session runs (see `sessions.py`). The page names the room and the participant, says
whether the call runs, echoes the link options it received (display name, language...) so a
developer can see what a real client would get, and offers "Leave the call" (and, to an admin of
a manually recorded room, "Start recording"), posted back to the same link. Everything shown is
escaped."""

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaleyra.simulator.engine import Engine

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{content}
<p><small>Kaleyra Video simulator: no audio or video here, only the session bookkeeping.</small></p>
</body>
</html>
"""
NOT_FOUND = (
    404,
    PAGE.format(
        title="Room not found",
        content="<p>This link does not open any room (unknown or deleted).</p>",
    ),
)
ACTIONS = ("leave", "record")


def join_page(
    engine: "Engine",
    token: str,
    *,
    method: str,
    query: Mapping[str, Sequence[str]],
    form: Mapping[str, Sequence[str]],
) -> tuple[int, str]:
    """(HTTP status, HTML) for join link `token`: a GET joins the call, a POST plays the
    button pressed (`action` leave or record)."""
    target = engine.join_target(token)
    if target is None:
        return NOT_FOUND
    if method == "POST":
        return _act(engine, token, target, (form.get("action") or [""])[0])
    session_id = engine.join(token)
    call = f"in session {session_id}" if session_id else "waiting for another participant"
    rows = _who(target) + [("Call", call)]
    rows += [(f"?{name}", ", ".join(values)) for name, values in sorted(query.items())]
    buttons = [("leave", "Leave the call")]
    if target.get("is_admin") and target.get("recording") == "manual":
        buttons.append(("record", "Start recording"))
    forms = "\n".join(
        f'<form method="post"><button name="action" value="{action}">{label}</button></form>'
        for action, label in buttons
    )
    return 200, _page(target, f"{_table(rows)}\n{forms}")


def _act(engine: "Engine", token: str, target: Mapping[str, Any], action: str) -> tuple[int, str]:
    if action not in ACTIONS:
        return 400, _page(target, f"<p>Unknown action; one of {', '.join(ACTIONS)}.</p>")
    if action == "leave":
        engine.leave(token)
        return 200, _page(target, "<p>You left the call.</p>")
    try:
        engine.start_recording(target["room_id"])
    except LookupError as exc:
        return 409, _page(target, f"<p>{escape(str(exc))}</p>")
    return 200, _page(target, "<p>Recording this session.</p>")


def _who(target: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Room", target["room_id"]),
        ("Participant", target["user_id"]),
        ("Role", target.get("role") or "unknown"),
        ("Admin", "yes" if target.get("is_admin") else "no"),
    ]


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "\n".join(
        f"<tr><th>{escape(str(label))}</th><td>{escape(str(value))}</td></tr>"
        for label, value in rows
    )
    return f"<table>\n{cells}\n</table>"


def _page(target: Mapping[str, Any], content: str) -> str:
    return PAGE.format(title=escape(f"Simulated call in {target['room_id']}"), content=content)
