"""MkDocs hooks: what the build does to a page's Markdown before rendering it."""

from __future__ import annotations

import re

DIRECTIVE = re.compile(r"[ \t]+# doctest: [+-][A-Z_]+(?:, *[+-][A-Z_]+)*[ \t]*$", re.M)


def on_page_markdown(markdown: str, **_: object) -> str:
    """The page without doctest directives: they are for tests/test_docs.py."""
    return DIRECTIVE.sub("", markdown)
