"""MkDocs hook: the words learners search with, on each page and in the search index.

Under a concept page's title (below "Know first", which hooks/links.py puts there), from its front
matter (machinery/vocabulary.py says what each key holds):

- "Also called: ..." with its `aka:` words, and "In code: ..." with its `code:` identifiers;
- "Questions this page answers", a collapsed block listing its `questions:`.

Both stand before the page's first section heading, so Material's search index files them with the
page's own entry (the page title and its opening text), which outranks its sections; hooks/search.py
also gives the `aka:` words the weight of the page's key terms. A learner who types a question in
their own words, or a synonym the page never uses in passing, finds the page itself.

A concept page without its questions is a warning, so `mkdocs build --strict` fails.

Worked examples are notebooks, without front matter: their description, tags and search weight come
from hooks/notebooks.yml and are set on the page as front matter would set them, early enough for the
tags plugin to list them on the tags page.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path, PurePosixPath

from mkdocs.plugins import event_priority

from machinery.inventory import is_concept
from machinery.vocabulary import notebook_pages, problems

log = logging.getLogger("mkdocs.hooks.vocabulary")
HEADING = re.compile(r"^#\s+(.+)$", re.M)
QUESTIONS_TITLE = "Questions this page answers"
_notebooks: dict[str, dict] = {}


def on_pre_build(config, **kwargs):
    _notebooks.clear()
    _notebooks.update(notebook_pages(Path(__file__).with_name("notebooks.yml")))  # this project's table


def vocabulary_html(meta: dict) -> str:
    """The "Also called" line and the questions block, as raw HTML for the page's Markdown."""
    said = []
    if meta.get("aka"):
        said.append("Also called: " + ", ".join(html.escape(word) for word in meta["aka"]) + ".")
    if meta.get("code"):
        said.append("In code: " + ", ".join(f"<code>{html.escape(name)}</code>" for name in meta["code"]) + ".")
    parts = [f'<p class="notes-aka">{" ".join(said)}</p>'] if said else []
    items = "\n".join(f"<li>{html.escape(question)}</li>" for question in meta.get("questions") or [])
    if items:
        parts.append(f'<details class="abstract notes-questions">\n<summary>{QUESTIONS_TITLE}</summary>\n'
                     f"<ul>\n{items}\n</ul>\n</details>")
    return "\n\n".join(parts)


def notebook_meta(page) -> None:
    name = PurePosixPath(page.file.src_uri).name
    entry = _notebooks.get(name)
    if entry is None:
        log.warning(f"Doc file '{page.file.src_uri}' has no entry in hooks/notebooks.yml "
                    "(its description and tags)")
        return
    page.meta["description"] = entry["description"]
    page.meta["tags"] = list(entry["tags"])
    if "boost" in entry:
        page.meta["search"] = {"boost": entry["boost"]}


@event_priority(10)  # before the tags plugin reads page.meta (-50) and before links.py (0) puts
def on_page_markdown(markdown, page, **kwargs):  # "Know first" right under the title, above this
    if page.file.src_uri.endswith(".ipynb"):
        notebook_meta(page)  # the Markdown here is the notebook's JSON: left as it is
        return markdown
    if not is_concept(page.file.src_uri):
        return markdown
    for problem in problems(page.meta):
        log.warning(f"Doc file '{page.file.src_uri}' {problem}")
    shown = vocabulary_html(page.meta)
    if not shown:
        return markdown
    return HEADING.sub(lambda m: f"{m.group(0)}\n\n{shown}\n", markdown, count=1)
