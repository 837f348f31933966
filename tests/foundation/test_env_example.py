"""Every variable the service reads is in .env.example and in the README's configuration table.

Variables are found where they are read: `env.<type>("NAME", ...)` / `env("NAME")` in the settings
modules and `os.environ` in gunicorn.conf.py. A failure names exactly the missing ones.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MODULES = [
    ROOT / "teleconsultation_project" / "settings.py",
    ROOT / "teleconsultation_project" / "envcheck.py",
]
GUNICORN_CONF = ROOT / "gunicorn.conf.py"

# Read, but not the operator's to set.
NOT_FOR_OPERATORS = {
    "DATABASE_TEST_NAME",  # set by scripts/postgres_leg.py for each test run
    "BENCH_BARE_VIEWS",  # set by `make bench` (bench/run.py) for its yardstick views
}


def literal_first_argument(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def names_read_through_env(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        through_env = (isinstance(function, ast.Name) and function.id == "env") or (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id == "env"
        )
        if through_env and (name := literal_first_argument(node)):
            names.add(name)
    return names


def names_read_through_os_environ(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value  # os.environ.get("X") / setdefault / ...
            name = literal_first_argument(node)
        elif isinstance(node, ast.Subscript):
            target = node.value  # os.environ["X"]
            name = node.slice.value if isinstance(node.slice, ast.Constant) else None
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            target = node.comparators[0]  # "X" in os.environ
            name = node.left.value
        if target is not None and ast.unparse(target) == "os.environ" and isinstance(name, str):
            names.add(name)
    return names


def variables_read() -> set[str]:
    names = set().union(*(names_read_through_env(path) for path in SETTINGS_MODULES))
    return (names | names_read_through_os_environ(GUNICORN_CONF)) - NOT_FOR_OPERATORS


def test_the_scan_finds_the_variables_it_should():
    read = variables_read()
    assert {"DJANGO_DEBUG", "DATABASE_URL", "LOG_LEVEL", "GUNICORN_WORKERS"} <= read
    assert "KALEYRA_REQUEST_DEADLINE_SECONDS" in read


def test_env_example_lists_every_variable_the_service_reads():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = sorted(variables_read() - listed)
    assert not missing, (
        "Missing from .env.example (add `NAME=value`, or `# NAME=default` with a comment): "
        + ", ".join(missing)
    )


def test_the_readme_documents_every_variable_the_service_reads():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in variables_read() if f"`{name}`" not in readme)
    assert not missing, "Missing from the README's configuration table: " + ", ".join(missing)
