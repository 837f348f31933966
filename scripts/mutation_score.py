"""Prints `make mutate`'s score from mutmut's summary (`mutmut export-cicd-stats`).

The score is the share of mutants the tests killed (timeouts count as killed: the mutant made a
test hang) among those a test ran against. Mutants no test covers are counted apart: they are a
gap of another kind. A figure to watch, not a gate: it exits 0 whatever the score.
"""

import json
import sys
from pathlib import Path

STATS = Path("mutants/mutmut-cicd-stats.json")


def main() -> int:
    if not STATS.exists():
        print(f"No {STATS}: run `mutmut run` and `mutmut export-cicd-stats` first.")
        return 1
    stats = json.loads(STATS.read_text())
    killed = stats["killed"] + stats["timeout"]
    tested = killed + stats["survived"] + stats["suspicious"]
    score = 100 * killed / tested if tested else 0.0
    print(
        f"==> Mutation score: {score:.1f}% ({killed} of {tested} mutants killed; "
        f"{stats['survived']} survived, {stats['no_tests']} not covered by any test, "
        f"{stats['total']} in all)"
    )
    print("    `.venv/bin/mutmut results` lists the survivors; `mutmut show NAME` shows one.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
