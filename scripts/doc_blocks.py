"""`make docs`: every ```sh block of the README and docs/api.md, run in order against a live server.

Starts gunicorn on a free loopback port with a throwaway SQLite database and the in-process Kaleyra
simulator, as `make run` serves (its join pages, its webhooks posted back to the service), exports
`BASE` to that server, and runs each file's blocks in one bash session, in the order they are
written, with `set -euo pipefail` and `curl` failing on any 4xx or 5xx (`--fail-with-body`). A
step that breaks stops its file and names the block (file and line); the exit status is non-zero.

A block preceded by a line starting `<!-- not run` is skipped (`make run` itself, say); the
comment says why.

    python scripts/doc_blocks.py [--base URL] [FILE...]   (default: README.md docs/api.md)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz import free_port, server_environment, wait_until_healthy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FILES = ("README.md", "docs/api.md")
SKIP_MARK = "<!-- not run"
FENCE = re.compile(r"^```(\w*)\s*$")
# What the blocks run in, before the first: stop at the first failure, and a curl that fails on
# an error status (keeping the body, to show what the service said).
PREAMBLE = """set -Eeuo pipefail
curl() { command curl --fail-with-body --show-error --max-time 30 "$@"; }
"""
STEP_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Block:
    source: str  # file:line of the opening fence
    code: str


def blocks(text: str, source: str) -> list[Block]:
    """The ```sh blocks of a Markdown text, in order, without those marked not to run."""
    found, lines = [], text.splitlines()
    previous, index = "", 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        start, index = index, index + 1
        body = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        if fence.group(1) == "sh" and not previous.startswith(SKIP_MARK):
            found.append(Block(f"{source}:{start + 1}", "\n".join(body)))
        previous, index = "", index + 1
    return found


def script(steps: list[Block]) -> str:
    """One bash script running the steps in order, each announced with its source."""
    parts = [PREAMBLE]
    for step in steps:
        parts.append(f"printf '\\n==> %s\\n' '{step.source}'\nSTEP='{step.source}'\n{step.code}\n")
    return "\n".join(parts)


def run(steps: list[Block], base: str) -> subprocess.CompletedProcess:
    """Runs the steps in one bash session with BASE exported; output and errors in the result."""
    trap = "trap 'echo \"==> FAILED in the block at $STEP (status $?)\" >&2' ERR\n"
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", trap + script(steps)],
        cwd=ROOT,
        env={**os.environ, "BASE": base},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
        check=False,
    )


@contextmanager
def live_server(directory: Path, server_log) -> Iterator[str]:
    """gunicorn on a free loopback port, set up as `make run` (the simulator's join pages and its
    webhooks on the same server); yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(
        directory, port, {"KALEYRA_SIMULATOR_WEBHOOK_URL": f"{base}/webhooks/kaleyra"}
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "teleconsultation_project.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"),
            # Threads: the simulator posts its webhooks back to this server mid-request.
            *("--workers", "1", "--threads", "4", "--no-control-socket"),
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_files(paths: list[Path], base: str) -> bool:
    """Each file's blocks in a session of their own; True when every one passed."""
    passed = True
    for path in paths:
        source = path.resolve().relative_to(ROOT) if path.is_absolute() else path
        steps = blocks((ROOT / path).read_text(), str(source))
        result = run(steps, base)
        print(f"==> {source}: {len(steps)} blocks{result.stdout}", flush=True)
        if result.returncode != 0:
            passed = False
            print(result.stderr[-4000:], flush=True)
            print(f"==> {source}: FAILED", flush=True)
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="run against this server instead of starting one")
    parser.add_argument("files", nargs="*", type=Path, default=[Path(name) for name in FILES])
    options = parser.parse_args()
    if options.base:
        return 0 if run_files(options.files, options.base) else 1
    with tempfile.TemporaryDirectory(prefix="doc-blocks-") as directory:
        log_path = Path(directory) / "server.log"
        with log_path.open("w") as server_log, live_server(Path(directory), server_log) as base:
            passed = run_files(options.files, base)
        if not passed:
            print("==> The server's log:\n" + log_path.read_text()[-4000:])
    print("==> Documentation blocks: " + ("passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
