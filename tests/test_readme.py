"""README.md reads right on PyPI, and its catalog says what the signatures say."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import genpipe as gp
from genpipe._errors import ERROR_OPTION_DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Options a row may leave out: the injectable clock and sleep, and the retry
#: details that come with ``retries``. Each is on the function's API page.
UNLISTED = {"clock", "sleep", "backoff", "retry_on"}


def catalog_calls() -> list[tuple[str, str | None]]:
    """Each entry of the catalog's Name column: (name, its parameters or None)."""
    table = README[README.index("## Catalog") :].split("\n## ")[0]
    entries = []
    for row in table.splitlines():
        if not row.startswith("| ") or row.startswith(("| Kind", "|---")):
            continue
        cell = row.split("|")[2]
        for name, call, params in re.findall(r"`([\w.]+)(\((.*?)\))?`", cell):
            entries.append((name, params if call else None))
    return entries


def parameters_of(factory: Any) -> dict[str, Any]:
    """Each parameter of ``factory`` and its default, the `ErrorOptions` included.

    A factory that takes ``**options: Unpack[ErrorOptions]`` takes each error
    option as a keyword, with the default the error policy gives it.
    """
    parameters: dict[str, Any] = {}
    for parameter in inspect.signature(factory).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD and "ErrorOptions" in str(
            parameter.annotation
        ):
            parameters.update(ERROR_OPTION_DEFAULTS)
            continue
        parameters[parameter.name] = parameter.default
    return parameters


def shown_parameters(params: str) -> tuple[dict[str, Any], bool]:
    """The parameters a row shows, with their defaults; and if it ends in ``...``."""
    abbreviated = params == "..." or params.endswith(", ...")
    if abbreviated:
        params = params.removesuffix("...").rstrip(", ")
    function = ast.parse(f"def f({params}): pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    shown: dict[str, Any] = {}
    positional = arguments.posonlyargs + arguments.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(arguments.defaults))
    defaults += [ast.literal_eval(node) for node in arguments.defaults]
    for argument, default in zip(positional, defaults, strict=True):
        shown[argument.arg] = default
    for argument, node in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        shown[argument.arg] = (
            inspect.Parameter.empty if node is None else ast.literal_eval(node)
        )
    for star in (arguments.vararg, arguments.kwarg):
        if star is not None:
            shown[star.arg] = inspect.Parameter.empty
    return shown, abbreviated


def test_every_link_is_absolute_so_that_it_works_on_pypi_too() -> None:
    links = re.findall(r"\]\(([^)]+)\)", README)
    assert links
    assert [link for link in links if not link.startswith("https://")] == []


def test_every_factory_of_the_package_is_in_the_catalog() -> None:
    listed = {name for name, _ in catalog_calls()}
    factories = {name for name in gp.__all__ if inspect.isfunction(getattr(gp, name))}
    assert sorted(factories - listed) == []


def test_every_catalog_entry_shows_real_parameters_with_their_defaults() -> None:
    for name, params in catalog_calls():
        if name.startswith("genpipe."):
            continue
        assert hasattr(gp, name), name
        if params is None:
            continue
        actual = parameters_of(getattr(gp, name))
        shown, _ = shown_parameters(params)
        for parameter, default in shown.items():
            assert parameter in actual, f"{name}() has no parameter {parameter}"
            real = actual[parameter]
            # `default=...` stands for "not given", whatever the sentinel is.
            same = repr(real) == "..." if default is Ellipsis else default == real
            assert same, f"{name}({parameter}=...) in the README, {real!r} in the code"


def test_every_catalog_entry_shows_every_option_unless_it_ends_in_an_ellipsis() -> None:
    shown: dict[str, set[str]] = {}
    abbreviated: set[str] = set()
    for name, params in catalog_calls():
        if params is None:
            continue
        parameters, cut = shown_parameters(params)
        shown.setdefault(name, set()).update(parameters)
        if cut:
            abbreviated.add(name)
    for name, listed in shown.items():
        if name not in abbreviated:
            expected = set(parameters_of(getattr(gp, name))) - UNLISTED
            assert sorted(expected - listed) == [], f"the {name}() row omits them"


def test_the_published_metadata_has_project_urls_and_no_development_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) == {"progress", "testing", "dask"}
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])
