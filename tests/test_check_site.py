"""docs/check_site.py finds broken links and anything a page would fetch online.

``make docs`` runs it on the built site, where a clean run proves little on its
own; here it meets a small site with one of each problem.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.docs_scripts import load


@pytest.fixture(scope="module")
def check_site() -> ModuleType:
    return load("check_site")


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root


CLEAN = {
    "index.html": '<a href="guide/#setup">setup</a> <a href="https://python.org">py</a>'
    '<link rel="stylesheet" href="assets/site.css">'
    '<script src="assets/app.js"></script>',
    "guide/index.html": '<h2 id="setup">Setup</h2><a href="../">home</a>'
    '<pre class="mermaid">flowchart LR</pre>'
    '<script src="../assets/mermaid-11.0.0.min.js"></script>',
    "404.html": '<a href="/guide/">guide</a>',
    "assets/site.css": 'a { background: url("data:image/svg+xml;utf8,<svg/>") }',
    "assets/app.js": "",
    "assets/mermaid-11.0.0.min.js": "",
}


def test_a_site_whose_links_resolve_and_that_fetches_nothing_passes(
    check_site: ModuleType, tmp_path: Path
) -> None:
    assert check_site.problems(write_site(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        ("index.html", '<a href="nowhere/">x</a>', "index.html: broken link nowhere/"),
        (
            "index.html",
            '<a href="guide/#usage">x</a>',
            "no anchor #usage in guide/#usage",
        ),
        (
            "index.html",
            '<script src="https://cdn.example/app.js"></script>',
            "index.html: loads https://cdn.example/app.js from the network",
        ),
        (
            "index.html",
            '<link rel="stylesheet" href="//fonts.example/font.css">',
            "loads //fonts.example/font.css from the network",
        ),
        (
            "assets/site.css",
            "@import url('https://fonts.example/f.css');",
            "assets/site.css: loads https://fonts.example/f.css from the network",
        ),
        (
            "guide/index.html",
            '<h2 id="setup"></h2><pre class="mermaid">flowchart LR</pre>',
            "guide/index.html: has a Mermaid diagram but loads no local mermaid",
        ),
    ],
    ids=["link", "anchor", "script", "style", "css-import", "mermaid"],
)
def test_each_kind_of_problem_is_reported_with_its_page(
    check_site: ModuleType, tmp_path: Path, name: str, body: str, problem: str
) -> None:
    site = write_site(tmp_path, {**CLEAN, name: body})
    [found] = check_site.problems(site)
    assert problem in found
