"""The code blocks of the Markdown pages, for the checks that keep them true.

`python` blocks are programs a reader copies, so they are type-checked with
mypy --strict (`check_types`, from ``make typecheck``); `pycon` blocks are
sessions, run with the page's `python` blocks before them (tests/test_docs.py).
A page's blocks share one namespace, in page order, as a reader would run
them.

In a `python` block, a line whose comment starts with ``# error`` must be a
type error, and ``reveal_type(x)  # T`` must reveal ``T`` (module prefixes
aside); every other line must type-check.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: README.md and every page; the pages that only include other files are skipped.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[\w-]*)[^\n]*$")
REVEALED = re.compile(
    r'^(?P<path>.+?):(?P<line>\d+): note: Revealed type is "(?P<type>.+)"$'
)
ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.+)$")
MODULE_PREFIX = re.compile(
    r"\b(?:builtins|genpipe(?:\.\w+)*|typing|collections\.abc)\."
)


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, and its lines from ``first_line`` on."""

    page: Path
    language: str
    first_line: int
    lines: list[str]

    @property
    def source(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)

    @property
    def includes_a_file(self) -> bool:
        """A pymdownx.snippets include (``--8<--``): checked where the file lives."""
        return any(line.lstrip().startswith("--8<--") for line in self.lines)


def blocks(page: Path) -> Iterator[Block]:
    """The fenced code blocks of ``page``, in order, dedented to their fence."""
    lines = page.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        number += 1
        if opening is None:
            continue
        indent, body, first = len(opening["indent"]), [], number + 1
        while number < len(lines) and lines[number].strip() != "```":
            body.append(lines[number][indent:])
            number += 1
        number += 1
        yield Block(page, opening["info"], first, body)


def python_module(page: Path) -> str | None:
    """The page's `python` blocks as one module, each line at its line in the page.

    Everything else is a blank line, so that mypy's line numbers are the page's.
    """
    found = [
        b for b in blocks(page) if b.language == "python" and not b.includes_a_file
    ]
    if not found:
        return None
    length = page.read_text(encoding="utf-8").count("\n") + 1
    lines = [""] * length
    for block in found:
        lines[block.first_line - 1 : block.first_line - 1 + len(block.lines)] = (
            block.lines
        )
    return "\n".join(lines) + "\n"


def expected_type(comment: str) -> str:
    """The type a ``reveal_type`` comment names: its text up to a top-level comma."""
    depth = 0
    for index, char in enumerate(comment):
        depth += (char in "[(") - (char in "])")
        if char == "," and depth == 0:
            return comment[:index].strip()
    return comment.strip()


def promises(module: str) -> tuple[set[int], dict[int, str]]:
    """The lines that must be errors, and what each ``reveal_type`` line must show."""
    errors, reveals = set(), {}
    for number, line in enumerate(module.splitlines(), 1):
        code, _, comment = line.partition("  # ")
        if comment.startswith("error"):
            errors.add(number)
        elif code.lstrip().startswith("reveal_type(") and comment:
            reveals[number] = expected_type(comment)
    return errors, reveals


def check_types() -> list[str]:
    """Type-check the `python` blocks of every page; return what is wrong, and where."""
    from mypy import api  # only the dev environment has it

    modules = {page: module for page in PAGES if (module := python_module(page))}
    # A fixed place, since mypy's cache replays a module's notes by its path.
    scratch = ROOT / ".mypy_cache" / "docs-snippets"
    scratch.mkdir(parents=True, exist_ok=True)
    files = {}
    for page, module in modules.items():
        name = "_".join(page.relative_to(ROOT).with_suffix("").parts).replace("-", "_")
        path = scratch / f"{name}.py"
        path.write_text(module, encoding="utf-8")
        files[path] = page
    report, _, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            # A page may show a function, then its fix under the same name.
            "--disable-error-code=no-redef",
            "--no-error-summary",
            "--hide-error-context",
            *map(str, files),
        ]
    )
    errors: dict[Path, dict[int, str]] = {page: {} for page in modules}
    revealed: dict[Path, dict[int, str]] = {page: {} for page in modules}
    problems = []
    for line in report.splitlines():
        found = REVEALED.match(line) or ERROR.match(line)
        if found is None:
            continue
        on_page = files.get(Path(found["path"]).resolve())
        if on_page is None:  # an error in genpipe itself, say
            problems.append(line)
        elif "type" in found.groupdict():
            revealed[on_page][int(found["line"])] = MODULE_PREFIX.sub("", found["type"])
        else:
            errors[on_page].setdefault(int(found["line"]), found["message"])
    for page, module in modules.items():
        where = page.relative_to(ROOT)
        must_fail, reveals = promises(module)
        for number, message in sorted(errors[page].items()):
            if number not in must_fail:
                problems.append(f"{where}:{number}: {message}")
        for number in sorted(must_fail - errors[page].keys()):
            problems.append(
                f"{where}:{number}: no type error, though the comment says so"
            )
        for number, expected in sorted(reveals.items()):
            shown = revealed[page].get(number)
            if shown != expected:
                problems.append(
                    f"{where}:{number}: mypy reveals {shown}, the page says {expected}"
                )
    return problems


def main() -> int:
    problems = check_types()
    for problem in problems:
        print(problem)
    checked = sum(1 for page in PAGES if python_module(page))
    print(
        f"{len(problems)} problems in the python blocks of the docs"
        if problems
        else f"python blocks of {checked} pages: mypy --strict agrees with them"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
