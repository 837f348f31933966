"""How far one request travels through the project's own code: a POST with known users, a GET and
a cleanup run, each traced in-process with `sys.setprofile` (SQLite in a temporary directory, the
in-process Kaleyra simulator, production settings).

    .venv/bin/python scripts/trace_paths.py [--json | --files]

For each path it prints:
- modules: the project modules entered (a function of theirs ran);
- hops: distinct direct calls between two project modules, as (calling function, called
  function) pairs; Django, DRF and the standard library calling our code (the middleware chain,
  a serializer's hooks) are not hops: only our code calling our code is;
- calls back up: those of the hops that enter a module already on the stack: the code below
  turning back to the code above it (a callback).

Project modules are those of `common`, `kaleyra`, `crud`, `rooms`, `settings_api` and
`teleconsultation_project`, module-level code (an import) aside; the simulators
(`kaleyra.simulator`, `crud.simulator`) stand in for the network: nothing under them is counted.
docs/architecture.md gives the figures.
"""

import functools
import io
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="trace-paths-"))
PACKAGES = ("common", "kaleyra", "crud", "rooms", "settings_api", "teleconsultation_project")
NOT_COUNTED = ("kaleyra.simulator", "crud.simulator")

os.environ.update(
    DJANGO_SETTINGS_MODULE="teleconsultation_project.settings",
    DJANGO_DEBUG="false",
    DJANGO_SECRET_KEY="trace-only-" + "x" * 40,
    DJANGO_ALLOWED_HOSTS="127.0.0.1",
    DJANGO_INSECURE_LOCAL_HTTP="true",
    DATABASE_URL=f"sqlite:///{WORKDIR / 'db.sqlite3'}",
    KALEYRA_BACKEND="simulator",
    KALEYRA_SIMULATOR_DB=str(WORKDIR / "simulator.sqlite3"),
    BANDYER_API_SECRET_KEY="trace",  # noqa: S106  (the in-process simulator takes any)
    BANDYER_BASE_URL="http://127.0.0.1:9",
    PROMETHEUS_MULTIPROC_DIR=str(WORKDIR),
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402
import time_machine  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.wsgi_call import call_application, schedule_visit  # noqa: E402
from teleconsultation_project.wsgi import application  # noqa: E402

call = functools.partial(call_application, application)

PEOPLE = [("trace-doctor", "doctor"), ("trace-patient", "customer")]


def counted(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


class Trace:
    """What `sys.setprofile` saw: the frames on the stack (ours as (module, function), others as
    None), the modules entered and each direct call between two of our modules."""

    def __init__(self):
        self.stack: list[tuple[str, str] | None] = []
        self.inside_simulator = 0  # frames of a simulator on the stack: below them is "Kaleyra"
        self.modules: dict[str, None] = {}  # in the order first entered
        self.hops: set[tuple[str, str]] = set()
        self.back_up: set[tuple[str, str]] = set()

    def __call__(self, frame, event, arg):
        if event == "return":
            if self.stack:
                entry = self.stack.pop()
                if entry == SIMULATOR:
                    self.inside_simulator -= 1
            return
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if module.startswith(NOT_COUNTED):
            self.inside_simulator += 1
            self.stack.append(SIMULATOR)
            return
        if self.inside_simulator or not counted(module) or frame.f_code.co_name == "<module>":
            self.stack.append(None)
            return
        here = (module, frame.f_code.co_qualname)
        caller = self.stack[-1] if self.stack else None
        self.modules.setdefault(module)
        if caller and caller[0] != module:
            hop = (f"{caller[0]}:{caller[1]}", f"{module}:{here[1]}")
            self.hops.add(hop)
            if any(entry and entry[0] == module for entry in self.stack):
                self.back_up.add(hop)
        self.stack.append(here)

    def figures(self) -> dict:
        return {
            "modules": len(self.modules),
            "hops": len(self.hops),
            "calls_back_up": len(self.back_up),
            "module_list": list(self.modules),
            "file_list": [
                str(Path(sys.modules[module].__file__).relative_to(ROOT)) for module in self.modules
            ],
            "back_up_list": sorted(f"{a} -> {b}" for a, b in self.back_up),
        }


SIMULATOR = ("simulator", "")


def traced(action) -> dict:
    trace = Trace()
    sys.setprofile(trace)
    try:
        action()
    finally:
        sys.setprofile(None)
    return trace.figures()


def post() -> str:
    return schedule_visit(application, PEOPLE, start=datetime.now(UTC) + timedelta(days=1))


def get(room_id: str) -> None:
    headers = {"HTTP_MIAUSERID": "trace-patient", "HTTP_MIAUSERGROUPS": "customer"}
    status, content = call("GET", f"/teleconsultation/{room_id}", headers)
    if not status.startswith("200"):
        raise SystemExit(f"GET answered {status}: {content!r}")


def cleanup() -> None:
    """Three days on, the visits made above have ended: the cleanup moves them to the trash."""
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3)):
        call_command("cleanup_teleconsultations", "--older-than-days", "1", stdout=io.StringIO())


def main() -> None:
    call_command("migrate", verbosity=0)
    room_id = post()  # the users are known from here on
    get(room_id)  # warm: the first call of anything imports and caches
    post()
    results = {"post_known_users": traced(post)}
    results["get"] = traced(lambda: get(room_id))
    results["cleanup"] = traced(cleanup)
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    if "--files" in sys.argv:  # each path as the files it enters, in the order first entered
        for name, figures in results.items():
            print(f"{name}: " + " → ".join(figures["file_list"]) + "\n")
        return
    print(f"{'path':<18} {'modules':>8} {'hops':>6} {'calls back up':>14}")
    for name, figures in results.items():
        print(
            f"{name:<18} {figures['modules']:>8} {figures['hops']:>6} "
            f"{figures['calls_back_up']:>14}"
        )
    for name, figures in results.items():
        if figures["back_up_list"]:
            print(f"\n{name}: calls back up")
            for line in figures["back_up_list"]:
                print(f"  {line}")


if __name__ == "__main__":
    main()
