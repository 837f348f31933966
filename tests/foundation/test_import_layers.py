"""The lower packages never import the upper ones, lazy imports included.

`common` is the floor: it imports the standard library only. The clients of Kaleyra and the CRUD
Service (`kaleyra`, `crud`) may import `common` and Django, but not the project package or the
domain above them; otherwise the bottom of the service could not be read, tested or reused
without the top.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ("kaleyra", "crud")
ABOVE_THE_CLIENTS = {"teleconsultation_project", "rooms", "settings_api", "bench", "tests"}


def imported_packages(source: str) -> set[str]:
    """The top-level packages a module imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def upward_imports(package: str) -> dict[str, set[str]]:
    """Each module of `package` that imports a package above the clients, with those packages."""
    upward = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        above = imported_packages(path.read_text()) & ABOVE_THE_CLIENTS
        if above:
            upward[str(path.relative_to(ROOT))] = above
    return upward


@pytest.mark.parametrize("package", CLIENTS)
def test_a_client_package_imports_nothing_above_it(package):
    assert upward_imports(package) == {}


def test_the_floor_imports_only_the_standard_library():
    for path in (ROOT / "common").rglob("*.py"):
        assert imported_packages(path.read_text()) <= sys.stdlib_module_names, path


def test_the_check_sees_imports_at_the_top_and_inside_functions():
    source = (
        "import rooms.services.lifecycle\n"
        "from teleconsultation_project.logs import request_id_var\n"
        "def lazy():\n"
        "    from settings_api import apis\n"
        "from . import sibling\n"
    )
    assert imported_packages(source) >= {"rooms", "teleconsultation_project", "settings_api"}
