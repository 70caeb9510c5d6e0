"""genpipe: composable, typed generator stages that chain into lazy pipelines.

>>> import genpipe as gp
>>> range(10) | gp.filter(lambda n: n % 2) | gp.map(lambda n: n * n) | gp.to_list()
[1, 9, 25, 49, 81]
"""

from genpipe._concurrent._asyncio import async_map as async_map
from genpipe._concurrent._executor import executor_map as executor_map
from genpipe._concurrent._processes import process_map as process_map
from genpipe._concurrent._producers import buffer as buffer
from genpipe._concurrent._producers import merge as merge
from genpipe._concurrent._threads import thread_filter as thread_filter
from genpipe._concurrent._threads import thread_flat_map as thread_flat_map
from genpipe._concurrent._threads import thread_map as thread_map
from genpipe._core import Comparison as Comparison
from genpipe._core import Sink as Sink
from genpipe._core import Source as Source
from genpipe._core import Stage as Stage
from genpipe._core import pipeline as pipeline
from genpipe._core import source as source
from genpipe._core import stage as stage
from genpipe._core import stage_of as stage_of
from genpipe._errors import DeadLetter as DeadLetter
from genpipe._errors import DeadLetters as DeadLetters
from genpipe._errors import ErrorOptions as ErrorOptions
from genpipe._errors import RecordError as RecordError
from genpipe._errors import RetryOn as RetryOn
from genpipe._errors import Skip as Skip
from genpipe._files import CsvOptions as CsvOptions
from genpipe._metrics import MetricsTable as MetricsTable
from genpipe._metrics import StageMetrics as StageMetrics
from genpipe._progress import progress as progress
from genpipe._public import report_as
from genpipe._readers import CsvHandler as CsvHandler
from genpipe._readers import CsvRecord as CsvRecord
from genpipe._readers import JsonHandler as JsonHandler
from genpipe._readers import LineHandler as LineHandler
from genpipe._readers import read_csv as read_csv
from genpipe._readers import read_jsonl as read_jsonl
from genpipe._readers import read_lines as read_lines
from genpipe._run import Run as Run
from genpipe._selecting import distinct as distinct
from genpipe._selecting import drop_while as drop_while
from genpipe._selecting import filter as filter
from genpipe._selecting import skip as skip
from genpipe._selecting import take as take
from genpipe._selecting import take_while as take_while
from genpipe._sinks import drain as drain
from genpipe._sinks import first as first
from genpipe._sinks import for_each as for_each
from genpipe._sinks import last as last
from genpipe._sinks import reduce as reduce
from genpipe._sinks import to_dict as to_dict
from genpipe._sinks import to_list as to_list
from genpipe._sinks import to_set as to_set
from genpipe._sources import chain as chain
from genpipe._sources import count as count
from genpipe._sources import generate as generate
from genpipe._sources import repeat as repeat
from genpipe._timing import Clock as Clock
from genpipe._timing import Sleep as Sleep
from genpipe._timing import interval as interval
from genpipe._timing import throttle as throttle
from genpipe._transforms import enumerate as enumerate
from genpipe._transforms import flat_map as flat_map
from genpipe._transforms import flatten as flatten
from genpipe._transforms import map as map
from genpipe._transforms import scan as scan
from genpipe._transforms import sort as sort
from genpipe._transforms import starmap as starmap
from genpipe._transforms import tap as tap
from genpipe._windowing import batch as batch
from genpipe._windowing import group_by as group_by
from genpipe._windowing import pairwise as pairwise
from genpipe._windowing import window as window
from genpipe._writers import write_csv as write_csv
from genpipe._writers import write_jsonl as write_jsonl
from genpipe._writers import write_lines as write_lines

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "Comparison",
    "CsvHandler",
    "CsvOptions",
    "CsvRecord",
    "DeadLetter",
    "DeadLetters",
    "ErrorOptions",
    "JsonHandler",
    "LineHandler",
    "MetricsTable",
    "RecordError",
    "RetryOn",
    "Run",
    "Sink",
    "Skip",
    "Sleep",
    "Source",
    "Stage",
    "StageMetrics",
    "async_map",
    "batch",
    "buffer",
    "chain",
    "count",
    "distinct",
    "drain",
    "drop_while",
    "enumerate",
    "executor_map",
    "filter",
    "first",
    "flat_map",
    "flatten",
    "for_each",
    "generate",
    "group_by",
    "interval",
    "last",
    "map",
    "merge",
    "pairwise",
    "pipeline",
    "process_map",
    "progress",
    "read_csv",
    "read_jsonl",
    "read_lines",
    "reduce",
    "repeat",
    "scan",
    "skip",
    "sort",
    "source",
    "stage",
    "stage_of",
    "starmap",
    "take",
    "take_while",
    "tap",
    "thread_filter",
    "thread_flat_map",
    "thread_map",
    "throttle",
    "to_dict",
    "to_list",
    "to_set",
    "window",
    "write_csv",
    "write_jsonl",
    "write_lines",
]

# Tracebacks and reprs name `genpipe.RecordError`, never its private module.
for _name in __all__:
    report_as(__name__, globals()[_name])
del _name, report_as
