"""Property-test that a pipeline streamed lazily computes what its eager face does.

`assert_lazy_equals_eager` checks one pipeline on one input and explains a
difference; `lazy_eager_property` makes a hypothesis test of a pipeline
factory; `genpipe.testing.strategies` draws random stages and pipelines.
It needs hypothesis: ``pip install genpipe[testing]``.

>>> import genpipe as gp
>>> from genpipe.testing import assert_lazy_equals_eager
>>> assert_lazy_equals_eager(gp.source(range(5)) | gp.batch(2) | gp.flatten())
"""

try:
    import hypothesis as _hypothesis
except ImportError as missing:
    raise ImportError(
        "genpipe.testing needs hypothesis: pip install genpipe[testing]"
    ) from missing

from genpipe._public import report_as
from genpipe.testing import strategies as strategies
from genpipe.testing._assertion import (
    assert_lazy_equals_eager as assert_lazy_equals_eager,
)
from genpipe.testing._property import lazy_eager_property as lazy_eager_property

__all__ = ["assert_lazy_equals_eager", "lazy_eager_property", "strategies"]

for _name in __all__:
    report_as(__name__, globals()[_name])
del _hypothesis, _name, report_as
