"""A griffe extension that renders genpipe's docstring conventions in Markdown.

genpipe's docstrings are written for ``pydoc`` and doctest, as in the standard
library and more-itertools: examples are bare ``>>>`` blocks and other API
objects are named in single backticks (`map`). Markdown would read ``>>>``
as three nested quotes and a single-backtick name as plain code, so before
mkdocstrings renders a docstring this extension

- fences every doctest block as ``pycon`` code, and
- turns each single-backtick name of a public genpipe object into an
  optional cross-reference: a link when the object is documented on some
  page, plain code (never a broken-link warning) when it is not.

A name is never linked from its own docstring, so "the builtin `map`" in
`genpipe.map`'s docstring stays code instead of pointing at itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

_FENCE = "```"
_NAME = re.compile(r"(?<!`)`(?P<name>[A-Za-z_][\w.]*)`(?!`)")


class DocstringConventions(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is complete."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _own_objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _to_markdown(obj.docstring.value, pkg, obj)


def _own_objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    """The object and everything defined in it (aliases are visited at their target)."""
    yield obj
    for member in obj.members.values():
        if isinstance(member, griffe.Object):
            yield from _own_objects(member)


def _to_markdown(text: str, pkg: griffe.Module, owner: griffe.Object) -> str:
    lines: list[str] = []
    in_doctest = in_fence = False
    for line in text.splitlines():
        starts_doctest = line.lstrip().startswith(">>>")
        if in_doctest and not line.strip():
            lines.append(_FENCE)
            in_doctest = False
        elif not in_doctest and not in_fence and starts_doctest:
            lines.append(f"{_FENCE}pycon")
            in_doctest = True
        elif line.lstrip().startswith(_FENCE):
            in_fence = not in_fence
        if not (in_doctest or in_fence):
            line = _NAME.sub(lambda match: _reference(match, pkg, owner), line)
        lines.append(line)
    if in_doctest:
        lines.append(_FENCE)
    return "\n".join(lines)


def _reference(match: re.Match[str], pkg: griffe.Module, owner: griffe.Object) -> str:
    name = match["name"]
    relative = name.removeprefix(f"{pkg.name}.")
    try:
        target = pkg[relative]
    except (KeyError, griffe.AliasResolutionError):
        return match[0]
    if not target.is_public or _canonical(target) == _canonical(owner):
        return match[0]
    return (
        f'<autoref identifier="{pkg.name}.{relative}" optional>'
        f"<code>{name}</code></autoref>"
    )


def _canonical(obj: griffe.Object | griffe.Alias) -> str:
    return obj.final_target.path if isinstance(obj, griffe.Alias) else obj.path
