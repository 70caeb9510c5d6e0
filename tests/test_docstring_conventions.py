"""The docs build's griffe extension turns our docstring conventions into Markdown.

A broken extension would not fail ``mkdocs build --strict``: the API pages
would just show doctests as nested quotes and lose their links. So it is
checked here, on a small package written for the purpose.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import griffe
import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "docs" / "docstring_conventions.py"

PACKAGE = {
    "__init__.py": """
        from demo._impl import Thing as Thing
        from demo._impl import helper as helper

        __all__ = ["Thing", "helper"]
    """,
    "_impl.py": '''
        def helper():
            """Unlike the builtin `helper`, see `Thing.run`, `demo.Thing`.

            Not `_hidden`, not `nowhere`, not ``helper``.

            >>> helper()
            `Thing`
            """


        class Thing:
            """Made by `helper`.

            >>> Thing()
            `helper`

            Then `helper` again.
            """

            def run(self):
                """Run it.

                >>> Thing().run()"""


        def _hidden():
            """Private."""
    ''',
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> griffe.Module:
    root = tmp_path_factory.mktemp("src")
    (root / "demo").mkdir()
    for name, source in PACKAGE.items():
        (root / "demo" / name).write_text(textwrap.dedent(source))
    extensions = griffe.load_extensions(f"{EXTENSION}:DocstringConventions")
    loaded = griffe.load("demo", search_paths=[root], extensions=extensions)
    assert isinstance(loaded, griffe.Module)
    return loaded


def docstring(demo: griffe.Module, path: str) -> str:
    found: griffe.Docstring | None = demo[path].docstring
    assert found is not None
    return found.value


def link(identifier: str, title: str) -> str:
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def test_doctest_blocks_become_pycon_fences(demo: griffe.Module) -> None:
    assert docstring(demo, "helper").endswith("```pycon\n>>> helper()\n`Thing`\n```")


def test_a_doctest_at_the_very_end_is_closed(demo: griffe.Module) -> None:
    assert docstring(demo, "Thing.run").endswith("```pycon\n>>> Thing().run()\n```")


def test_text_after_a_doctest_is_outside_its_fence(demo: griffe.Module) -> None:
    made_by = link("demo.helper", "helper")
    assert docstring(demo, "Thing") == (
        f"Made by {made_by}.\n\n"
        "```pycon\n>>> Thing()\n`helper`\n```\n\n"
        f"Then {made_by} again."
    )


def test_public_names_become_optional_links_by_their_public_path(
    demo: griffe.Module,
) -> None:
    summary = docstring(demo, "helper").splitlines()[0]
    assert link("demo.Thing.run", "Thing.run") in summary
    assert link("demo.Thing", "demo.Thing") in summary


def test_a_docstring_never_links_to_its_own_object(demo: griffe.Module) -> None:
    assert "builtin `helper`," in docstring(demo, "helper")


def test_private_unknown_and_double_backtick_names_stay_code(
    demo: griffe.Module,
) -> None:
    assert "Not `_hidden`, not `nowhere`, not ``helper``." in docstring(demo, "helper")
