"""Every snippet runs alone, and every snippet is shown on some page."""

import pytest

from harness import ROOT, PageError, expand, markdown_pages, or_fail, rel, run_snippet, snippet_files

SNIPPETS = snippet_files()


# Each id also carries the page's spelling, so `-k weight-decay` selects the page and its snippet.
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"{rel(s)}:{s.stem.replace('_', '-')}" for s in SNIPPETS])
def test_snippet_runs_alone(snippet, record_property):
    output = or_fail(lambda: run_snippet(snippet))
    print(output)
    record_property("snippets", 1)


def orphans(pages, snippets, root=ROOT) -> list[str]:
    """Snippet files that no page includes."""
    shown = set()
    for page in pages:
        try:
            _lines, origins, _on_page = expand(page, root)
        except PageError:
            continue  # the page's own test reports its broken include
        shown.update(origin.path for origin in origins)
    return [rel(s, root) for s in snippets if rel(s, root) not in shown]


def test_every_snippet_is_included_by_a_page():
    missing = orphans(markdown_pages(), SNIPPETS)
    assert not missing, "snippets that no page includes (include them with --8<-- or delete them): " + ", ".join(missing)
