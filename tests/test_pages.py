"""Every page's Python, as the rendered page shows it, runs top to bottom in one namespace."""

import time
import warnings

import pytest

from harness import PageError, check_cpu_budget, markdown_pages, rel, run_page

PAGES = markdown_pages()


@pytest.mark.parametrize("page", PAGES, ids=[rel(p) for p in PAGES])
def test_page(page, record_property):
    started = time.process_time()
    try:
        result = run_page(page)
        check_cpu_budget(rel(page), time.process_time() - started)
    except PageError as error:
        pytest.fail(str(error), pytrace=False)
    print(result.output)
    for note in result.blocks_skipped:
        warnings.warn(note)
    record_property("pages", 1)
    record_property("executed_blocks", result.blocks_run)
    record_property("skipped_blocks", len(result.blocks_skipped))
    record_property("notes_page_cpu_s", (rel(page), round(time.process_time() - started, 2)))
