"""The example programs, and the README's copy of one, run and print what they promise.

Each ``examples/NAME.py`` runs as its own process, as a reader would run it,
and must print exactly ``examples/expected/NAME.txt``, so a change in the
library that alters an example's output fails here instead of leaving the
example (or the README) quietly wrong.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPECTED = EXAMPLES / "expected"
# The ETL demo prints wall times and speed-ups, which differ on every run;
# `make demo` runs it.
NOT_COMPARED = {"etl_demo.py"}


#: The free-threaded run installs no Dask, which has no wheels for it.
NO_DASK = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="needs distributed (genpipe[dask]), not installed here",
)


def compared_examples() -> list[Any]:
    return [
        pytest.param(script, marks=NO_DASK)
        if script.name == "scaling_out.py"
        else script
        for script in sorted(EXAMPLES.glob("*.py"))
        if script.name not in NOT_COMPARED
    ]


@pytest.mark.parametrize("script", compared_examples(), ids=lambda path: path.name)
def test_example_prints_exactly_its_expected_output(script: Path) -> None:
    expected = EXPECTED / f"{script.stem}.txt"
    assert expected.is_file(), (
        f"write what {script.name} prints to {expected.relative_to(ROOT)}"
    )
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == expected.read_text(encoding="utf-8")


def test_readme_example_is_the_quickstart_script_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = (EXAMPLES / "quickstart.py").read_text(encoding="utf-8")
    assert f"```python\n{quickstart}```" in readme


def test_pytest_reports_the_failing_property_of_an_example_at_its_own_line() -> None:
    example = EXAMPLES / "sessions_property.py"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(example),
            "-q",
            "--tb=short",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stdout
    decorated = next(
        number
        for number, line in enumerate(example.read_text().splitlines(), 1)
        if line.startswith("@settings")
    )
    assert f"examples/sessions_property.py:{decorated}: in test_sessions" in run.stdout
    assert "first stage to diverge: sessions() (stage 3 of 3)" in run.stdout
    assert "genpipe/testing/" not in run.stdout.split("Explanation")[0]
