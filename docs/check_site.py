"""Check the built documentation site: every link resolves, nothing needs the network.

``python docs/check_site.py site`` runs after ``mkdocs build`` (``make docs``).
MkDocs checks the links between Markdown pages; this checks the HTML it wrote,
with the links that mkdocstrings and autorefs generate in the API reference and
the theme's own, anchors included. It also checks that the site works offline:
no page or stylesheet loads a script, style, font or image from another host,
and a page with a Mermaid diagram loads the bundled mermaid (the theme fetches
it from a CDN otherwise). It prints each problem and exits with 1 if any.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

#: Attributes that make the browser fetch something, by tag; <a href> only links.
FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src"}
#: <link rel=...> values that fetch the linked resource.
FETCHING_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}
CSS_URL = re.compile(r"""url\(\s*['"]?((?:[a-z][a-z0-9+.-]*:)?//[^)'"]*)""", re.I)


class Link(NamedTuple):
    url: str
    fetched: bool


class Page(HTMLParser):
    """What one HTML page links to, fetches and can be linked to (its ids)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[Link] = []
        self.has_diagram = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.ids.add(values[name])
        if "mermaid" in values.get("class", "").split():
            self.has_diagram = True
        if tag == "a" and "href" in values:
            self.links.append(Link(values["href"], fetched=False))
        elif tag == "link" and "href" in values:
            fetched = bool(FETCHING_RELS & set(values.get("rel", "").split()))
            self.links.append(Link(values["href"], fetched=fetched))
        elif tag in FETCHED and FETCHED[tag] in values:
            self.links.append(Link(values[FETCHED[tag]], fetched=True))


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def target_file(site: Path, page: Path, url: str) -> Path:
    """The file in ``site`` that a relative ``url`` on ``page`` points to."""
    path = unquote(urlsplit(url).path)
    if not path:
        return page
    # The 404 page links from the site root, since it is served for any path.
    base = site if path.startswith("/") else page.parent
    target = (base / path.lstrip("/")).resolve()
    if target.is_dir():
        target /= "index.html"
    return target


def problems(site: Path) -> list[str]:
    site = site.resolve()
    pages: dict[Path, Page] = {}
    for html in sorted(site.rglob("*.html")):
        parsed = Page()
        parsed.feed(html.read_text(encoding="utf-8"))
        pages[html] = parsed
    found = []
    for html, page in pages.items():
        where = html.relative_to(site)
        scripts = []
        for link in page.links:
            if link.url.startswith(("mailto:", "data:", "javascript:")):
                continue
            if is_external(link.url):
                if link.fetched:
                    found.append(f"{where}: loads {link.url} from the network")
                continue
            target = target_file(site, html, link.url)
            if not target.is_relative_to(site) or not target.is_file():
                found.append(f"{where}: broken link {link.url}")
                continue
            fragment = unquote(urlsplit(link.url).fragment)
            if fragment and target in pages and fragment not in pages[target].ids:
                found.append(f"{where}: no anchor #{fragment} in {link.url}")
            if link.fetched:
                scripts.append(target.name)
        if page.has_diagram and not any(name.startswith("mermaid") for name in scripts):
            found.append(
                f"{where}: has a Mermaid diagram but loads no local mermaid, so the "
                "theme would fetch it from a CDN"
            )
    for css in sorted(site.rglob("*.css")):
        for url in CSS_URL.findall(css.read_text(encoding="utf-8")):
            found.append(f"{css.relative_to(site)}: loads {url} from the network")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python docs/check_site.py SITE_DIRECTORY", file=sys.stderr)
        return 2
    site = Path(argv[0])
    if not (site / "index.html").is_file():
        print(f"{site} is not a built site: run mkdocs build first", file=sys.stderr)
        return 2
    found = problems(site)
    for problem in found:
        print(problem)
    pages = sum(1 for _ in site.rglob("*.html"))
    print(
        f"{len(found)} problems in {pages} pages"
        if found
        else f"{pages} pages: links ok, nothing fetched from the network"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
