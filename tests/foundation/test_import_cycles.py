"""The rooms modules import each other without a circle (issue #10), lazy imports included."""

import ast
from pathlib import Path

ROOMS = Path(__file__).resolve().parents[2] / "rooms"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOMS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every rooms module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in ROOMS.rglob("*.py")}
    return {name: imports_of(path, set(paths)) - {name} for name, path in paths.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting, done = [], set()

    def walk(name):
        if name in visiting:
            return visiting[visiting.index(name) :] + [name]
        if name in done:
            return None
        visiting.append(name)
        for imported in sorted(graph[name]):
            circle = walk(imported)
            if circle:
                return circle
        visiting.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        circle = walk(name)
        if circle:
            return circle
    return None


def test_the_graph_sees_the_participant_modules():
    graph = import_graph()
    assert "rooms.directory" in graph["rooms.participants"]
    assert "rooms.participant_types" in graph["rooms.directory"]


def test_the_rooms_modules_import_each_other_without_a_circle():
    assert find_circle(import_graph()) is None


def test_a_circle_is_found_when_there_is_one():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
