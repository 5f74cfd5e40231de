"""The generated sections of the pages a study rewrites: the text between two HTML-comment markers, so that the
study's numbers are replaced on every run and the prose around them stays as a person wrote it."""

from __future__ import annotations

from pathlib import Path


def replace_section(page: Path, markers: tuple[str, str], section: str) -> None:
    """Replace the text between the page's start and end `markers` with `section`, each marker on its own line."""
    start, end = markers
    head, rest = page.read_text().split(start, 1)
    page.write_text(f"{head}{start}\n{section}\n{end}{rest.split(end, 1)[1]}")
