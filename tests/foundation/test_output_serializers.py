"""Each answer body has one definition, the serializer the OpenAPI document shows: no view of
`rooms` or `settings_api` hands `Response` a dict it built itself."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEW_PACKAGES = ("rooms", "settings_api")


def hand_built_answers(source: str) -> list[int]:
    """The lines where `Response(...)` is given a dict literal or a dict comprehension."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Response"):
            continue
        if node.args and isinstance(node.args[0], ast.Dict | ast.DictComp):
            lines.append(node.lineno)
    return lines


def test_no_view_builds_its_answer_by_hand():
    found = {
        str(path.relative_to(ROOT)): lines
        for package in VIEW_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := hand_built_answers(path.read_text()))
    }
    assert found == {}


def test_the_check_sees_a_hand_built_answer():
    source = "def get(self):\n    return Response({'roomId': 'x'}, status=201)\n"
    assert hand_built_answers(source) == [2]
    assert hand_built_answers("Response(CreatedSerializer(x).data)") == []
