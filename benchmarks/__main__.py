"""``python -m benchmarks``: every workload, in order; see `benchmarks.runner`."""

from benchmarks import (
    chain,
    early_stop,
    etl,
    handoff,
    io_bound,
    memory,
    processes,
    thread_map,
)
from benchmarks.runner import main

main(
    {
        "chain": chain.run,
        "handoff": handoff.run,
        "thread_map": thread_map.run,
        "io_bound": io_bound.run,
        "processes": processes.run,
        "memory": memory.run,
        "early_stop": early_stop.run,
        "etl": etl.run,
    },
    publish=True,
)
