"""What the site is made of, by the names MkDocs gives its files (paths relative to docs/)."""

from __future__ import annotations

import posixpath
import re

GENERATED = ("review/",)  # pages the hooks write, not concept pages even where the path looks like one


def is_concept(src_uri: str) -> bool:
    """A concept page: docs/<section>/<concept>.md (the worked examples are notebooks, elsewhere)."""
    return (src_uri.count("/") == 1 and src_uri.endswith(".md")
            and not src_uri.startswith(("examples/", *GENERATED)))


# A Markdown link to a page of the site: [text](target.md#anchor), the target relative to the linking page.
PAGE_LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.(?:md|ipynb))(?P<anchor>#[^)\s]*)?\)")


def resolve(page: str, target: str) -> str:
    """The docs-relative path of a link's target, written on `page` (itself docs-relative)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
