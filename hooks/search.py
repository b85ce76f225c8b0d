"""MkDocs hook: what the search index holds besides each page's text.

Material's search plugin indexes every page as one entry for the page (its title and the text before
the first heading) and one entry per section. After it has written search/search_index.json:

* Key terms. Each page's own entry gets a `keys` field: its front-matter `description` (the one
  sentence written for search results) and `aka` (the other names of its subject, shown under the
  title as "Also called", machinery/vocabulary.py), so that a page's own names outweigh the same
  words met in passing elsewhere. Material indexes every field named in the search plugin's
  `fields` setting, weighted as mkdocs.yml says there; result lists show only title, text and
  tags, so nothing is shown twice.
* Notebook headings. mkdocs-jupyter ends each heading with a "¶" anchor link, which Material keeps
  in the section's title ("Training¶", a word no query matches whole); it is dropped.
* Gathering pages. A page made of other pages' text (the review sheet) keeps its own entry but
  loses its sections, so that it is found by its name without outranking the pages it quotes.

How queries are searched is docs/javascripts/search-worker.js.
"""

from __future__ import annotations

import json
from pathlib import Path

KEY_TERMS = ("description", "aka")  # front-matter keys, a string or a list of strings each
GATHERING = {"review/index.md"}  # pages made of other pages' text
_keys: dict[str, list[str]] = {}  # page URL -> its key terms


def on_pre_build(config, **kwargs):
    _keys.clear()


def on_page_context(context, page, **kwargs):
    terms = []
    for name in KEY_TERMS:
        value = page.meta.get(name)
        terms += [value] if isinstance(value, str) else [str(v) for v in value or []]
    if terms:
        _keys[page.url] = terms
    return context


def on_post_build(config, **kwargs):
    path = Path(config.site_dir) / "search" / "search_index.json"
    if not path.exists():  # search plugin disabled
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    gathering = {src.removesuffix("index.md") for src in GATHERING}
    docs = []
    for doc in index["docs"]:
        page, _, section = doc["location"].partition("#")
        if section and page in gathering:
            continue
        doc["title"] = doc["title"].replace("¶", "").strip()
        if not section and page in _keys:
            doc["keys"] = _keys[page]
        docs.append(doc)
    index["docs"] = docs
    path.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
