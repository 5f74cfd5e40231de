"""The README is an entry page and the topics live under docs/: every page it links exists, every link between
pages lands on a file and a heading that exist, and every command a page shows names a make target, a console
command or a module the project has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from cli import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MAKE_TARGETS = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), flags=re.M))
CONSOLE = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"])


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lstrip("#").strip().lower())
    return text.replace(" ", "-")


def code_lines(page: Path) -> list[str]:
    """The lines of the page's fenced bash blocks and its inline `code` spans."""
    text = page.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", text)


def test_the_readme_is_an_entry_page() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    assert "make reproduce-table1" in lines[9] or any(line.startswith("make reproduce-table1") for line in lines[:12])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_lands_on_a_file_and_heading_that_exist(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = page if not path else (page.parent / path).resolve()
        assert file.exists(), f"{page.name}: {target}"
        if anchor and file.suffix == ".md":
            headings = {slug(h) for h in re.findall(r"^#+ .*$", file.read_text(), flags=re.M)}
            assert anchor in headings, f"{page.name}: {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_a_page_shows_exists(page: Path) -> None:
    for line in code_lines(page):
        for target in re.findall(r"(?:^|\s)make ([a-z][\w-]*)", line):
            assert target in MAKE_TARGETS, f"{page.name}: make {target}"
        for command in re.findall(r"(?:^|\s)(srn-[a-z0-9-]+)", line):
            assert command in CONSOLE, f"{page.name}: {command}"
        for module in re.findall(r"python -m (srnlab[\w.]*\w)(?![\w.<])", line):
            assert (REPO / "src" / Path(*module.split("."))).with_suffix(".py").is_file(), f"{page.name}: {module}"
