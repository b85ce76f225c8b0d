"""MkDocs hook: what to know first under each concept page's title, "Linked from" at its end.

A concept page names its prerequisites in its front matter (`prerequisites:`, paths under docs/);
they are shown under the title as links, titled as those pages title themselves, and a name that is
no page fails the strict build.

When the file list is known, every page's Markdown (and every notebook's Markdown cells) is read for
links to other pages; each concept page (docs/<section>/<page>.md) then ends with the list of pages
that link to it, titled as they title themselves. Nothing is typed by hand, so the list cannot go
stale; tests/test_site.py checks it against the links of the built site.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from pathlib import Path

from mkdocs.utils.meta import get_data

LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.(?:md|ipynb))(?:#[^)\s]*)?\)")
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2", re.S | re.M)
HEADING = re.compile(r"^#\s+(.+)$", re.M)
SECTION_TITLE = "Linked from"
log = logging.getLogger("mkdocs.hooks.links")
_linked_from: dict[str, set[str]] = {}  # page -> pages that link to it
_titles: dict[str, str] = {}


def is_concept(src_uri: str) -> bool:
    return src_uri.count("/") == 1 and src_uri.endswith(".md") and not src_uri.startswith("examples/")


def prose_of(file) -> tuple[str, str]:
    """The page's Markdown without code (with its prerequisites as links, as it shows them), and its title."""
    text = Path(file.abs_src_path).read_text(encoding="utf-8")
    if file.src_uri.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        body = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        title = HEADING.search(body)
        return body, title.group(1).strip() if title else file.src_uri
    body, meta = get_data(text)
    heading = HEADING.search(body)
    here = posixpath.dirname(file.src_uri)
    shown = "".join(f"]({posixpath.relpath(n, here)})" for n in meta.get("prerequisites") or [])
    return FENCE.sub("", body) + shown, meta.get("title") or (heading.group(1).strip() if heading else file.src_uri)


def on_files(files, config, **kwargs):
    _linked_from.clear()
    _titles.clear()
    pages = {f.src_uri for f in files.documentation_pages()} | {f.src_uri for f in files if f.src_uri.endswith(".ipynb")}
    for file in files:
        if file.src_uri not in pages:
            continue
        body, _titles[file.src_uri] = prose_of(file)
        for match in LINK.finditer(body):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(file.src_uri), match["target"]))
            if target in pages and target != file.src_uri:
                _linked_from.setdefault(target, set()).add(file.src_uri)
    return files


def on_page_markdown(markdown, page, **kwargs):
    if not is_concept(page.file.src_uri):
        return markdown
    here = posixpath.dirname(page.file.src_uri)
    needs = page.meta.get("prerequisites")
    if needs is None:
        log.warning(f"Doc file '{page.file.src_uri}' names no prerequisites (front matter "
                    "`prerequisites:`, a list of pages under docs/, [] for a place to start)")
        needs = []
    unknown = [n for n in needs if n not in _titles]
    if unknown:
        log.warning(f"Doc file '{page.file.src_uri}' names prerequisites that are no page: {unknown}")
    known = [f"[{_titles[n]}]({posixpath.relpath(n, here)})" for n in needs if n in _titles]
    first = ("Know first: " + ", ".join(known) + "." if known else
             "Know first: nothing; this is a place to start.") + "\n{: .prerequisites }"
    markdown = HEADING.sub(lambda m: f"{m.group(0)}\n\n{first}\n", markdown, count=1)
    sources = sorted(_linked_from.get(page.file.src_uri, ()), key=lambda s: (_titles[s].lower(), s))
    items = "\n".join(f"- [{_titles[s]}]({posixpath.relpath(s, here)})" for s in sources) or "- (no page links here yet)"
    return f"{markdown.rstrip()}\n\n## {SECTION_TITLE}\n\nPages that link to this one:\n\n{items}\n"
