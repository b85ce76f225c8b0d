"""Every snippet runs alone, and every snippet is shown on some page."""

import pytest

from harness import or_fail
from machinery.pages import markdown_pages, orphans, rel, run_snippet, snippet_files

SNIPPETS = snippet_files()


# Each id also carries the page's spelling, so `-k weight-decay` selects the page and its snippet.
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"{rel(s)}:{s.stem.replace('_', '-')}" for s in SNIPPETS])
def test_snippet_runs_alone(snippet, record_property):
    output = or_fail(lambda: run_snippet(snippet))
    print(output)
    record_property("snippets", 1)


def test_every_snippet_is_included_by_a_page():
    missing = orphans(markdown_pages(), SNIPPETS)
    assert not missing, "snippets that no page includes (include them with --8<-- or delete them): " + ", ".join(missing)
