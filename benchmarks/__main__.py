"""``python -m benchmarks``: every workload, in order; see `benchmarks.runner`."""

from benchmarks import (
    chain,
    early_stop,
    etl,
    handoff,
    io_bound,
    memory,
    stages,
    thread_map,
)
from benchmarks.runner import main

main(
    {
        "chain": chain.run,
        "stages": stages.run,
        "handoff": handoff.run,
        "thread_map": thread_map.run,
        "io_bound": io_bound.run,
        "memory": memory.run,
        "early_stop": early_stop.run,
        "etl": etl.run,
    },
    publish=True,
)
