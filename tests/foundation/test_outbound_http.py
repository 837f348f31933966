"""One choke point for outbound HTTP: no module of the service's packages imports `requests`,
lazy imports included, except the outbound base (`common/http/`) and the two simulators, which
serve and fake HTTP rather than call a service."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "kaleyra", "crud", "rooms", "settings_api", "teleconsultation_project")
MAY_IMPORT_REQUESTS = ("common/http/", "kaleyra/simulator/", "crud/simulator/")


def imports_requests(source: str) -> bool:
    """Whether a module imports `requests` or one of its modules, at the top or in a function."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.split(".")[0] == "requests" for name in names):
            return True
    return False


def test_only_the_outbound_base_and_the_simulators_import_requests():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            if not module.startswith(MAY_IMPORT_REQUESTS) and imports_requests(path.read_text()):
                offenders.append(module)
    assert offenders == []


def test_the_check_sees_every_form_of_the_import():
    for source in (
        "import requests\n",
        "import requests.adapters as adapters\n",
        "from requests.adapters import HTTPAdapter\n",
        "def lazy():\n    from requests import Session\n",
    ):
        assert imports_requests(source), source
    for source in ("import requests_toolbelt\n", "from common.http import client\n"):
        assert not imports_requests(source), source
