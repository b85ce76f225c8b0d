"""Search as a learner uses it, in headless Chromium: type a question, read the top results.

tests/search-queries.tsv holds the learners' queries: `query`, `expect` (a regex the result page's
URL path must match: the page that answers it, or the two pages that both do), `half` and `source`
(`original`: the 30 queries search was first tuned on; `issue`, `seeds`, `page`: added in issue 13,
from the issue, from learners' notes in the team's seeds, or written for a page). Each query's half
was fixed before any tuning by a hash of its text (half_rule below, checked by the suite): search is
tuned on the `tuned` half only (the 30 originals belong there, as they were tuned on before), and the
`reported` half measures how search does on queries nobody tuned it for. A query never moves from
reported to tuned: the rule would refuse it."""

import csv
import hashlib
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from harness import SUITE_SOURCES
from plugins.browser import browser_identity
from machinery.pages import DOCS, ROOT, url_path
from machinery import cache

QUERIES = Path(__file__).with_name("search-queries.tsv")
SCREENSHOTS = ROOT / "build" / "screenshots"  # for review; build/ is not committed

# Targets (issue 13): on the reported half, the expected page is in the top three for 95% of the
# queries and first for 80%; on the tuned half, in the top three for every query.
REPORTED_HIT3, REPORTED_HIT1, TUNED_HIT3 = 0.95, 0.80, 1.0


def half_rule(query: str) -> str:
    """The half a new query belongs to, from its text alone: first byte of its SHA-256 even or odd."""
    return "tuned" if hashlib.sha256(query.encode("utf-8")).digest()[0] % 2 == 0 else "reported"


def learner_queries() -> list[dict]:
    with open(QUERIES, encoding="utf-8", newline="") as f:  # queries may hold quotes: no quoting
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


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

META = "document.querySelector('.md-search-result__meta')?.textContent ?? ''"


def search(page, query: str):
    """Enter a query as a reader does; return ([(path, title, href), ...] one per page, seconds to results)."""
    box = page.locator(".md-search__input")
    if not box.is_visible():
        page.keyboard.press("/")  # Material's shortcut opens and focuses the search box
    # Clear first and wait for the empty state, so the previous query's results cannot pass for these.
    box.fill("")
    box.press("End")  # search listens for key releases
    page.wait_for_function(f"!/matching/i.test({META})")
    started = time.perf_counter()
    box.fill(query)  # a paste, then the key release that search listens for
    box.press("End")
    page.wait_for_function(f"/matching/i.test({META})")  # "3 matching documents" or "No matching documents"
    elapsed = time.perf_counter() - started
    # The worker answers each keystroke; wait until the list stops changing (one call, in the page).
    shown = page.evaluate(SETTLED_RESULTS)
    results = []  # one entry per page, in the order a reader sees them
    for href, title in shown:
        path = urlparse(href).path
        if all(path != seen for seen, _, _ in results):
            results.append((path, title, href))
    return results, elapsed


def test_query_set_is_large_split_by_the_rule_and_names_real_pages():
    queries = learner_queries()
    assert len(queries) >= 150
    assert len({q["query"].lower() for q in queries}) == len(queries), "a query is listed twice"
    wrong = [q["query"] for q in queries
             if q["half"] != ("tuned" if q["source"] == "original" else half_rule(q["query"]))]
    assert not wrong, f"queries whose half is not the one HALF_RULE gives: {wrong}"
    assert {q["source"] for q in queries} <= {"original", "issue", "seeds", "page"}
    assert sum(q["source"] == "original" for q in queries) == 30, "the originals are the 30 of before issue 13"
    paths = ["/" + url_path(p) for p in sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.ipynb"))]
    for q in queries:  # every alternative in `expect` is some page, so a typo cannot hide a miss
        for alternative in q["expect"].split("|"):
            assert any(re.search(alternative, path) for path in paths), (q["query"], alternative)


def test_index_holds_key_terms_and_leaves_out_pages_that_gather_others(site):
    """hooks/search.py and front matter: the Tags page is not indexed, the review sheet only by its
    introduction, each page's entry has its key terms, and no title keeps a notebook's "¶"."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = [doc["location"] for doc in index["docs"]]
    assert not [place for place in locations if place.startswith("tags/")]
    assert "review/" in locations and not [place for place in locations if place.startswith("review/#")]
    assert "keys" in index["config"]["fields"]
    pages = {doc["location"]: doc for doc in index["docs"] if "#" not in doc["location"]}
    assert all(pages[url_path(p)].get("keys") for p in sorted(DOCS.glob("*/*.md"))), "a page without key terms"
    assert not [doc["title"] for doc in index["docs"] if "¶" in doc["title"]]


# What judges a half, besides the built site's files (its search index, scripts and styles among them).
JUDGES = [Path(__file__), *SUITE_SOURCES, QUERIES, Path(cache.__file__)]
TARGETS = {"tuned": "hit@3 100%", "reported": "hit@3 >= 95%, hit@1 >= 80%"}


@pytest.mark.parametrize("half", ["tuned", "reported"])
def test_learners_queries_find_their_page(page, site, half, record_property):
    """hit@1, hit@3 and mean reciprocal rank (of the expected page among the ten results Material shows
    before the reader scrolls; 0 when not there), one half of the queries per test, so that the two
    halves run side by side. A half that passed with exactly the same site files, queries and test code
    is not typed again (machinery/cache.py); the figures shown are then that run's."""
    queries = [row for row in learner_queries() if row["half"] == half]
    key = cache.digest(cache.built_site_digest(site), *JUDGES, browser_identity(page.context.browser))
    figures = cache.passed_before("search", half, key)
    if figures is not None:
        record_property("search_halves_reused", 1)
    else:
        figures = type_queries(page, queries)
    n = figures["n"]
    line = (f"{half} half ({n} queries): hit@1 {figures['hit1'] / n:.1%}, hit@3 {figures['hit3'] / n:.1%}, "
            f"MRR {figures['rr'] / n:.3f}; median query-to-results {figures['median_ms']:.0f} ms")
    record_property(f"notes_search_{half}", line)
    low = (figures["hit3"] < TUNED_HIT3 * n if half == "tuned" else
           figures["hit3"] < REPORTED_HIT3 * n or figures["hit1"] < REPORTED_HIT1 * n)
    problems = [f"console errors: {figures['console']}"] if figures["console"] else []
    if figures["retyped"]:  # the in-page typing and the keyboard disagreed (see TYPE_EACH): say so
        record_property(f"notes_search_{half}_retyped", figures["retyped"])
    if low:
        problems.append(f"{half} half below its targets ({TARGETS[half]}); misses:\n  " + "\n  ".join(figures["misses"]))
    assert not problems, line + "\n" + "\n".join(problems)
    cache.remember_pass("search", half, key, figures)


# The learner's queries, typed into the real search box inside the page: the box's value set and the key
# release Material's search listens for, then, once the result list is for this query, its links
# (test_in_page_typing_gives_what_the_keyboard_gives shows it is what Playwright's keyboard gives). One
# call for a whole half: a Playwright round trip per query would cost five times the searching.
TYPE_EACH = """async (queries) => {
    const box = document.querySelector('.md-search__input');
    const meta = document.querySelector('.md-search-result__meta');
    const until = (test, what) => new Promise((resolve, reject) => {
        if (test()) return resolve();
        const observer = new MutationObserver(() => {
            if (test()) { observer.disconnect(); clearTimeout(timer); resolve(); }
        });
        const timer = setTimeout(() => { observer.disconnect(); reject(new Error(what)); }, 10000);
        observer.observe(meta, {childList: true, characterData: true, subtree: true});
    });
    const type = (text) => {
        box.value = text;
        box.dispatchEvent(new KeyboardEvent('keyup', {key: 'End', bubbles: true}));
    };
    const answers = [];
    for (const query of queries) {
        // Clear first and wait for the empty state, so the previous query's results cannot pass for these.
        type('');
        await until(() => !/matching/i.test(meta.textContent), `search did not clear before ${query}`);
        const started = performance.now();
        type(query);
        // "3 matching documents" or "No matching documents": the first ten results are in the list
        // by then (Material fills the list and the count from the same worker message)
        await until(() => /matching/i.test(meta.textContent), `no results for ${query}`);
        const elapsed = performance.now() - started;
        const links = [...document.querySelectorAll('li.md-search-result__item > a.md-search-result__link')];
        answers.push({hrefs: links.map(a => a.href), ms: elapsed});
    }
    return answers;
}"""


def one_per_page(hrefs) -> list[str]:
    """Result paths in the order a reader sees them, each page once (its sections are listed under it)."""
    paths = []
    for href in hrefs:
        path = urlparse(href).path
        if path not in paths:
            paths.append(path)
    return paths


def type_queries(page, queries) -> dict:
    page.goto("", wait_until="networkidle")
    page.keyboard.press("/")  # open search as a reader does
    answers = page.evaluate(TYPE_EACH, [row["query"] for row in queries])
    figures = {"n": 0, "hit1": 0, "hit3": 0, "rr": 0.0, "misses": []}
    figures["retyped"] = []  # misses typed again on the keyboard that then ranked otherwise
    for row, answer in zip(queries, answers, strict=True):
        results = one_per_page(answer["hrefs"])
        expect = re.compile(row["expect"], re.IGNORECASE)
        rank = next((i + 1 for i, path in enumerate(results) if expect.search(path)), None)
        if not rank or rank > 3:  # a miss is confirmed as a reader would see it: typed on the keyboard
            typed = [path for path, _, _ in search(page, row["query"])[0]]
            if typed != results:
                figures["retyped"].append(row["query"])
                results = typed
                rank = next((i + 1 for i, path in enumerate(results) if expect.search(path)), None)
        figures["n"] += 1
        figures["hit1"] += rank == 1
        figures["hit3"] += rank is not None and rank <= 3
        figures["rr"] += 1 / rank if rank else 0.0
        if not rank or rank > 3:
            figures["misses"].append(f"{row['query']!r} (expects /{row['expect']}/, rank {rank}): got {results[:3]}")
    timings = sorted(answer["ms"] for answer in answers)
    figures["median_ms"] = timings[len(timings) // 2]
    figures["console"] = list(page.console_errors)
    return figures


@pytest.mark.reusable("site")
def test_in_page_typing_gives_what_the_keyboard_gives(page, site):
    """TYPE_EACH, which measures both halves, sees the same pages in the same order as a query typed with
    Playwright's keyboard (search below), for queries of each half, one with no result among them."""
    queries = ["adam bias correction", "what is broadcasting", "learning rate too high",
               "embedding vs one hot", "zzqx qqzv", "gpu"]
    page.goto("", wait_until="networkidle")
    typed = [[path for path, _, _ in search(page, query)[0]] for query in queries]
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    in_page = [one_per_page(answer["hrefs"]) for answer in page.evaluate(TYPE_EACH, queries)]
    assert in_page == typed
    assert typed[4] == [] and all(typed[:4] + typed[5:]), typed


WORDS_UNDER_MARKS = """() => [...document.querySelectorAll('article mark[data-md-highlight]')].map(mark => {
    // The text just before and after the mark, within the same parent: a letter or digit
    // there means the mark cuts a word.
    let before = '', after = '';
    for (let n = mark.previousSibling; n && before.length < 1; n = n.previousSibling) before = n.textContent + before;
    for (let n = mark.nextSibling; n && after.length < 1; n = n.nextSibling) after += n.textContent;
    return [before.slice(-1), mark.textContent, after.slice(0, 1)];
})"""


@pytest.mark.reusable("site")
def test_after_a_search_only_whole_words_are_highlighted(page, site):
    """The query travels to the page as ?h=...; only whole words are marked there: no stop word,
    no letter inside a word (Material marks every occurrence of each query fragment otherwise)."""
    page.goto("", wait_until="networkidle")
    for query, expect, word in [("what is a gradient", "training/autograd/", "gradient"),
                                ("move a tensor to cuda", "tensors/gpus-and-devices/", "cuda")]:
        results, _ = search(page, query)
        href = next(href for path, _, href in results if expect in path)
        highlight = parse_qs(urlparse(href).query).get("h", [""])[0].lower().split()
        assert word in highlight and not {"what", "is", "a", "to"} & set(highlight), highlight
        page.goto(href, wait_until="networkidle")
        page.wait_for_selector("article mark[data-md-highlight]")
        marks = page.evaluate(WORDS_UNDER_MARKS)
        fragments = [m for m in marks if re.match(r"\w", m[0]) or re.match(r"\w", m[2])]
        assert not fragments, f"{query!r}: marks that cut a word (before, mark, after): {fragments[:10]}"
        marked = {m[1].lower() for m in marks}
        assert any(word in m for m in marked), marked
        assert marked <= {w for w in marked if len(w) > 2}, f"short words marked: {marked}"
        if word == "gradient":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "search-highlight.png")


@pytest.mark.reusable("site")
def test_suggestions_still_complete_the_last_word(page, site):
    """Material's suggestion (accepted with the right arrow) survives the rewritten query."""
    page.goto("", wait_until="networkidle")
    search(page, "gradient desc")
    page.wait_for_function("(document.querySelector('.md-search__suggest')?.textContent ?? '').length > 13")
    assert page.locator(".md-search__suggest").text_content() == "gradient descent"


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
