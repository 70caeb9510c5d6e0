"""An I/O-bound crawler: fetch every page of a site's sitemap in 8 threads.

The site is a small one this script serves itself on 127.0.0.1, so that the
crawl needs no network: 40 pages that each take 20 ms to answer, one of which
fails once with a 503 before it answers, and two links that lead nowhere
(404). The crawl retries what failed for a reason that may pass, records what
failed for good, and reports both.

Run it with ``python examples/crawl.py``.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.error import HTTPError

import genpipe as gp

PAGES = 40
BROKEN_LINKS = ["/page/13/old", "/page/31/old"]
FLAKY = "/page/27"
ANSWER_SECONDS = 0.02
WORKERS = 8


class Site(BaseHTTPRequestHandler):
    """A sitemap at /, and /page/N for each N; the flaky page fails once."""

    failed_once: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:
        time.sleep(ANSWER_SECONDS)
        if self.path == "/":
            links = [f"/page/{n}" for n in range(PAGES)] + BROKEN_LINKS
            self.answer(
                200, "".join(f'<a href="{link}">{link}</a>\n' for link in links)
            )
        elif self.path == FLAKY and self.fail_first_time():
            self.answer(503, "try again")
        elif re.fullmatch(r"/page/\d+", self.path):
            number = self.path.rsplit("/", 1)[1]
            self.answer(200, f"<title>Page {number}</title>")
        else:
            self.answer(404, "no such page")

    def fail_first_time(self) -> bool:
        with self.lock:
            first = self.path not in self.failed_once
            self.failed_once.add(self.path)
        return first

    def answer(self, status: int, body: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the crawl reports what matters."""


@contextmanager
def serving() -> Iterator[str]:
    """Serve the site on a free port of 127.0.0.1; yield its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,))
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


class UnavailableError(Exception):
    """The server answered 5xx: worth asking again."""


def fetch(url: str) -> str:
    """The body of ``url``: a 5xx raises `UnavailableError`, a 4xx `HTTPError`."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
    except HTTPError as error:
        if error.code >= 500:
            raise UnavailableError(f"HTTP {error.code}") from error
        raise
    return body.decode()


def title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page)
    return found.group(1) if found else "(untitled)"


def crawl(site: str) -> tuple[list[str], gp.DeadLetters]:
    """The titles of every page the sitemap links to, and the links that failed."""
    links = re.findall(r'href="([^"]+)"', fetch(site + "/"))
    failed = gp.DeadLetters()
    titles = (
        gp.source(links)
        | gp.map(lambda link: site + link)
        | gp.thread_map(
            fetch,
            workers=WORKERS,
            retries=2,
            backoff=0.01,
            retry_on=(UnavailableError,),
            on_error=failed,
        )
        | gp.map(title)
        | gp.to_list()
    )
    return titles, failed


def main() -> None:
    with serving() as site:
        titles, failed = crawl(site)
    print(f"crawled {len(titles)} pages in {WORKERS} threads, in sitemap order")
    print(f"first and last: {titles[0]}, ..., {titles[-1]}")
    flaky = f"Page {FLAKY.rsplit('/', 1)[1]}"
    print(f"{flaky}, which answered 503 at first, on a retry: {flaky in titles}")
    for letter in sorted(failed, key=lambda letter: str(letter.item)):
        print(f"failed: {str(letter.item).split('/', 3)[3]} ({letter.exception})")


if __name__ == "__main__":
    main()
