"""`rooms/` is laid out by role, and its imports run one way (docs/architecture.md):

    api, admin, management, mia_import -> services, selectors -> directory -> rules, storage
    -> domain

with `kaleyra`, `crud` and `common` below all of them. A module may import its own folder and
any folder below it, never one above (lazy imports included); `errors` and `models` are shared.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ROOT / "rooms"
WIRING = {"__init__", "apps", "models", "urls", "checks", "errors"}
SHARED = {"errors", "models"}
BELOW = {
    "domain": set(),
    "rules": {"domain"},
    "storage": {"domain"},
    "directory": {"domain", "rules"},
    "selectors": {"domain", "rules", "storage", "directory"},
    "services": {"domain", "rules", "storage", "directory", "selectors"},
    "mia_import": {"domain", "rules", "storage", "directory", "services"},
    "api": {"domain", "rules", "storage", "directory", "services", "selectors"},
    "admin": {"domain", "rules", "storage", "directory", "services", "selectors"},
    "management": {
        "domain",
        "rules",
        "storage",
        "directory",
        "services",
        "selectors",
        "mia_import",
    },
    "migrations": set(),
    "templates": set(),
}


def rooms_imports(source: str) -> set[str]:
    """The `rooms` folders or wiring modules a module imports, at the top or in a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "rooms":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from rooms import x
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "rooms" and len(parts) > 1:
                    found.add(parts[1])
    return found


def upward(folder: str, source: str) -> set[str]:
    return rooms_imports(source) - BELOW[folder] - SHARED - {folder}


def test_the_top_level_holds_only_the_wiring_and_packages():
    modules = {path.stem for path in ROOMS.glob("*.py")}
    assert modules <= WIRING, modules - WIRING
    for folder in (path for path in ROOMS.iterdir() if path.is_dir()):
        if folder.name != "__pycache__":
            assert folder.name in BELOW, f"rooms/{folder.name} has no place in the layers"


@pytest.mark.parametrize("folder", sorted(set(BELOW) - {"templates"}))
def test_a_folder_imports_only_itself_and_the_folders_below_it(folder):
    wrong = {
        str(path.relative_to(ROOT)): upward(folder, path.read_text())
        for path in (ROOMS / folder).rglob("*.py")
    }
    assert {path: found for path, found in wrong.items() if found} == {}


def test_the_check_sees_an_upward_import_at_the_top_or_in_a_function():
    assert upward("rules", "from rooms.services import audit\n") == {"services"}
    assert upward("storage", "def lazy():\n    from rooms import selectors\n") == {"selectors"}
    assert upward("services", "import rooms.api.decorators\n") == {"api"}
    assert (
        upward("services", "from rooms.rules import schedule\nfrom rooms import errors\n") == set()
    )
