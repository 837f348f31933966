"""`make run`: the development server, in development mode whatever `.env` holds.

`.env` is read by every start of the service, and `.env.example`, copied there for docker compose,
holds production settings (`DJANGO_DEBUG=false`, a public host name, live Kaleyra). Read by
`runserver`, they answer 400 on 127.0.0.1 while the banner prints local URLs. So when the settings
file (`DJANGO_ENV_FILE`, default `.env`) turns production mode on, `make run` says so before it
starts and leaves the file out (`DJANGO_ENV_FILE=`): SQLite under var/, the Kaleyra simulator, the
URLs below. A `.env` without `DJANGO_DEBUG=false` is read as usual.

    python scripts/run_local.py HOST PORT
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ".venv/bin"
TRUE = ("true", "on", "ok", "y", "yes", "1")  # django-environ's smart booleans


def file_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments, blank lines and `export ` left out)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().removeprefix("export ").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def production_file(environ: Mapping[str, str]) -> str | None:
    """The settings file when reading it would turn production mode on, else None."""
    name = environ.get("DJANGO_ENV_FILE", ".env")
    path = ROOT / name
    if not name or not path.is_file() or "DJANGO_DEBUG" in environ:
        return None
    debug = file_values(path).get("DJANGO_DEBUG")
    return name if debug is not None and debug.lower() not in TRUE else None


def banner(host: str, port: str) -> str:
    base = f"http://{host}:{port}"
    rows = [
        ("Teleconsultation API", f"{base}/"),
        ("API docs (Swagger)", f"{base}/documentation/"),
        ("OpenAPI document", f"{base}/documentation/json"),
        ("Admin", f"{base}/admin/  (create a login: {BIN}/python manage.py createsuperuser)"),
        ("Health", f"{base}/-/healthz"),
        (
            "Kaleyra webhooks",
            f"http://127.0.0.1:{port}/webhooks/kaleyra  (the simulator posts its events here)",
        ),
    ]
    return "\n" + "\n".join(f"  {name:<21} {url}" for name, url in rows) + "\n"


def main() -> int:
    host, port = sys.argv[1], sys.argv[2]
    env = dict(os.environ)
    left_out = production_file(env)
    if left_out is not None:
        print(
            f"\n  make run: {left_out} sets DJANGO_DEBUG=false (production settings, for docker"
            " compose or a cluster).\n"
            "  make run serves in development mode, so it leaves that file out: SQLite under"
            " var/,\n  the Kaleyra simulator, the URLs below. To give make run settings of its"
            f" own, put them in\n  a file without DJANGO_DEBUG=false and name it with"
            " DJANGO_ENV_FILE=... (docs/operations.md).",
            flush=True,
        )
        env["DJANGO_ENV_FILE"] = ""
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
    print(banner(host, port), flush=True)
    if not env.get("KALEYRA_SIMULATOR_PUBLIC_URL"):
        env["KALEYRA_SIMULATOR_PUBLIC_URL"] = f"http://{host}:{port}/kaleyra-simulator"
    # Set but empty: the simulator posts no webhooks.
    env.setdefault("KALEYRA_SIMULATOR_WEBHOOK_URL", f"http://127.0.0.1:{port}/webhooks/kaleyra")
    os.chdir(ROOT)
    # In place of this process: Ctrl-C and the autoreloader reach runserver as they did.
    os.execve(python, [python, "manage.py", "runserver", f"{host}:{port}"], env)  # noqa: S606
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
