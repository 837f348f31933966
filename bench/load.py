"""The load generator of `make bench`: client threads on keep-alive connections, each sending one
GET after another for a fixed time, and the CPU the gunicorn workers spent meanwhile.

Rounds of the paths compared alternate (A, B, A, B...) on the same connections, so all meet the
same machine, the same worker spread and the same noise from whatever else runs.
"""

import http.client
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


@dataclass
class Round:
    path: str
    requests: int
    errors: int
    seconds: float
    worker_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.worker_cpu_seconds / max(self.requests, 1)


@dataclass
class Rounds:
    """Every round of one path, added up."""

    path: str
    rounds: list[Round] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return sum(r.requests for r in self.rounds) / sum(r.seconds for r in self.rounds)

    @property
    def cpu_ms_per_request(self) -> float:
        cpu = sum(r.worker_cpu_seconds for r in self.rounds)
        return 1000 * cpu / max(sum(r.requests for r in self.rounds), 1)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)


class Client:
    """`size` keep-alive connections to host:port, one per client thread, with the headers given."""

    def __init__(self, port: int, *, size: int, headers: dict[str, str]):
        self.port = port
        self.size = size
        self.headers = {"Host": "127.0.0.1", **headers}
        self.connections = [self._connect() for _ in range(size)]

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def _send(self, index: int, path: str, until: float, counts: list[int]) -> None:
        connection = self.connections[index]
        done = errors = 0
        for _ in range(1_000_000):  # bounded: a round ends on time long before this
            if time.monotonic() >= until:
                break
            try:
                connection.request("GET", path, headers=self.headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    done += 1
                else:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = self.connections[index] = self._connect()
        counts[2 * index], counts[2 * index + 1] = done, errors

    def round(self, path: str, *, seconds: float, workers: list[int]) -> Round:
        counts = [0] * (2 * self.size)
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._send, args=(index, path, until, counts))
            for index in range(self.size)
        ]
        cpu_before, began = cpu_seconds(workers), time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, cpu_after = time.monotonic() - began, cpu_seconds(workers)
        return Round(
            path=path,
            requests=sum(counts[0::2]),
            errors=sum(counts[1::2]),
            seconds=elapsed,
            worker_cpu_seconds=cpu_after - cpu_before,
        )


def compare(
    client: Client,
    subject: str,
    yardstick: str,
    *yardsticks: str,
    rounds: int,
    seconds: float,
    workers: list[int],
) -> tuple[Rounds, ...]:
    """`rounds` rounds of each path in turn (A, B, A, B... or A, B, C, A, B, C...), after one
    unmeasured warm-up round of each."""
    paths = (subject, yardstick, *yardsticks)
    for path in paths:
        client.round(path, seconds=1, workers=workers)
    measured = tuple(Rounds(path) for path in paths)
    for _ in range(rounds):
        for total, path in zip(measured, paths, strict=True):
            total.rounds.append(client.round(path, seconds=seconds, workers=workers))
    return measured
