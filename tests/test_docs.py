"""The code of the docs runs: each page in order, its sessions printing what they show.

A page is run as a reader would run it: its `python` blocks define what its
`pycon` sessions use, in one namespace, top to bottom. (``make typecheck``
type-checks the `python` blocks; see docs/snippets.py.)

An example whose output depends on timing (a stopwatch, the order in which
threads finish) carries ``# doctest: +TIMING``: it runs, and its output is not
compared, since no test asserts on time. The docs build drops the directive.
"""

from __future__ import annotations

import doctest
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs_scripts import load

ROOT = Path(__file__).resolve().parent.parent
snippets = load("snippets")
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
TIMING = doctest.register_optionflag("TIMING")


class Checker(doctest.OutputChecker):
    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return bool(optionflags & TIMING) or super().check_output(
            want, got, optionflags
        )


def runnable(page: Path) -> bool:
    return any(
        block.language in ("python", "pycon") and not block.includes_a_file
        for block in snippets.blocks(page)
    )


@pytest.mark.parametrize(
    "page",
    [page for page in snippets.PAGES if runnable(page)],
    ids=lambda page: str(page.relative_to(ROOT)),
)
def test_a_pages_code_runs_and_its_sessions_print_what_they_show(page: Path) -> None:
    # reveal_type() is for the type checker; the typing page calls it at top level.
    namespace: dict[str, Any] = {"__name__": "__main__", "reveal_type": lambda x: x}
    parser, failures = doctest.DocTestParser(), []
    for block in snippets.blocks(page):
        where = f"{page.relative_to(ROOT)}:{block.first_line}"
        if block.includes_a_file:
            continue
        if block.language == "python":
            exec(compile(block.source, where, "exec"), namespace)
        elif block.language == "pycon":
            session = parser.get_doctest(
                block.source, namespace, where, str(page), block.first_line - 1
            )
            report: list[str] = []
            runner = doctest.DocTestRunner(checker=Checker(), optionflags=OPTIONS)
            runner.run(session, out=report.append, clear_globs=False)
            namespace.update(session.globs)
            failures += report
    # The reader's session ends: what it left half-read is closed and collected.
    for value in namespace.values():
        if isinstance(value, Iterator) and hasattr(value, "close"):
            value.close()
    namespace.clear()
    gc.collect()
    assert not failures, "\n".join(failures)
