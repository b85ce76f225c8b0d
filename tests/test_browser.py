"""The built site in a real browser (headless Chromium driven by Playwright; fixtures in
tests/plugins/browser.py and site.py): every page, reached by a full load or by instant navigation as readers reach it,
shows cleanly and locally, math is rendered, copy buttons copy exactly the code the suite ran, the
colour scheme persists, and axe-core finds no serious accessibility problem on any page (its colour
rules in the dark scheme too). Search is tested in test_search.py."""

import functools
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Error as PlaywrightError

from machinery.pages import DOCS, expand, ROOT, scan_fences, url_path
from machinery import cache
from plugins.browser import AXE, browser_identity, visit_key

# Accessibility findings we accept, rule id -> reason. Keep it short and explained.
AXE_ACCEPTED: dict[str, str] = {}


def doc_pages():
    return sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.ipynb"))


def is_concept(source: Path) -> bool:
    return source.suffix == ".md" and source.parent != DOCS


def is_notebook(source: Path) -> bool:
    return source.suffix == ".ipynb"


MATH_STATE = """() => ({
    formulas: document.querySelectorAll('.arithmatex').length,
    rendered: document.querySelectorAll('.arithmatex .katex').length,
    errors: document.querySelectorAll('.katex-error').length,
    // the build typesets the math (hooks/katex.py): no page loads KaTeX to typeset it again
    runtime: typeof window.katex !== 'undefined' || typeof window.renderMathInElement !== 'undefined',
})"""

# Material's copy button copies with the browser's copy command (clipboard.js): every click's text is
# read from that copy event, and the clipboard itself after the last click, which must hold the same
# text (a copy event whose text did not reach the clipboard fails the page). Reading the clipboard
# after every click cost two browser round trips a block.
COPY_EVERY_BLOCK = """async () => {
    const copied = [];
    const onCopy = (event) => {
        const field = event.target;  // clipboard.js copies from a selected, off-screen textarea
        copied.push(field.value !== undefined ? field.value.slice(field.selectionStart, field.selectionEnd)
                                              : String(document.getSelection()));
    };
    document.addEventListener('copy', onCopy, true);
    try {
        await navigator.clipboard.writeText('');
        for (const pre of document.querySelectorAll('.md-typeset .language-python pre')) {
            // Reveal blocks in collapsed admonitions and inactive tabs, as a reader would.
            for (let d = pre.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
            for (let tab = pre.closest('.tabbed-block'); tab; tab = tab.parentElement.closest('.tabbed-block')) {
                const index = [...tab.parentElement.children].indexOf(tab);
                tab.closest('.tabbed-set').querySelectorAll(':scope > input')[index].checked = true;
            }
            const before = copied.length;
            pre.querySelector("button[data-md-type='copy']").click();
            if (copied.length === before) copied.push(null);  // the click copied nothing
        }
    } finally {
        document.removeEventListener('copy', onCopy, true);
    }
    return {copied, clipboard: await navigator.clipboard.readText()};
}"""

AXE_RUN = """async (options) => (await axe.run(document, {resultTypes: ['violations'], ...options})).violations
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                target: v.nodes[0] && v.nodes[0].target.join(' ')}))"""
# Three rules take two thirds of axe's time (1.5 s a page here) and judge styling, which is one
# stylesheet for the whole site (and mkdocs-jupyter's for the worked examples): colour contrast, links
# told apart from text, target sizes. They run on the fewest pages that together show every kind of
# content the site's pages show (style_pages); every other rule runs on every page.
STYLE_RULES = ["color-contrast", "link-in-text-block", "target-size"]


def content_kinds(html: str) -> set[str]:
    """What a built page's article shows, as the style rules see it: the names of its elements and
    classes (a table, an ordered list, a note, a tab, each colour of a code token...), leaving out the
    inside of typeset formulas, whose spans and MathML take the text's colour."""
    article = html[html.index("<article"):html.index("</article>")]
    kept, depth, start = [], 0, 0
    for tag in re.finditer(r'<span class="katex(?:-display)?"|<span\b|</span>', article):
        if depth == 0 and tag.group().startswith('<span class="katex'):
            kept.append(article[start:tag.start()])
            depth = 1
        elif depth:
            depth += 1 if tag.group().startswith("<span") else -1
            start = tag.end()
    kept.append(article[start:] if depth == 0 else "")
    text = "".join(kept)
    return ({name.lower() for name in re.findall(r"<([a-zA-Z][\w-]*)", text)}
            | {"." + name for names in re.findall(r'\bclass="([^"]*)"', text) for name in names.split()})


def fewest_covering(kinds: dict[str, set[str]]) -> list[str]:
    """Pages whose kinds together are every page's: greedily the page that adds most, the first on a tie."""
    left, chosen = set().union(*kinds.values()), []
    while left:
        best = max(kinds, key=lambda name: len(kinds[name] & left))
        chosen.append(best)
        left -= kinds[best]
    return chosen


def page_kinds(site: Path) -> dict[str, set[str]]:
    return {str(source.relative_to(ROOT)): content_kinds((site / url_path(source) / "index.html").read_text(encoding="utf-8"))
            for source in doc_pages()}


@functools.cache
def style_pages(site: Path) -> frozenset[str]:
    """The pages the style rules run on (see STYLE_RULES), chosen from the built site."""
    return frozenset(fewest_covering(page_kinds(site)))


def axe_violations(page, options: dict) -> list[dict]:
    """axe's violations on the document the tab shows, run with ``options`` (loaded once per document)."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, options)


def switch_scheme(page):
    """Click the light/dark toggle in the header, as a reader does."""
    page.locator("form[data-md-component='palette'] label:visible").first.click()


def wait_until_rendered(page):
    """Material's scripts have run: code blocks have copy buttons, every formula is typeset, and
    nothing is moving."""
    page.evaluate("document.fonts.ready.then(() => true)")  # layout (and which formulas scroll) settles with the fonts
    page.wait_for_function(
        "() => document.querySelectorAll('.arithmatex').length === document.querySelectorAll('.arithmatex .katex').length"
        " && [...document.querySelectorAll('.md-typeset pre')].filter(pre => !pre.closest('.jupyter-wrapper, .notes-output'))"
        ".every(pre => pre.querySelector('button[data-md-type=copy]'))"
        # and no transition is half-way (after instant navigation the back-to-top button fades out;
        # axe would judge its contrast mid-fade)
        " && document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"
    )


def kind(source: Path) -> tuple:
    """Pages of one kind share a template and a folder depth, hence the same relative asset paths."""
    return len(PurePosixPath(url_path(source)).parts), is_notebook(source)


INSTANT_NAVIGATION = """(url) => {
    window.__leaving = document.querySelector('.md-content');
    const link = Object.assign(document.createElement('a'), {href: url});
    window.__leaving.append(link);
    link.click();  // Material intercepts clicks on links to pages listed in its sitemap
}"""
ARRIVED = """(url) => document.querySelector('.md-content') !== window.__leaving
    && location.pathname === new URL(url).pathname"""


def reach(page, source: Path) -> str:
    """Bring the tab to ``source`` as a reader moving through the site does. The first page of each
    kind (home, top-level page, concept page, notebook) in a tab is loaded in full; every other page
    is reached by Material's instant navigation from the page the tab shows, which swaps the content
    and keeps scripts, fonts and the search index loaded: a full load costs Chromium about three
    times the CPU (0.5 s a page here), most of it spent again on the same template. Every page's
    head is that template; test_site checks that each asset every page names resolves."""
    if kind(source) in page.full_loads:
        url = urljoin(page.url, "/" + url_path(source))
        page.evaluate(INSTANT_NAVIGATION, url)
        try:
            page.wait_for_function(ARRIVED, arg=url, timeout=15_000)
            if page.evaluate("window.__tour === true"):
                return "instant"
            page.console_errors.append("instant navigation to this page reloaded it in full")
        except PlaywrightError as error:
            page.console_errors.append(f"instant navigation did not arrive: {error.message.splitlines()[0]}")
    page.goto(url_path(source), wait_until="load")
    page.evaluate("window.__tour = true")  # lives as long as this document: instant navigation keeps it
    page.full_loads.add(kind(source))
    return "full"


def visit(page, source: Path, accessibility: bool = True, styled: bool = False) -> dict:
    """Reach one built page: what it requested, logged, rendered and copied, and (unless
    ``accessibility`` is false, for tests about something else) axe's verdict, the style rules
    included when ``styled``."""
    page.foreign_requests.clear()
    page.console_errors.clear()
    report = {"reached": reach(page, source)}
    try:
        wait_until_rendered(page)
    except Exception as error:  # reported with the page's state
        page.console_errors.append(f"not rendered in time: {error}")
    report["math"] = page.evaluate(MATH_STATE)
    if accessibility:  # before the copy clicks below, which change the buttons' state
        report["axe"] = axe_violations(page, {} if styled else {"rules": {rule: {"enabled": False} for rule in STYLE_RULES}})
    if is_notebook(source):  # markdown-cell math, typeset at build time (hooks/katex.py)
        report["notebook_math"] = page.evaluate(
            "() => ({rendered: document.querySelectorAll('.jp-RenderedMarkdown .katex').length,"
            " leftover: [...document.querySelectorAll('.jp-RenderedMarkdown')]"
            ".filter(e => /\\$[^$]+\\$/.test(e.textContent)).length})")
        report["tested"] = []  # notebook cells have no Material copy button; test_notebooks runs them
    else:
        lines, _origins, _on_page = expand(source)
        report["tested"] = ["\n".join(f.body).rstrip() for f in scan_fences(lines) if f.is_python]
    copies = page.evaluate(COPY_EVERY_BLOCK) if report["tested"] else {"copied": [], "clipboard": ""}
    report["copied"], report["clipboard"] = copies["copied"], copies["clipboard"]
    report["foreign"], report["console"] = list(page.foreign_requests), list(page.console_errors)
    return report


def problems_of(source: Path, report: dict) -> list[str]:
    problems = []
    if report["foreign"]:
        problems.append(f"requests to other hosts {report['foreign']}")
    if report["console"]:
        problems.append(f"console errors {report['console']}")
    math = report["math"]
    if math["rendered"] != math["formulas"] or math["errors"]:
        problems.append(f"math not typeset {math}")
    if math.get("runtime"):
        problems.append("KaTeX is loaded in the browser: the built page should already hold the typeset math")
    if is_concept(source) and math["formulas"] == 0:
        problems.append("a concept page without math")
    notebook = report.get("notebook_math")
    if notebook and (notebook["rendered"] == 0 or notebook["leftover"]):
        problems.append(f"notebook math not typeset {notebook}")
    tested, copied = report["tested"], report["copied"]
    if len(copied) != len(tested):
        problems.append(f"{len(tested)} Python blocks tested, {len(copied)} copy buttons")
    if copied and report.get("clipboard") != copied[-1]:
        problems.append(f"the clipboard holds {str(report.get('clipboard'))[:80]!r}..., not the last block's copy")
    for index, (got, expected) in enumerate(zip(copied, tested), 1):
        if got is None:
            problems.append(f"block {index}: the copy button copies nothing")
        elif got != expected:
            problems.append(f"block {index}: the copy button gives {got[:80]!r}..., the suite ran {expected[:80]!r}...")
    if "axe" not in report:
        problems.append("axe did not run")
    return problems + accessibility_problems(report.get("axe", []))


def accessibility_problems(violations: list[dict]) -> list[str]:
    return [f"accessibility: {v['id']} ({v['impact']}): {v['help']} on {v['nodes']} element(s), e.g. {v['target']}"
            for v in violations if v["impact"] in {"serious", "critical"} and v["id"] not in AXE_ACCEPTED]


# The style rules that judge colours, again in the dark scheme (target sizes do not change with it).
DARK_RULES = ["color-contrast", "link-in-text-block"]


@pytest.mark.reusable("site")
def test_dark_scheme_meets_the_colour_rules_on_the_style_pages(page, site):
    """A reader who switches to the dark scheme keeps it from page to page; on every page the style rules
    run on (style_pages), the colour rules find nothing serious there either. (Defined before the tour,
    so that the longest test of the file starts early and the workers finish together.)"""
    page.goto("", wait_until="load")
    switch_scheme(page)
    problems = []
    for name in sorted(style_pages(site)):
        source = ROOT / name
        reach(page, source)
        wait_until_rendered(page)
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate", name
        found = accessibility_problems(axe_violations(page, {"runOnly": DARK_RULES}))
        problems += [f"{name}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", doc_pages(), ids=lambda source: str(source.relative_to(ROOT)))
def test_page_in_the_browser(tab, site, source, record_property):
    """Reached (see reach) without console errors or requests to other hosts, math typeset, every
    Python copy button copies exactly the code the suite ran (blocks in closed admonitions and other
    tabs included), no serious axe finding (the styling rules on style_pages, every other rule
    everywhere). A visit that passed with exactly the same inputs is not repeated (visit_key)."""
    name = str(source.relative_to(ROOT))
    styled = name in style_pages(site)
    key = visit_key(site, source, browser_identity(tab.context.browser), styled)
    report = cache.passed_before("browser", name, key)
    if report is not None:
        record_property("browser_visits_reused", 1)
    else:
        report = visit(tab, source, styled=styled)
    record_property(f"pages_reached_{report['reached']}", 1)
    record_property("copy_buttons_checked", len(report["copied"]))
    problems = problems_of(source, report)
    if problems:  # the next page starts afresh, so that one page's fault is not blamed on the next
        tab.full_loads.clear()
    assert not problems, f"{source.relative_to(ROOT)}:\n  " + "\n  ".join(problems)
    cache.remember_pass("browser", name, key, report)


def test_style_pages_show_every_kind_of_content_the_sites_pages_show(site):
    kinds = page_kinds(site)
    chosen = style_pages(site)
    everything = set().union(*kinds.values())
    assert set().union(*(kinds[name] for name in chosen)) == everything
    # what the style rules must see is among the kinds, and the formulas' insides are not
    assert {"table", "ol", ".admonition", ".tabbed-set", ".highlight", ".arithmatex", ".jupyter-wrapper",
            ".highlight-ipynb", ".concept-map"} <= everything, everything
    assert not {".mord", ".katex-html", "math", "mrow"} & everything
    assert len(chosen) < len(kinds) / 4, sorted(chosen)


def test_content_kinds_leave_out_the_inside_of_formulas_and_the_cover_is_the_fewest():
    html = ('<header class="md-header"></header><article class="md-content__inner"><p>Text '
            '<span class="arithmatex"><span class="katex"><span class="katex-mathml"><math><mi>x</mi></math></span>'
            '<span class="katex-html" aria-hidden="true"><span class="mord">x</span></span></span></span></p>'
            '<ol><li><code><span class="k">def</span></code></li></ol></article><footer class="md-footer"></footer>')
    assert content_kinds(html) == {"article", ".md-content__inner", "p", "span", ".arithmatex", "ol", "li", "code", ".k"}
    assert fewest_covering({"a": {1, 2}, "b": {1, 2, 3}, "c": {4}, "d": {3, 4}}) == ["b", "c"]


@pytest.mark.reusable("site")
def test_colour_scheme_toggle_switches_and_persists_across_pages(page, site):
    page.goto("", wait_until="load")
    wait_until_rendered(page)
    scheme = lambda: page.evaluate("document.body.getAttribute('data-md-color-scheme')")  # noqa: E731
    before = scheme()
    switch_scheme(page)
    after = scheme()
    assert {before, after} == {"default", "slate"}, (before, after)
    page.goto("tensors/where/", wait_until="load")  # a full load: the choice is stored
    assert scheme() == after


@pytest.mark.reusable("site")
def test_tour_fails_a_page_that_instant_navigation_reloads(page, site):
    """A planted fault: with every page missing from Material's sitemap, instant navigation falls back
    to a full load, and the tour reports it for that page instead of passing on the reload."""
    page.route("**/sitemap.xml", lambda route: route.fulfill(body="<urlset></urlset>", content_type="application/xml"))
    first, second = DOCS / "glossary.md", DOCS / "tags.md"  # light pages of one kind
    assert kind(first) == kind(second)
    report = visit(page, first)
    assert report["reached"] == "full" and not problems_of(first, report), report
    report = visit(page, second)
    assert "console errors ['instant navigation to this page reloaded it in full']" in problems_of(second, report)


@pytest.mark.reusable("site")
def test_opening_a_question_reveals_its_answer_and_the_code_that_computes_it(page, site):
    page.goto("tensors/broadcasting/", wait_until="load")
    question = page.locator("details.question").filter(has_text="torch.ones(4, 1) + torch.ones(3)").first
    answer = question.locator("p", has_text="Answer:")
    assert not answer.is_visible()  # hidden until the learner has made a guess
    question.locator("summary").click()
    assert answer.is_visible() and "torch.Size([4, 3])" in answer.inner_text()
    assert "torch.Size([4, 3])" in question.locator(".notes-output").inner_text()  # what the code printed


@pytest.mark.reusable("site")
def test_review_sheet_prints_every_answer_without_navigation(page, site):
    page.goto("review/", wait_until="load")
    wait_until_rendered(page)
    questions = page.locator("details.question")
    assert questions.count() >= 90
    assert page.evaluate("[...document.querySelectorAll('details.question')].every(d => !d.open)")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what the browser does before printing
    assert page.evaluate("[...document.querySelectorAll('details.question')].every(d => d.open)")
    assert not page.locator(".md-header").is_visible() and not page.locator(".md-sidebar--primary").is_visible()
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("[...document.querySelectorAll('details.question')].every(d => !d.open)")
    page.emulate_media(media="screen")


@pytest.mark.reusable("site")
@pytest.mark.parametrize("plant, expected", [
    # the code shown changed after the suite ran it: the copy event carries other text
    ("addEventListener('load', () => document.querySelector('.md-typeset .language-python pre code')"
     ".append('\\n# planted'))", "block 1: the copy button gives"),
    # a script rewrites what reaches the clipboard: the copy event looks right, the clipboard does not
    ("document.addEventListener('copy', event => { event.clipboardData.setData('text/plain', 'planted');"
     " event.preventDefault(); })", "the clipboard holds 'planted'"),
], ids=["shown-code-differs", "clipboard-rewritten"])
def test_tour_fails_a_copy_button_that_does_not_copy_the_code_the_suite_ran(page, site, plant, expected):
    page.add_init_script(plant)
    source = DOCS / "tensors" / "broadcasting.md"
    problems = problems_of(source, visit(page, source, accessibility=False))
    assert any(expected in problem for problem in problems), problems
