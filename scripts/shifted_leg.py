"""Runs the test suite on SQLite with the process clock shifted ahead (Debian's `faketime`), so a
test that depends on the day it runs fails the day it is written, not months later.

Says clearly when it skips because `faketime` is not installed; under CI (CI=true) that is a
failure, not a skip. `.ci/run` installs it (`apt-get install faketime`).

Under libfaketime 0.9.10 a timed wait (`threading.Event.wait(t)`, `threading.Timer`,
`Lock.acquire(timeout=t)`) never times out, and `FAKETIME_DONT_FAKE_MONOTONIC=1`, which would
mend it, makes `time.sleep` fail with EINVAL; tests wait with `time.sleep` (docs/testing.md).
"""

import os
import shutil
import subprocess
import sys

# A hung test would otherwise hold CI until its own limit: the leg takes ~2 minutes.
LEG_TIMEOUT_SECONDS = 20 * 60


def shifted_today(faketime: str, shift: str) -> str:
    result = subprocess.run(
        [faketime, "-f", shift, "date", "-u", "+%Y-%m-%d"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()


def main() -> int:
    shift, pytest_args = sys.argv[1], sys.argv[2:]
    faketime = shutil.which("faketime")
    if faketime is None:
        if os.environ.get("CI", "").lower() == "true":
            print("==> Time-shifted leg FAILED: faketime is not installed; CI requires it.")
            print("    apt-get install faketime (.ci/run does).")
            return 1
        print("==> Time-shifted leg SKIPPED: faketime is not installed.")
        print("    apt-get install faketime to run it (Debian's package).")
        return 0
    print(
        f"==> Test suite on SQLite with the clock shifted {shift}: "
        f"today reads as {shifted_today(faketime, shift)}",
        flush=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "FAKETIME_DONT_FAKE_MONOTONIC"}
    env["DATABASE_URL"] = ""
    command = [faketime, "-f", shift, sys.executable, "-m", "pytest", *pytest_args]
    try:
        return subprocess.call(command, env=env, timeout=LEG_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"==> Time-shifted leg FAILED: still running after {LEG_TIMEOUT_SECONDS} s.")
        return 1


if __name__ == "__main__":
    sys.exit(main())
