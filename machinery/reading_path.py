"""The reading path: the concept pages in the order the home page's "Start here" section lists them."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

START_HERE = re.compile(r"^## Start here[ \t]*$(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.md)(?:#[^)\s]*)?\)")


def reading_path(home: Path) -> list[str]:
    """The pages (paths under docs/) that the home page's "Start here" section links, in order, each once."""
    found = START_HERE.search(home.read_text(encoding="utf-8"))
    path: list[str] = []
    for match in LINK.finditer(found["body"] if found else ""):
        target = posixpath.normpath(match["target"])
        if target not in path:
            path.append(target)
    return path
