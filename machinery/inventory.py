"""What the site is made of, by the names MkDocs gives its files (paths relative to docs/)."""

from __future__ import annotations

GENERATED = ("review/",)  # pages the hooks write, not concept pages even where the path looks like one


def is_concept(src_uri: str) -> bool:
    """A concept page: docs/<section>/<concept>.md (the worked examples are notebooks, elsewhere)."""
    return (src_uri.count("/") == 1 and src_uri.endswith(".md")
            and not src_uri.startswith(("examples/", *GENERATED)))
