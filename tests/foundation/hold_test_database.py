"""pytest plugin for test_postgres_leg: a test keeps its database busy for a while.

Loaded with `-p tests.foundation.hold_test_database`; HOLD_TEST_DATABASE_SECONDS says how long.
"""

import os
import time


def pytest_runtest_call(item):
    time.sleep(float(os.environ.get("HOLD_TEST_DATABASE_SECONDS", "0")))
