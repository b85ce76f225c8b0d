"""Every page's Python, as the rendered page shows it, runs top to bottom in one namespace.

Run once: when this run builds the site, the build has run every page's blocks (hooks/runs.py, through
machinery.pages.run_page, the function used here) and written what each printed to records/; the test
reads that record (same code, torch and device, or it fails) instead of running the page again. A
run without the site (some modules only, `make matrix`, --record-verified), or whose build failed,
runs the page here, or reuses a pass on identical inputs."""

import dataclasses

import pytest

from harness import built_record, or_fail, stored_run
from machinery import cache
from machinery.pages import (DOCS, BlockRun, PageRun, check_cpu_budget, markdown_pages, rel, require_blocks, run_page,
                             within_cpu_budget)
from machinery.inventory import is_concept
from machinery.questions import ANSWER_MARK, CHECK_YOURSELF, MISCONCEPTION, questions

PAGES = markdown_pages()


def page_run(stored: dict) -> PageRun:
    return PageRun(**{**stored, "blocks": [BlockRun(**b) for b in stored["blocks"]]})


@pytest.mark.parametrize("page", PAGES, ids=[rel(p) for p in PAGES])
def test_page(page, record_property, request, build_records):
    """Read from the build's record (see above), or run here; a page that passed with exactly the same
    text, included code, torch, device and executor is not run again (harness.stored_run,
    machinery/cache.py), except when recording verified/: a record says what ran in this run."""
    recording = request.config.getoption("--record-verified")
    if build_records is not None and not recording:
        record = or_fail(lambda: built_record(page, build_records, executed=lambda record: record["run"]["blocks_run"]))
        or_fail(lambda: require_blocks(rel(page), record["run"]["blocks_run"]))
        result, seconds = page_run(record["run"]), record["seconds"]
        or_fail(lambda: check_cpu_budget(rel(page), seconds))
        record_property("pages_read_from_the_build", 1)
    else:
        name, key, stored = stored_run(page, recording)
        if stored is not None:
            result, seconds = page_run(stored["run"]), stored["seconds"]
            record_property("page_runs_reused", 1)
        else:
            result, seconds = or_fail(lambda: within_cpu_budget(name, lambda: run_page(page)))
            cache.remember_pass("page-run", name, key, {"run": dataclasses.asdict(result), "seconds": seconds})
    print(result.output)
    record_property("pages", 1)
    record_property("executed_blocks", result.blocks_run)
    record_property("notes_page_cpu_s", (rel(page), round(seconds, 2)))
    record_property("verified", (rel(page), {"code": result.code, "blocks": [vars(b) for b in result.blocks]}))


CONCEPT_PAGES = [p for p in PAGES if is_concept(rel(p, DOCS))]


@pytest.mark.parametrize("page", CONCEPT_PAGES, ids=[rel(p) for p in CONCEPT_PAGES])
def test_check_yourself(page):
    """Each concept page ends its lesson with questions a learner answers before opening them: at least
    three, each with an **Answer:** whose values its own code prints (checked when the page runs, above),
    one of them aimed at the page's misconception."""
    found = questions(page.read_text(encoding="utf-8").splitlines())
    asked = [q for q in found if q.section == CHECK_YOURSELF]
    where = rel(page)
    assert len(asked) >= 3, f"{where}: '## {CHECK_YOURSELF}' has {len(asked)} questions (`??? question`), needs 3"
    for q in asked:
        assert q.answer_line is not None and q.claims, f'{where}:{q.start + 1}: "{q.title}" needs a {ANSWER_MARK} `value`'
    assert any(MISCONCEPTION in q.classes for q in asked), (
        f"{where}: no check-yourself question is marked `??? question {MISCONCEPTION} \"...\"`")
