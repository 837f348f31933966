"""No module of the project is in an import circle, lazy imports included: each package can be
read from the bottom up, and a module never needs one that needs it back."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "common",
    "kaleyra",
    "crud",
    "teleconsultation_project",
    "rooms",
    "settings_api",
    "bench",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every project module `path` imports, at the top or inside a function."""
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
    paths = {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
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


def test_the_graph_sees_modules_across_packages_and_lazy_imports():
    graph = import_graph()
    assert "rooms.directory.lookup" in graph["rooms.services.participants"]  # inside a function
    assert "rooms.rules.participants" in graph["rooms.directory.lookup"]
    assert "kaleyra.webhooks" in graph["kaleyra.simulator.webhook_sender"]  # inside a function
    assert "common.loopback_server" in graph["crud.simulator.server"]


def test_the_project_modules_import_each_other_without_a_circle():
    assert find_circle(import_graph()) is None


def test_a_circle_is_found_when_there_is_one():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
