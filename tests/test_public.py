"""Everything genpipe exports reports the public module a user imports it from."""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from types import ModuleType

import pytest

import genpipe as gp
from genpipe import testing


def exported(package: ModuleType) -> list[tuple[str, object]]:
    return [(name, getattr(package, name)) for name in package.__all__]


def defined_in_genpipe(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith("genpipe")


@pytest.mark.parametrize(
    ("package", "name", "obj"),
    [(package, *export) for package in (gp, testing) for export in exported(package)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_export_reports_the_package_it_is_imported_from(
    package: ModuleType, name: str, obj: object
) -> None:
    if isinstance(obj, ModuleType):
        assert obj.__name__ == f"{package.__name__}.{name}"
    elif defined_in_genpipe(obj):
        assert obj.__module__ == package.__name__


def test_methods_of_exported_classes_report_the_package_too() -> None:
    for _, obj in exported(gp):
        if isinstance(obj, type) and defined_in_genpipe(obj):
            for attribute in vars(obj).values():
                method = getattr(attribute, "__func__", attribute)
                if callable(method) and defined_in_genpipe(method):
                    assert method.__module__ == "genpipe", (obj, method)


def test_a_traceback_names_the_public_exception() -> None:
    error = gp.RecordError("bad row", path="orders.csv", line=3)
    shown = traceback.format_exception_only(error)
    assert shown == ["genpipe.RecordError: orders.csv:3: bad row\n"]


def test_a_stage_type_reads_as_its_public_name() -> None:
    assert repr(gp.Stage[int, str]) == "genpipe.Stage[int, str]"


def test_strategies_is_an_attribute_of_the_testing_package() -> None:
    assert testing.strategies.pipelines is not None


def documented_names() -> set[str]:
    """What the docs document: each ``::: genpipe.X`` and ``{#genpipe.X}`` anchor."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    pages = "\n".join(page.read_text(encoding="utf-8") for page in docs.rglob("*.md"))
    return set(
        re.findall(r"^::: (genpipe\.[\w.]+)|\{#(genpipe\.[\w.]+)\}", pages, re.M)
    )


def test_every_export_is_documented_on_a_docs_page() -> None:
    documented = {name for pair in documented_names() for name in pair if name}
    exported = {f"genpipe.{name}" for name in gp.__all__}
    exported |= {f"genpipe.testing.{name}" for name in testing.__all__} - {
        "genpipe.testing.strategies"
    }
    assert sorted(exported - documented) == []
