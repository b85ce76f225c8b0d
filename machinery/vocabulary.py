"""A page's vocabulary: the words learners search with, read from front matter and from the notebook table.

A concept page's front matter names, besides its `tags:`,

- `questions:` the 3 to 6 questions it answers, in the words a learner types them ("why does my loss
  become nan");
- `aka:` what else its subject is called: synonyms, abbreviations, spellings ("EWMA", "exponentially
  weighted moving average", "expo-weighted moving average");
- `code:` the identifiers it explains (`loss.backward()`, `nn.Embedding`), so that a search for one finds
  the page even where the page shows it only inside code blocks.

hooks/vocabulary.py shows them under the page's title; tests/test_site.py checks that they are there.

A worked example is a notebook, which has no front matter: its description and tags are in
hooks/notebooks.yml, one entry per notebook, and the hook sets them on the page as front matter would.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_PAGES = ROOT / "hooks" / "notebooks.yml"  # notebook file name -> description, tags
KEYS = ("questions", "aka", "code")
QUESTIONS = (3, 6)  # how many questions a concept page lists, at least and at most


def notebook_pages(table: Path = NOTEBOOK_PAGES) -> dict[str, dict]:
    """{'sgd-on-a-line.ipynb': {'description': ..., 'tags': [...]}, ...}"""
    import yaml

    return yaml.safe_load(table.read_text(encoding="utf-8")) or {}


def problems(meta: dict) -> list[str]:
    """What is wrong with a concept page's vocabulary, in words for a contributor; [] when nothing is."""
    found = []
    asked = meta.get("questions")
    low, high = QUESTIONS
    if not isinstance(asked, list) or not low <= len(asked) <= high:
        found.append(f"lists {len(asked) if isinstance(asked, list) else 'no'} questions (front matter "
                     f"`questions:`, {low} to {high} questions the page answers, in a learner's words)")
    for key in KEYS:
        value = meta.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
            found.append(f"has a `{key}:` that is not a list of words")
    return found
