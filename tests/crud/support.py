"""Shared builders of the crud suite (plain functions, imported by the tests)."""

from crud.client import CrudClient

BASE_URL = "http://crud-service"
COLLECTION = "teleconsultations"
DOCUMENT_ID = "65a1b2c3d4e5f60718293a4b"


class RecordedSleeps:
    """Stands in for time.sleep: records each wait and never waits."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_client(sleep=None, **options) -> CrudClient:
    """A client on BASE_URL with the production defaults; jitter always picks the maximum."""
    arguments = {
        "base_url": BASE_URL,
        "connect_timeout": 3.05,
        "read_timeout": 10.0,
        "user_id_header": "userid",
        "sleep": sleep or RecordedSleeps(),
        "rand": lambda low, high: high,
    }
    return CrudClient(**{**arguments, **options})


def raw_session(simulator):
    """A plain requests session reaching `simulator` (in-process), to look at raw answers."""
    from crud.simulator.inprocess import simulator_session

    return simulator_session(
        simulator.db_path, base_url=simulator.base_url, user_id_header=simulator.user_id_header
    )


def seed(client, name: str, *documents: dict) -> list[str]:
    """Creates PUBLIC documents (crud-service's default reads see only PUBLIC)."""
    return [client.create(name, {"__STATE__": "PUBLIC", **document}) for document in documents]
