"""Runs the test suite against PostgreSQL when a server answers; says clearly when it skips.

Under CI (CI=true) an unreachable server is a failure, not a skip: the suite must prove itself on
the production database too. Each run gets a test database of its own (`test_<name>_<pid>`,
through DATABASE_TEST_NAME), so two runs on one server never drop each other's, and the run drops
it at the end even when the test process was killed before it could.
"""

import os
import subprocess
import sys

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def libpq(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A connection to the server's maintenance database, as Django's test set-up makes: the
    database named in the URL need not exist."""
    return psycopg.connect(make_conninfo(libpq(url), dbname="postgres"), **kwargs)


def database_name(url: str) -> str:
    return conninfo_to_dict(libpq(url)).get("dbname") or "postgres"


def test_database_name(url: str, pid: int) -> str:
    return f"test_{database_name(url)}_{pid}"


def drop_database(url: str, name: str) -> None:
    with connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def main() -> int:
    url, pytest_args = sys.argv[1], sys.argv[2:]
    try:
        connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if os.environ.get("CI", "").lower() == "true":
            print(f"==> PostgreSQL leg FAILED: {url} is not reachable ({reason}); CI requires it.")
            return 1
        print(f"==> PostgreSQL leg SKIPPED: {url} is not reachable ({reason}).")
        print("    Start PostgreSQL or set POSTGRES_TEST_URL to run it.")
        return 0
    test_database = test_database_name(url, os.getpid())
    print(f"==> Test suite on PostgreSQL ({url}, test database {test_database})", flush=True)
    env = dict(os.environ, DATABASE_URL=url, DATABASE_TEST_NAME=test_database)
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)
    finally:
        drop_database(url, test_database)


if __name__ == "__main__":
    sys.exit(main())
