"""MkDocs hook: the footer's "Previous" and "Next" follow the reading path of the home page.

The home page's "Start here" section lists the concept pages in the order they build on each other,
which is not the order of the navigation (that groups pages by section: tensors, models, losses, ...).
A reader who follows the path clicks "Next" at the end of each page, so each page on the path gets
the page before it and the page after it on the path as its footer links; the home page's "Next" is
the first page, whose "Previous" is the home page; the last page's "Next" stays what the navigation
gives. Pages off the path keep the navigation's order. The path is read from the home page itself
(machinery/reading_path.py), so it cannot disagree with what the home page tells the reader;
tests/test_site.py checks the built footers against it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from machinery.reading_path import reading_path

log = logging.getLogger("mkdocs.hooks.reading_path")


def on_nav(nav, config, files, **kwargs):
    home = files.get_file_from_path("index.md")
    if home is None:
        return nav
    pages = {page.file.src_uri: page for page in nav.pages}
    path = reading_path(Path(home.abs_src_path))
    unknown = [p for p in path if p not in pages]
    if unknown:
        log.warning(f"Doc file 'index.md' lists pages on its reading path that are not in the navigation: {unknown}")
    steps = [pages[p] for p in path if p in pages]
    for before, after in zip(steps, steps[1:]):
        before.next_page = after
        after.previous_page = before
    if steps and "index.md" in pages:
        pages["index.md"].next_page = steps[0]
        steps[0].previous_page = pages["index.md"]
    return nav
