"""The page a simulated join link opens: it names the room and the participant and echoes the
link options it received (display name, language...), so a developer can see what a real
client would get. Everything shown is escaped."""

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{content}
<p><small>Kaleyra Video simulator: no call happens here.</small></p>
</body>
</html>
"""


def render_join_page(
    target: Mapping[str, Any] | None, query: Mapping[str, Sequence[str]]
) -> tuple[int, str]:
    """(HTTP status, HTML) for a join link whose token led to `target` (None: unknown link)."""
    if target is None:
        content = "<p>This link does not open any room (unknown or deleted).</p>"
        return 404, PAGE.format(title="Room not found", content=content)
    rows = [
        ("Room", target["room_id"]),
        ("Participant", target["user_id"]),
        ("Role", target.get("role") or "unknown"),
        ("Admin", "yes" if target.get("is_admin") else "no"),
    ]
    rows += [(f"?{name}", ", ".join(values)) for name, values in sorted(query.items())]
    cells = "\n".join(
        f"<tr><th>{escape(str(label))}</th><td>{escape(str(value))}</td></tr>"
        for label, value in rows
    )
    title = escape(f"Simulated call in {target['room_id']}")
    return 200, PAGE.format(title=title, content=f"<table>\n{cells}\n</table>")
