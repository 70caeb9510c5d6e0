"""``python -m benchmarks``: every workload, in order; see `benchmarks.runner`."""

from benchmarks import (
    chain,
    cpu_bound,
    early_stop,
    etl,
    handoff,
    io_bound,
    memory,
    thread_map,
)
from benchmarks.runner import main

main(
    {
        "chain": chain.run,
        "handoff": handoff.run,
        "thread_map": thread_map.run,
        "io_bound": io_bound.run,
        "cpu_bound": cpu_bound.run,
        "memory": memory.run,
        "early_stop": early_stop.run,
        "etl": etl.run,
    },
    publish=True,
)
