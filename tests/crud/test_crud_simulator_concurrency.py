"""A compare-and-set PATCH is atomic in the simulator, as findOneAndUpdate is in MongoDB.

`PATCH /<name>/<id>?_q={"version": v}` with `$inc: {version: 1}` must let exactly one of many
concurrent writers win each version: the others' filters no longer match and they get a 404
(crud-service lib/CrudService.js patchById is one findOneAndUpdate; lib/httpInterface.js answers
404 when it returns nothing). The simulator takes each write transaction up front (BEGIN
IMMEDIATE), so this holds across threads, connections and processes sharing the state file.
"""

import threading

JOBS = "teleconsultation_room_jobs"
ROUNDS = 3


def race(clients, document_id: str) -> dict[int, list[int]]:
    """Every client tries to move the document from version r to r+1 in each round, all at once
    (a barrier starts each round). Returns the winners of each round."""
    barrier = threading.Barrier(len(clients), timeout=60)
    winners: dict[int, list[int]] = {r: [] for r in range(ROUNDS)}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def contender(number: int, client) -> None:
        try:
            for version in range(ROUNDS):
                barrier.wait()
                after = client.patch(
                    JOBS,
                    document_id,
                    query={"version": version},
                    set={"owner": number},
                    inc={"version": 1},
                    push={"winners": number},
                )
                if after is not None:
                    with lock:
                        winners[version].append(number)
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            failures.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=contender, args=(number, client), daemon=True)
        for number, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return winners


def assert_one_winner_per_version(simulator, document_id: str, winners: dict[int, list[int]]):
    assert [len(winners[version]) for version in range(ROUNDS)] == [1] * ROUNDS
    stored = simulator.document(JOBS, document_id)
    assert stored["version"] == ROUNDS
    assert stored["winners"] == [winners[version][0] for version in range(ROUNDS)]
    assert stored["owner"] == winners[ROUNDS - 1][0]


def test_fifty_concurrent_compare_and_set_patches_over_http_one_wins_each_version(
    crud_simulator_http,
):
    crud_simulator_http.configure(JOBS, default_state="PUBLIC")
    document_id = crud_simulator_http.client().create(JOBS, {"version": 0, "winners": []})
    clients = [crud_simulator_http.client(user_id=f"worker-{n}") for n in range(50)]
    winners = race(clients, document_id)
    assert_one_winner_per_version(crud_simulator_http, document_id, winners)


def test_compare_and_set_is_atomic_across_separate_connections_in_process(crud_simulator):
    crud_simulator.configure(JOBS, default_state="PUBLIC")
    document_id = crud_simulator.client().create(JOBS, {"version": 0, "winners": []})
    clients = [crud_simulator.client(user_id=f"worker-{n}") for n in range(12)]  # one store each
    winners = race(clients, document_id)
    assert_one_winner_per_version(crud_simulator, document_id, winners)
