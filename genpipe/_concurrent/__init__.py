"""The one concurrency engine and its backends.

Every concurrent stage is built from the same parts, each in its own module:

- `_lifecycle`: a run's threads, how they are stopped and joined, and the one
  place that records their failures;
- `_feeder`: the only reader of a concurrent stage's upstream, bounded;
- `_outlet`: the consumer's end of a concurrent stage;
- `_engine`: the mapping engine (read-ahead window, chunks, ordered or
  completion-order delivery) and the `Backend` seam;
- `_threads`, `_executor`: backends (genpipe's own worker threads; any
  `concurrent.futures.Executor`);
- `_producers`: `buffer`, `merge` and timed `batch`, a feeder per upstream.
"""
