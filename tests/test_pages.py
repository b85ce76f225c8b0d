"""Every page's Python, as the rendered page shows it, runs top to bottom in one namespace."""

import dataclasses

import pytest

from harness import or_fail, stored_run
from machinery.pages import BlockRun, DOCS, PageRun, markdown_pages, rel, run_page, within_cpu_budget
from machinery import cache
from machinery.inventory import is_concept
from machinery.questions import ANSWER_MARK, CHECK_YOURSELF, MISCONCEPTION, questions

PAGES = markdown_pages()


@pytest.mark.parametrize("page", PAGES, ids=[rel(p) for p in PAGES])
def test_page(page, record_property, request):
    """A page that passed with exactly the same text, included code, torch, device and executor is not
    run again (harness.stored_run, machinery/cache.py), except when recording verified/: a record says
    what ran in this run."""
    name, key, stored = stored_run(page, request.config.getoption("--record-verified"))
    if stored is not None:
        result = PageRun(**{**stored["run"], "blocks": [BlockRun(**b) for b in stored["run"]["blocks"]]})
        seconds = stored["seconds"]
        record_property("page_runs_reused", 1)
    else:
        result, seconds = or_fail(lambda: within_cpu_budget(name, lambda: run_page(page)))
    print(result.output)
    record_property("pages", 1)
    record_property("executed_blocks", result.blocks_run)
    record_property("notes_page_cpu_s", (rel(page), round(seconds, 2)))
    record_property("verified", (rel(page), {"code": result.code, "blocks": [vars(b) for b in result.blocks]}))
    cache.remember_pass("page-run", name, key, {"run": dataclasses.asdict(result), "seconds": seconds})


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
