"""Every page's Python, as the rendered page shows it, runs top to bottom in one namespace."""

import warnings

import pytest

from harness import markdown_pages, or_fail, rel, run_page, within_cpu_budget

PAGES = markdown_pages()


@pytest.mark.parametrize("page", PAGES, ids=[rel(p) for p in PAGES])
def test_page(page, record_property):
    result, seconds = or_fail(lambda: within_cpu_budget(rel(page), lambda: run_page(page)))
    print(result.output)
    for note in result.blocks_skipped:
        warnings.warn(note)
    record_property("pages", 1)
    record_property("executed_blocks", result.blocks_run)
    record_property("skipped_blocks", len(result.blocks_skipped))
    record_property("notes_page_cpu_s", (rel(page), round(seconds, 2)))
    record_property("verified", (rel(page), {"code": result.code, "blocks": [vars(b) for b in result.blocks]}))
