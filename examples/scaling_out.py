"""One pipeline, three places to run its CPU-bound step: threads, processes, Dask.

The result is the same each time; only where ``checksum`` runs changes.
Set GENPIPE_SCHEDULER to a Dask scheduler's address (``tcp://host:8786``) to
run the last step on that cluster instead of a local one.
"""

from __future__ import annotations

import os

import genpipe as gp


# --8<-- [start:work]
def checksum(n: int) -> int:
    """CPU-bound pure Python: it must be defined at module level to pickle."""
    return sum(i * i for i in range(n * 20)) % 1_000_003


def total(step: gp.Stage[int, int]) -> int:
    return range(200) | step | gp.reduce(lambda a, b: a + b, 0)


# --8<-- [end:work]


def main() -> None:
    # --8<-- [start:threads]
    print("threads:  ", total(gp.thread_map(checksum, workers=4)))
    # --8<-- [end:threads]
    # --8<-- [start:processes]
    print("processes:", total(gp.process_map(checksum, workers=2)))
    # --8<-- [end:processes]
    # --8<-- [start:dask]
    from distributed import Client, LocalCluster

    address = os.environ.get("GENPIPE_SCHEDULER")
    cluster = None if address else LocalCluster(n_workers=2, dashboard_address=":0")
    with Client(address or cluster) as client:
        print("dask:     ", total(gp.executor_map(checksum, client.get_executor())))
    if cluster is not None:
        cluster.close()
    # --8<-- [end:dask]


if __name__ == "__main__":
    main()
