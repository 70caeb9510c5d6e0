"""``python -m benchmarks``: every workload, in order; see `benchmarks.runner`."""

from benchmarks import (
    async_io,
    chain,
    cpu_bound,
    early_stop,
    etl,
    handoff,
    io_bound,
    memory,
    metrics,
    processes,
    readahead,
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
        "readahead": readahead.run,
        "io_bound": io_bound.run,
        "async_io": async_io.run,
        "cpu_bound": cpu_bound.run,
        "processes": processes.run,
        "metrics": metrics.run,
        "memory": memory.run,
        "early_stop": early_stop.run,
        "etl": etl.run,
    },
    publish=True,
)
