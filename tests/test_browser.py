"""The built site in a real browser (headless Chromium driven by Playwright; fixtures in
conftest.py): every page loads cleanly and locally, math is rendered (also after instant
navigation), copy buttons copy exactly the code the suite ran, the colour scheme persists, and
axe-core finds no serious accessibility problem. Search is tested in test_search.py."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

from harness import DOCS, ROOT, expand, scan_fences

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Accessibility findings we accept, rule id -> reason. Keep it short and explained.
AXE_ACCEPTED: dict[str, str] = {}


def doc_pages():
    return sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.ipynb"))


def url_path(source: Path) -> str:
    """docs/optimizers/adam.md -> optimizers/adam/ ; docs/index.md -> ''."""
    rel = source.relative_to(DOCS).with_suffix("")
    return "" if rel.name == "index" and rel.parent == Path(".") else rel.as_posix() + "/"


def is_concept(source: Path) -> bool:
    return source.suffix == ".md" and source.parent != DOCS


def is_notebook(source: Path) -> bool:
    return source.suffix == ".ipynb"


MATH_STATE = """() => ({
    formulas: document.querySelectorAll('.arithmatex').length,
    rendered: document.querySelectorAll('.arithmatex .katex').length,
    errors: document.querySelectorAll('.katex-error').length,
})"""

COPY_EVERY_BLOCK = """async () => {
    const copied = [];
    for (const pre of document.querySelectorAll('.md-typeset .language-python pre')) {
        // Reveal blocks in collapsed admonitions and inactive tabs, as a reader would.
        for (let d = pre.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
        for (let tab = pre.closest('.tabbed-block'); tab; tab = tab.parentElement.closest('.tabbed-block')) {
            const index = [...tab.parentElement.children].indexOf(tab);
            tab.closest('.tabbed-set').querySelectorAll(':scope > input')[index].checked = true;
        }
        await navigator.clipboard.writeText('');
        pre.querySelector("button[data-md-type='copy']").click();
        await new Promise(resolve => setTimeout(resolve, 20));
        copied.push(await navigator.clipboard.readText());
    }
    return copied;
}"""

AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                target: v.nodes[0] && v.nodes[0].target.join(' ')}))"""


def wait_until_rendered(page):
    """Material's scripts have run: code blocks have copy buttons and every formula is typeset."""
    page.evaluate("document.fonts.ready.then(() => true)")  # layout (and which formulas scroll) settles with the fonts
    page.wait_for_function(
        "() => document.querySelectorAll('.arithmatex').length === document.querySelectorAll('.arithmatex .katex').length"
        " && [...document.querySelectorAll('.md-typeset pre')].filter(pre => !pre.closest('.jupyter-wrapper'))"
        ".every(pre => pre.querySelector('button[data-md-type=copy]'))"
    )


@pytest.fixture(scope="session")
def visits(browser, base_url):
    """Each built page, visited once: what it requested, logged, rendered, copied, and axe's verdict."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], base_url=base_url)
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_())  # routing disables the cache: each page's full weight
    local = urlparse(base_url).netloc
    log = {"foreign": [], "console": []}
    page.on("request", lambda r: urlparse(r.url).netloc not in {local, ""}
            and urlparse(r.url).scheme in {"http", "https", "ws", "wss"} and log["foreign"].append(r.url))
    page.on("console", lambda msg: msg.type == "error" and log["console"].append(msg.text))
    page.on("pageerror", lambda error: log["console"].append(str(error)))
    reports = {}
    for source in doc_pages():
        log["foreign"], log["console"] = [], []
        page.goto(url_path(source), wait_until="load")
        try:
            wait_until_rendered(page)
        except Exception as error:  # reported below with the page's state
            log["console"].append(f"not rendered in time: {error}")
        report = {"math": page.evaluate(MATH_STATE)}
        report["bytes"] = page.evaluate(  # everything this load fetched, decoded (no cache between pages)
            "() => performance.getEntries().reduce((sum, e) => sum + (e.decodedBodySize || 0), 0)")
        if is_concept(source):  # before the copy clicks below, which change the buttons' state
            page.add_script_tag(path=str(AXE))
            report["axe"] = page.evaluate(AXE_RUN)
        if is_notebook(source):  # markdown-cell math, typeset by KaTeX's auto-render
            report["notebook_math"] = page.evaluate(
                "() => ({rendered: document.querySelectorAll('.jp-RenderedMarkdown .katex').length,"
                " leftover: [...document.querySelectorAll('.jp-RenderedMarkdown')]"
                ".filter(e => /\\$[^$]+\\$/.test(e.textContent)).length})")
            report["tested"] = []  # notebook cells have no Material copy button; test_notebooks runs them
        else:
            lines, _origins, _on_page = expand(source)
            report["tested"] = ["\n".join(f.body).rstrip() for f in scan_fences(lines) if f.is_python]
        report["copied"] = page.evaluate(COPY_EVERY_BLOCK) if report["tested"] else []
        report["foreign"], report["console"] = list(log["foreign"]), list(log["console"])
        reports[source.relative_to(ROOT)] = report
    context.close()
    return reports


def test_every_page_loads_locally_without_errors(visits, record_property):
    heaviest = max(visits, key=lambda name: visits[name]["bytes"])
    record_property("notes_heaviest_page", f"{heaviest}, {visits[heaviest]['bytes'] / 1024:.0f} KiB with all it loads")
    problems = [f"{name}: requests to other hosts {r['foreign']}" for name, r in visits.items() if r["foreign"]]
    problems += [f"{name}: console errors {r['console']}" for name, r in visits.items() if r["console"]]
    assert not problems, "\n".join(problems)


def test_math_is_rendered_on_every_page(visits):
    problems = []
    for name, report in visits.items():
        math = report["math"]
        if math["rendered"] != math["formulas"] or math["errors"]:
            problems.append(f"{name}: math {math}")
        if is_concept(ROOT / name) and math["formulas"] == 0:
            problems.append(f"{name}: a concept page without math")
        notebook = report.get("notebook_math")
        if notebook and (notebook["rendered"] == 0 or notebook["leftover"]):
            problems.append(f"{name}: notebook math not typeset {notebook}")
    assert not problems, "\n".join(problems)


def test_math_is_rendered_again_after_instant_navigation(page):
    # networkidle: instant navigation only takes over once Material has fetched sitemap.xml
    page.goto("", wait_until="networkidle")
    wait_until_rendered(page)
    page.evaluate("window.__sameDocument = true")  # survives instant navigation, not a full reload
    page.locator(".md-content a[href$='optimizers/adam/']").first.click()
    page.wait_for_url(lambda url: "/optimizers/adam/" in url)
    wait_until_rendered(page)
    assert page.evaluate("window.__sameDocument === true"), "navigation reloaded the page: instant is off"
    state = page.evaluate(MATH_STATE)
    assert state["formulas"] > 0 and state["errors"] == 0, state
    assert not page.foreign_requests, page.foreign_requests


def test_copy_buttons_copy_exactly_the_code_the_suite_ran(visits):
    """Each Python block's copy button yields the block's code after includes, as the harness ran it."""
    problems, checked = [], 0
    for name, report in visits.items():
        tested, copied = report["tested"], report["copied"]
        if len(copied) != len(tested):
            problems.append(f"{name}: {len(tested)} Python blocks tested, {len(copied)} shown")
            continue
        for index, (got, expected) in enumerate(zip(copied, tested), 1):
            checked += 1
            if got != expected:
                problems.append(f"{name} block {index}: the copy button gives {got[:80]!r}..., "
                                f"the suite ran {expected[:80]!r}...")
    assert checked > 0
    assert not problems, "\n".join(problems)


def test_no_serious_accessibility_violations_on_concept_pages(visits):
    problems = [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} on {v['nodes']} element(s), e.g. {v['target']}"
        for name, report in visits.items()
        for v in report.get("axe", [])
        if v["impact"] in {"serious", "critical"} and v["id"] not in AXE_ACCEPTED
    ]
    assert any("axe" in report for report in visits.values())
    assert not problems, "\n".join(problems)


def test_colour_scheme_toggle_switches_and_persists_across_pages(page):
    page.goto("", wait_until="load")
    wait_until_rendered(page)
    scheme = lambda: page.evaluate("document.body.getAttribute('data-md-color-scheme')")  # noqa: E731
    before = scheme()
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    after = scheme()
    assert {before, after} == {"default", "slate"}, (before, after)
    page.goto("optimizers/adam/", wait_until="load")  # a full load: the choice is stored
    assert scheme() == after


