"""Search as a learner uses it, in headless Chromium: type a question, read the top results.
The queries are the project's copy of the team's search-queries.tsv (query, regex the page's URL
path or title must match)."""

import csv
import re
import time
from pathlib import Path
from urllib.parse import urlparse

from harness import ROOT

QUERIES = Path(__file__).with_name("search-queries.tsv")
SCREENSHOTS = ROOT / "build" / "screenshots"  # for review; build/ is not committed


SETTLED_RESULTS = """async () => {
    const links = () => [...document.querySelectorAll('li.md-search-result__item > a.md-search-result__link')];
    let previous = null;
    for (let i = 0; i < 80; i++) {
        const current = links().map(a => a.href).join();
        if (current === previous) break;
        previous = current;
        await new Promise(resolve => setTimeout(resolve, 50));
    }
    return links().map(a => [a.href, a.querySelector('article h1, article h2')?.innerText ?? '']);
}"""


def search(page, query: str):
    """Enter a query as a reader does; return ([(path, title), ...] one per page, seconds to results)."""
    box = page.locator(".md-search__input")
    if not box.is_visible():
        page.keyboard.press("/")  # Material's shortcut opens and focuses the search box
    box.fill("")
    started = time.perf_counter()
    box.fill(query)  # a paste, then the key release that search listens for
    box.press("End")
    page.wait_for_function("/matching/i.test(document.querySelector('.md-search-result__meta')?.textContent)")
    elapsed = time.perf_counter() - started
    # The worker answers each keystroke; wait until the list stops changing (one call, in the page).
    shown = page.evaluate(SETTLED_RESULTS)
    results = []  # one entry per page, in the order a reader sees them
    for href, title in shown:
        path = urlparse(href).path
        if all(path != seen for seen, _ in results):
            results.append((path, title))
    return results, elapsed


def test_learners_queries_find_their_page_in_the_top_three(page, record_property):
    with open(QUERIES, encoding="utf-8") as f:
        queries = list(csv.DictReader(f, delimiter="\t"))
    page.goto("", wait_until="networkidle")
    top1 = top3 = 0
    misses, timings = [], []
    for row in queries:
        results, elapsed = search(page, row["query"])
        timings.append(elapsed)
        expect = re.compile(row["expect"], re.IGNORECASE)
        hits = [bool(expect.search(path) or expect.search(title)) for path, title in results[:3]]
        top1 += hits[:1] == [True]
        top3 += any(hits)
        if not any(hits):
            misses.append(f"{row['query']!r} (expects /{row['expect']}/): got {results[:3]}")
    record_property("notes_search", f"top-1 {top1}/{len(queries)}, top-3 {top3}/{len(queries)}, "
                    f"median query-to-results {sorted(timings)[len(timings) // 2] * 1000:.0f} ms")
    assert not misses, "queries whose page is not in the top three:\n" + "\n".join(misses)


def test_screenshots_for_review(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("", wait_until="networkidle")
    page.screenshot(path=SCREENSHOTS / "home.png")
    page.goto("optimizers/adam/", wait_until="networkidle")
    page.screenshot(path=SCREENSHOTS / "concept-adam.png")
    results, _ = search(page, "weight decay")
    assert results
    page.screenshot(path=SCREENSHOTS / "search-weight-decay.png")
    assert all((SCREENSHOTS / name).stat().st_size > 10_000
               for name in ("home.png", "concept-adam.png", "search-weight-decay.png"))
