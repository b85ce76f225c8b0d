"""The reading path: the concept pages in the order the home page's "Start here" section lists them."""

from __future__ import annotations

import re
from pathlib import Path

from machinery.inventory import PAGE_LINK, resolve

START_HERE = re.compile(r"^## Start here[ \t]*$(?P<body>.*?)(?=^## |\Z)", re.M | re.S)


def reading_path(home: Path) -> list[str]:
    """The pages (paths under docs/) that the home page's "Start here" section links, in order, each once."""
    found = START_HERE.search(home.read_text(encoding="utf-8"))
    path: list[str] = []
    for match in PAGE_LINK.finditer(found["body"] if found else ""):
        target = resolve("index.md", match["target"])
        if target.endswith(".md") and target not in path:
            path.append(target)
    return path
