"""The lower packages never import the upper ones, lazy imports included.

`common` is the floor: it imports the standard library and the few packages the outbound HTTP base
needs (`requests`, `prometheus_client`, OpenTelemetry's API for its spans), never Django or a
package of ours. The clients of Kaleyra and the CRUD Service (`kaleyra`, `crud`) may import `common`
and Django, but not the project package or the domain above them; otherwise the bottom of the
service could not be read, tested or reused without the top.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ("kaleyra", "crud")
ABOVE_THE_CLIENTS = {"teleconsultation_project", "rooms", "settings_api", "bench", "tests"}
FLOOR_MAY_IMPORT = sys.stdlib_module_names | {
    "common",
    "requests",
    "prometheus_client",
    "opentelemetry",
}


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


def floor_imports_refused(source: str) -> set[str]:
    """What a module of `common` imports beyond itself, the standard library and the HTTP base's
    packages: Django, a package of ours, anything else."""
    return imported_packages(source) - FLOOR_MAY_IMPORT


def test_the_floor_imports_only_the_standard_library_and_the_http_bases_packages():
    for path in (ROOT / "common").rglob("*.py"):
        assert floor_imports_refused(path.read_text()) == set(), path


def test_the_floor_check_refuses_django_and_our_packages():
    source = (
        "import requests\nfrom prometheus_client import Counter\nfrom common.http import metrics\n"
        "from django.conf import settings\nimport kaleyra.errors\n"
    )
    assert floor_imports_refused(source) == {"django", "kaleyra"}


def test_the_check_sees_imports_at_the_top_and_inside_functions():
    source = (
        "import rooms.services.lifecycle\n"
        "from teleconsultation_project.logs import request_id_var\n"
        "def lazy():\n"
        "    from settings_api import apis\n"
        "from . import sibling\n"
    )
    assert imported_packages(source) >= {"rooms", "teleconsultation_project", "settings_api"}
