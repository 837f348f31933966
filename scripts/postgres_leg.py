"""Runs the test suite against PostgreSQL when a server answers; says clearly when it skips.

Under CI (CI=true) an unreachable server is a failure, not a skip: the suite must prove itself on
the production database too.
"""

import os
import subprocess
import sys

import psycopg


def main() -> int:
    url, pytest_args = sys.argv[1], sys.argv[2:]
    try:
        psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if os.environ.get("CI", "").lower() == "true":
            print(f"==> PostgreSQL leg FAILED: {url} is not reachable ({reason}); CI requires it.")
            return 1
        print(f"==> PostgreSQL leg SKIPPED: {url} is not reachable ({reason}).")
        print("    Start PostgreSQL or set POSTGRES_TEST_URL to run it.")
        return 0
    print(f"==> Test suite on PostgreSQL ({url})")
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)


if __name__ == "__main__":
    sys.exit(main())
