"""The locks: every requirement of requirements/*.in, and every package the code imports, is
pinned in its lock with hashes, so `pip install --require-hashes` installs exactly what was
tested; the test lock has the runtime lock's packages at the same versions; the runtime lock has
no test tool.

requirements/base.in -> base.txt (the image, `make run`), test.in -> test.txt (`make test`),
mutate.in -> mutate.txt (`make mutate`), checkov.in -> checkov.txt (its own environment, for the
Kubernetes checks); `make lock` makes the .txt from the .in
(docs/operations.md#dependencies).
"""

import ast
import importlib.metadata
import importlib.util
import re
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
LOCKS = {
    "base.in": "base.txt",
    "test.in": "test.txt",
    "mutate.in": "mutate.txt",
    "checkov.in": "checkov.txt",  # its own environment: it clashes with the test pins
}
OURS = {path.name for path in ROOT.iterdir() if path.is_dir()} | {"manage", "gunicorn"}
RUNTIME_CODE = ("teleconsultation_project", "rooms", "kaleyra", "crud", "common", "settings_api")
# Code of the runtime packages that only the tests load.
TEST_ONLY_FILES = ("pytest_plugin.py",)
TEST_CODE = ("tests", "bench", "scripts")
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_in(name: str) -> dict[str, str]:
    """The pins of a .in file, `-r` files included (`-c` only constrains): name -> version."""
    pins: dict[str, str] = {}
    for raw in (REQUIREMENTS / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-c "):
            continue
        if line.startswith("-r "):
            pins |= requirements_in(line[3:].strip())
            continue
        match = PINNED.match(line)
        assert match, f"{name}: {line!r} is not pinned with =="
        pins[canonical(match[1])] = match[2]
    return pins


@cache
def lock(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock's packages: name -> (version, hashes)."""
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    text = (REQUIREMENTS / name).read_text()
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#") or not block.strip():
            continue
        match = PINNED.match(block)
        assert match, f"{name}: {block.splitlines()[0]!r} is not pinned with =="
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
        entries[canonical(match[1])] = (match[2], hashes)
    return entries


@pytest.mark.parametrize(("source", "locked"), LOCKS.items())
def test_every_requirement_is_in_its_lock_at_its_version(source, locked):
    pins = lock(locked)
    missing = {
        name: version
        for name, version in requirements_in(source).items()
        if pins.get(name, ("",))[0] != version
    }
    assert not missing, f"{source} asks for what {locked} does not pin (make lock): {missing}"


@pytest.mark.parametrize("locked", LOCKS.values())
def test_every_locked_package_has_its_hashes(locked):
    entries = lock(locked)
    assert entries
    assert [name for name, (_, hashes) in entries.items() if not hashes] == []


@pytest.mark.parametrize(
    ("smaller", "larger"), [("base.txt", "test.txt"), ("test.txt", "mutate.txt")]
)
def test_each_lock_keeps_the_one_below_it_as_it_is(smaller, larger):
    below, above = lock(smaller), lock(larger)
    changed = sorted(
        name for name, (version, _) in below.items() if name in above and above[name][0] != version
    )
    assert changed == []
    assert set(requirements_in("base.in")) <= set(lock("test.txt"))


def test_the_runtime_lock_holds_no_test_tool():
    tools = set(requirements_in("test.in")) - set(requirements_in("base.in"))
    assert tools and not tools & set(lock("base.txt"))


@cache
def owners() -> dict[Path, str]:
    """Each installed Python file -> the distribution that installed it."""
    files = {}
    for distribution in importlib.metadata.distributions():
        for file in distribution.files or ():
            if file.suffix in (".py", ".so", ".pyi"):
                files[Path(distribution.locate_file(file)).resolve()] = canonical(
                    distribution.metadata["Name"]
                )
    return files


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {name for name in modules if name.split(".")[0] not in sys.stdlib_module_names | OURS}


def distribution_of(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:  # a namespace package: one of its modules will say
        return None
    return owners().get(Path(spec.origin).resolve())


def unlocked_imports(files: list[Path], locked: str) -> dict[str, str]:
    pins = lock(locked)
    found = {}
    for path in files:
        for module in imported_modules(path):
            distribution = distribution_of(module)
            if distribution is not None and distribution not in pins:
                found[f"{path}: {module}"] = distribution
    return found


def python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def test_every_package_the_service_imports_is_in_the_runtime_lock():
    files = [path for path in python_files(*RUNTIME_CODE) if path.name not in TEST_ONLY_FILES]
    files += [ROOT / "manage.py", ROOT / "gunicorn.conf.py"]
    assert unlocked_imports(files, "base.txt") == {}


def test_every_package_the_tests_import_is_in_the_test_lock():
    files = python_files(*TEST_CODE) + [
        path for path in python_files(*RUNTIME_CODE) if path.name in TEST_ONLY_FILES
    ]
    assert unlocked_imports(files, "test.txt") == {}


def test_the_import_check_finds_a_package_missing_from_a_lock(tmp_path):
    module = tmp_path / "uses_pytest.py"
    module.write_text("import pytest\nfrom django.db import models\n")
    assert set(unlocked_imports([module], "base.txt").values()) == {"pytest"}
