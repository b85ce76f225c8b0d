"""The site builds with --strict, and the built HTML is self-contained: math, fonts and search are local."""

import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from machinery.pages import DOCS, ROOT, url_path


# Attributes through which a page makes the browser fetch something.
LOADING_ATTRIBUTES = {
    "script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src",
    "audio": "src", "embed": "src", "object": "data", "link": "href",
}
REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)


class Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and not {"stylesheet", "preload", "modulepreload", "icon", "manifest",
                                  "prefetch", "preconnect", "dns-prefetch"} & set((attrs.get("rel") or "").split()):
            return
        name = LOADING_ATTRIBUTES.get(tag)
        if name and attrs.get(name):
            self.urls.append((tag, attrs[name]))
        if attrs.get("srcset"):
            self.urls += [(tag, part.split()[0]) for part in attrs["srcset"].split(",")]


def html_pages(site):
    return sorted(site.rglob("*.html"))


@functools.cache
def loads_of(page: Path) -> list[tuple[str, str]]:
    """(tag, address) of everything a built page makes the browser fetch; parsed once per worker."""
    parser = Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def built_page(site: Path, source: Path) -> Path:
    return site / url_path(source) / "index.html"


def test_strict_build_produces_every_page(site):
    for page in DOCS.rglob("*.md"):
        target = built_page(site, page)
        assert target.is_file(), f"{page.relative_to(ROOT)} was not built to {target.relative_to(site)}"


def test_no_page_loads_anything_from_another_host(site):
    offenders = []
    for page in html_pages(site):
        offenders += [f"{page.relative_to(site)}: <{tag}> {url}" for tag, url in loads_of(page) if REMOTE.match(url)]
    for sheet in site.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", text):
            if REMOTE.match(url):
                offenders.append(f"{sheet.relative_to(site)}: {url}")
    assert not offenders, "the site must not load from third-party hosts:\n" + "\n".join(offenders)


def test_katex_and_its_fonts_are_served_by_the_site(site):
    katex = site / "assets" / "katex"
    assert (katex / "katex.min.css").is_file()
    css = (katex / "katex.min.css").read_text(encoding="utf-8")
    woff2 = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert woff2, "KaTeX's stylesheet names no woff2 fonts: has its layout changed?"
    missing = [font for font in woff2 if not (katex / font).is_file()]
    assert not missing, f"fonts KaTeX asks for but the site lacks: {missing}"
    for page in html_pages(site):
        text = page.read_text(encoding="utf-8")
        if 'class="arithmatex"' in text or 'class="katex"' in text:
            assert "assets/katex/katex.min.css" in text and "javascripts/katex-init.js" in text, page
        # math is typeset at build time (hooks/katex.py): no page runs KaTeX in the browser
        assert "katex.min.js" not in text and "auto-render" not in text, page


ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
MARKDOWN_CELL = re.compile(r'<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>(.*?)(?=<div class="jp-Cell\b|</article>)',
                           re.DOTALL)


def test_math_is_typeset_at_build_time(site):
    """hooks/katex.py puts KaTeX's HTML (and MathML) in place of every formula's TeX: each arithmatex
    element of a page holds KaTeX markup and no \\( \\) \\[ \\] delimiters, and a notebook's markdown cells
    hold KaTeX markup and no $...$ left. A malformed formula fails the build (test_guards)."""
    problems = []
    sources = [s for s in DOCS.rglob("*.md") if s.parent != DOCS] + sorted(DOCS.rglob("*.ipynb"))
    for source in sources:
        text = built_page(site, source).read_text(encoding="utf-8")
        name = source.relative_to(ROOT)
        if source.suffix == ".ipynb":
            cells = MARKDOWN_CELL.findall(text)
            typeset = sum(cell.count('class="katex"') for cell in cells)
            visible = [re.sub(r"<[^>]+>", "", re.sub(r'<span class="katex-mathml">.*?</math></span>', "", cell,
                                                      flags=re.DOTALL)) for cell in cells]
            left = [m for cell in visible for m in re.findall(r"\$[^$]+\$", cell)]
            if not typeset or left:
                problems.append(f"{name}: {typeset} formulas typeset in markdown cells, TeX left: {left[:3]}")
            continue
        formulas = ARITHMATEX.findall(text)
        bare = [body[:60] for _tag, body in formulas if not body.startswith(('<span class="katex"',
                                                                             '<span class="katex-display"'))]
        if not formulas or bare:
            problems.append(f"{name}: {len(formulas)} formulas, not typeset: {bare[:3]}")
        if text.count('class="katex"') < len(formulas) or re.search(r'class="arithmatex">\s*\\[(\[]', text):
            problems.append(f"{name}: TeX delimiters left in the page")
    assert not problems, "\n".join(problems)


def test_front_matter_parses_and_concept_pages_have_title_description_tags():
    """MkDocs drops front matter it cannot parse without a word; here it is an error."""
    import yaml

    problems = []
    for source in DOCS.rglob("*.md"):
        text = source.read_text(encoding="utf-8")
        name = source.relative_to(ROOT)
        match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
        if not match:
            problems.append(f"{name}: no front matter")
            continue
        try:
            meta = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            problems.append(f"{name}: front matter is not valid YAML: {error}")
            continue
        missing = [key for key in ("title", "description") if not meta.get(key)]
        if source.parent != DOCS and not meta.get("tags"):
            missing.append("tags")
        if missing:
            problems.append(f"{name}: front matter lacks {', '.join(missing)}")
    assert not problems, "\n".join(problems)


def test_concept_pages_have_math_tags_and_code(site):
    for source in DOCS.rglob("*.md"):
        if source.parent == DOCS:
            continue  # home and site-wide pages
        built = built_page(site, source)
        text = built.read_text(encoding="utf-8")
        name = source.relative_to(ROOT)
        assert 'class="arithmatex"' in text, f"{name}: a concept page states its math"
        assert 'class="md-tag' in text, f"{name}: a concept page carries tags in its front matter"
        assert '<div class="language-python highlight">' in text, f"{name}: no Python code block rendered"


def test_figure_blocks_are_drawn_at_build_time(site):
    for source in DOCS.rglob("*.md"):
        fences = len(re.findall(r'^\s*(?:```|~~~)+\s*python[^\n]*\bfigure="', source.read_text(encoding="utf-8"), re.M))
        if not fences:
            continue
        page = built_page(site, source)
        drawn = page.read_text(encoding="utf-8").count('<figure class="notes-figure"><svg')
        assert drawn >= fences, f"{source.relative_to(ROOT)}: {fences} figure blocks, {drawn} figures drawn"


def test_notebook_pages_offer_their_notebook_for_download(site):
    for notebook in DOCS.rglob("*.ipynb"):
        folder = built_page(site, notebook).parent
        html = (folder / "index.html").read_text(encoding="utf-8")
        assert f'href="{notebook.name}" download' in html, f"{notebook.relative_to(ROOT)}: no download button"
        assert (folder / notebook.name).read_bytes() == notebook.read_bytes()


def test_copy_buttons_annotations_tabs_and_instant_navigation_are_on(site):
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>',
                       (site / "index.html").read_text(encoding="utf-8"), re.DOTALL)
    features = set(json.loads(config.group(1))["features"])
    assert {"content.code.copy", "content.code.annotate", "navigation.instant",
            "search.suggest", "search.highlight"} <= features


def test_search_splits_code_identifiers(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])
    def tokens(text):
        return [t.lower() for t in separator.split(text) if t]
    assert tokens("torch.optim.Adam") == ["torch", "optim", "adam"]
    assert tokens("optimizer.zero_grad()") == ["optimizer", "zero", "grad"]
    assert tokens("torch.optim.RMSprop(lr=0.01)") == ["torch", "optim", "rmsprop", "lr", "0.01"]
    titles = {doc["title"] for doc in index["docs"]}
    assert {"Adam", "Broadcasting", "Matrix multiplication"} <= titles


def local_file(site: Path, page: Path, href: str) -> Path | None:
    """The file a local link or asset address of ``page`` names (whether or not it exists), or None
    for another host, a data: URI, or an anchor on the page itself."""
    url = urlparse(href)
    if url.scheme or url.netloc or not url.path:
        return None
    base = site if url.path.startswith("/") else page.parent  # 404.html links from the root
    target = (base / unquote(url.path).lstrip("/")).resolve()
    return target / "index.html" if target.is_dir() else target


def test_every_local_link_and_asset_in_the_built_site_resolves(site, record_property):
    """Links as built, notebooks included (their markdown links are rewritten by hooks/notebooks.py),
    and every script, stylesheet and image each page loads: the browser tests load each kind of page
    in full only once (test_browser.reach), so a wrong relative path in one page's head shows here.
    Also measures the heaviest page: its HTML plus the scripts, stylesheets and images it loads."""
    broken, weights = [], []
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        links = [(None, href) for href in re.findall(r'<a [^>]*href="([^"]+)"', html)]
        assets = set()
        for tag, href in links + loads_of(page):
            target = local_file(site, page, href)
            if target is None:
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {f'<{tag}> ' if tag else ''}{href}")
            elif tag:
                assets.add(target)
        weights.append((sum(a.stat().st_size for a in assets) + len(html.encode()), page.relative_to(site)))
    assert not broken, "links and assets to nothing:\n" + "\n".join(sorted(set(broken)))
    size, heaviest = max(weights)
    record_property("notes_page_kib", (str(heaviest), round(size / 1024)))


def test_notebook_pages_are_indexed_by_their_prose_not_their_code(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    notebook_entries = [d for d in index["docs"] if d["location"].startswith("examples/")]
    assert len({d["location"].split("/")[1] for d in notebook_entries}) == len(list(DOCS.rglob("*.ipynb")))
    polluted = [d["location"] for d in notebook_entries
                if "torch.manual_seed" in d["text"] or "<pre>" in d["text"] or re.search(r"In\s*\[\d*\]", d["text"])]
    assert not polluted, f"code or prompts in the search index: {polluted}"
    assert any("worked example" in d["text"].lower() for d in notebook_entries)


def test_notebook_pages_show_their_figures(site):
    """As many images as the notebook has plt.show() calls (a GIF shown as HTML counts too)."""
    for notebook in sorted(DOCS.rglob("*.ipynb")):
        source = notebook.read_text(encoding="utf-8")
        expected = source.count("plt.show()") + source.count("data:image/gif")
        page = built_page(site, notebook)
        shown = page.read_text(encoding="utf-8").count('<img ')
        assert shown >= expected > 0, f"{notebook.relative_to(ROOT)}: {shown} images on the page, {expected} expected"


def verified_paragraph(html: str) -> str | None:
    """The "passed on torch ..." line under a built page's title (hooks/verified.py)."""
    shown = re.search(r'<p class="verified"[^>]*>(.*?)</p>', html, re.S)
    return shown.group(1) if shown else None


def concept_pages() -> list[Path]:
    """docs/<section>/<page>.md (the worked examples are notebooks)."""
    return sorted(DOCS.glob("*/*.md"))


def test_every_page_with_code_says_what_it_was_verified_on(site):
    """The line under each title names every torch version that passed the page, from verified/."""
    from machinery.pages import pages_with_code, rel
    from machinery.records import verified_records

    records = verified_records().values()
    problems = []
    for source in pages_with_code():
        shown = verified_paragraph(built_page(site, source).read_text(encoding="utf-8"))
        versions = {r["torch"].split("+")[0] for r in records if rel(source) in r["pages"]}
        if shown is None:
            problems.append(f"{rel(source)}: no 'verified on' line under the title")
        elif not versions:
            problems.append(f"{rel(source)}: no record in verified/ yet: run `make matrix` (README, "
                            "'Supported torch versions, tested') and commit verified/")
        elif any(v not in shown for v in versions):
            problems.append(f"{rel(source)}: shows {shown!r}, records say {sorted(versions)}")
    assert not problems, "\n".join(problems)


def test_every_page_links_the_whole_scripts_it_includes(site):
    """Under the title, a download link for each snippet file the page includes, to an exact copy."""
    from machinery.pages import expand, markdown_pages, rel

    problems = []
    for source in markdown_pages():
        _lines, origins, _on_page = expand(source)
        scripts = sorted({o.path for o in origins if o.path.startswith("snippets/")})
        shown = verified_paragraph(built_page(site, source).read_text(encoding="utf-8"))
        for script in scripts:
            if shown is None or f"{script}\" download" not in shown:
                problems.append(f"{rel(source)}: no download link for {script} under the title")
            elif (site / script).read_bytes() != (ROOT / script).read_bytes():
                problems.append(f"{rel(source)}: the downloadable {script} differs from the repository's")
    assert not problems, "\n".join(problems)


def article_links(built: Path) -> tuple[set[Path], set[Path]]:
    """The pages a built page's article links to, outside and inside its "Linked from" section
    (tags, permalinks and links to files other than pages left out)."""
    html = built.read_text(encoding="utf-8")
    start = html.find('<article class="md-content__inner md-typeset">')
    article = re.sub(r'<nav class="md-tags".*?</nav>', "", html[start:html.find("</article>", start)], flags=re.S)
    body, _, linked_from = article.partition('<h2 id="linked-from">')

    def pages(fragment):
        found = set()
        for href in re.findall(r'<a [^>]*href="([^"#]*)(?:#[^"]*)?"', fragment):
            if not href or REMOTE.match(href) or href.startswith(("mailto:", "data:")):
                continue
            target = (built.parent / unquote(href)).resolve()
            target = target / "index.html" if target.is_dir() else target
            if target.name == "index.html" and target.is_file() and target != built.resolve():
                found.add(target)
        return found

    return pages(body), pages(linked_from)


def test_linked_from_lists_exactly_the_pages_whose_links_reach_the_page(site):
    """'Linked from' (hooks/links.py, from the Markdown) against the link graph of the built site."""
    sources = sorted(DOCS.rglob("*.md")) + sorted(DOCS.rglob("*.ipynb"))
    built = {source: built_page(site, source).resolve() for source in sources}
    outgoing = {source: article_links(page)[0] for source, page in built.items()
                if source.name != "tags.md"}  # the tags index is generated, not written
    problems = []
    concept = concept_pages()
    for page in concept:
        shown = article_links(built[page])[1]
        expected = {built[s] for s, links in outgoing.items() if built[page] in links}
        if shown != expected:
            name = lambda paths: sorted(p.parent.relative_to(site.resolve()).as_posix() for p in paths)  # noqa: E731
            problems.append(f"{page.relative_to(ROOT)}: 'Linked from' shows {name(shown)}, the site links from {name(expected)}")
        if not any(built[page] in outgoing[s] for s in concept if s != page):
            problems.append(f"{page.relative_to(ROOT)}: no other concept page links to it")
    assert not problems, "\n".join(problems)


def tagged_pages() -> dict[str, list[str]]:
    """{tag: [page, ...]} over the Markdown pages' front matter and the notebooks' table (hooks/notebooks.yml)."""
    from mkdocs.utils.meta import get_data

    from machinery.vocabulary import NOTEBOOK_PAGES, notebook_pages

    pages = {}
    for source in sorted(DOCS.rglob("*.md")):
        for tag in get_data(source.read_text(encoding="utf-8"))[1].get("tags") or []:
            pages.setdefault(tag, []).append(source.relative_to(ROOT).as_posix())
    for name, entry in sorted(notebook_pages().items()):
        for tag in entry.get("tags") or []:
            pages.setdefault(tag, []).append(f"{NOTEBOOK_PAGES.relative_to(ROOT)}: {name}")
    return pages


def test_one_spelling_per_tag():
    """A tag spelt two ways splits its pages on the tags page: 'SGD' and 'sgd', 'epoch' and 'epochs'.
    Tags that are the same word up to case, hyphens, spaces or a plural 's' must be one tag."""
    spellings = {}
    for tag, pages in tagged_pages().items():
        key = re.sub(r"[\s_-]+", "", tag.lower()).removesuffix("s")
        spellings.setdefault(key, {})[tag] = pages
    split = {key: found for key, found in spellings.items() if len(found) > 1}
    assert not split, "one tag, several spellings (pick one): " + "; ".join(
        ", ".join(f"{tag!r} on {pages}" for tag, pages in found.items()) for found in split.values())


TAG_VOCABULARY = ROOT / "tests" / "tags.tsv"  # tag, what its pages share, why it may stand on one page


def test_tags_are_one_small_vocabulary():
    """Every tag is in tests/tags.tsv, with what its pages share, and every listed tag is used. A tag on
    one page gathers nothing on the tags page: it is merged into a broader tag, or tags.tsv says why
    it stands alone (column `alone`)."""
    import csv

    with open(TAG_VOCABULARY, encoding="utf-8", newline="") as f:
        vocabulary = {row["tag"]: row for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}
    used = tagged_pages()
    problems = [f"tag {tag!r} (on {pages}) is not in {TAG_VOCABULARY.relative_to(ROOT)}: use a listed tag, "
                "or add it with what its pages share" for tag, pages in used.items() if tag not in vocabulary]
    problems += [f"{TAG_VOCABULARY.relative_to(ROOT)} lists {tag!r}, which no page carries"
                 for tag in vocabulary if tag not in used]
    problems += [f"{TAG_VOCABULARY.relative_to(ROOT)}: {tag!r} does not say what its pages share"
                 for tag, row in vocabulary.items() if not (row["gathers"] or "").strip()]
    problems += [f"tag {tag!r} is on one page only ({pages[0]}): merge it into a broader tag, or say in "
                 f"{TAG_VOCABULARY.relative_to(ROOT)} (column `alone`) why it stands alone"
                 for tag, pages in used.items()
                 if len(pages) == 1 and tag in vocabulary and not (vocabulary[tag]["alone"] or "").strip()]
    assert not problems, "\n".join(problems)


def search_index(site: Path) -> dict:
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))


def test_concept_pages_show_the_questions_they_answer_in_their_own_search_entry(site):
    """Front matter `questions:` (3 to 6), `aka:` and `code:`, shown under the title (hooks/vocabulary.py),
    before the first section: the search index files them with the page's own entry, not a section."""
    import html

    from mkdocs.utils.meta import get_data

    from machinery.vocabulary import problems as vocabulary_problems

    def plain(fragment: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())

    entries = {doc["location"]: plain(doc["text"]) for doc in search_index(site)["docs"]}
    problems = []
    for source in concept_pages():
        name = source.relative_to(ROOT)
        meta = get_data(source.read_text(encoding="utf-8"))[1]
        problems += [f"{name}: {problem}" for problem in vocabulary_problems(meta)]
        page = built_page(site, source).read_text(encoding="utf-8")
        block = re.search(r'<details class="abstract notes-questions">(.*?)</details>', page, re.S)
        shown = [plain(q) for q in re.findall(r"<li>(.*?)</li>", block.group(1) if block else "", re.S)]
        if shown != [" ".join(q.split()) for q in meta.get("questions") or []]:
            problems.append(f"{name}: the page shows the questions {shown}, "
                            f"its front matter lists {meta.get('questions')}")
        aka = re.search(r'<p class="notes-aka">(.*?)</p>', page, re.S)
        said = plain(aka.group(1)) if aka else ""
        unsaid = [w for w in (meta.get("aka") or []) + (meta.get("code") or []) if " ".join(w.split()) not in said]
        if unsaid:
            problems.append(f"{name}: the 'Also called' line lacks {unsaid}")
        own = entries.get(url_path(source), "")
        unindexed = [w for w in shown + ([said] if said else []) if w not in own]
        if unindexed:
            problems.append(f"{name}: not in the page's own search entry: {unindexed}")
    assert not problems, "\n".join(problems)


def test_notebook_pages_have_description_tags_and_a_place_on_the_tags_page(site):
    """Notebooks have no front matter: hooks/notebooks.yml gives each a description and tags, which the
    built page carries (meta description, tag links, search index) and the tags page lists."""
    import html

    from machinery.vocabulary import NOTEBOOK_PAGES, notebook_pages

    table = notebook_pages()
    notebooks = {n.name: n for n in DOCS.rglob("*.ipynb")}
    table_name = NOTEBOOK_PAGES.relative_to(ROOT)
    problems = [f"{table_name} has no entry for {name}" for name in notebooks if name not in table]
    problems += [f"{table_name} names {name}, which is no notebook in docs/" for name in table if name not in notebooks]
    tags_page = (site / "tags" / "index.html").read_text(encoding="utf-8")
    listed = {}  # tag -> addresses the tags page lists under it
    for section in tags_page[tags_page.find("<article"):tags_page.find("</article>")].split('<h2 id="tag:')[1:]:
        tag = html.unescape(re.search(r'<span class="md-tag">(.*?)</span>', section).group(1))
        listed[tag] = set(re.findall(r'<a href="([^"#]+)">', section))
    docs = search_index(site)["docs"]
    for name, entry in table.items():
        if name not in notebooks:
            continue
        page = built_page(site, notebooks[name]).read_text(encoding="utf-8")
        description = re.search(r'<meta name="description" content="([^"]*)"', page)
        if not description or html.unescape(description.group(1)) != entry["description"]:
            problems.append(f"{name}: meta description is {description and description.group(1)!r}")
        shown = {html.unescape(t) for t in re.findall(r'class="md-tag"[^>]*>([^<]*)</a>', page)}
        if shown != set(entry["tags"]):
            problems.append(f"{name}: the page shows the tags {sorted(shown)}, the table gives {entry['tags']}")
        absent = [tag for tag in entry["tags"] if f"../{url_path(notebooks[name])}" not in listed.get(tag, ())]
        if absent:
            problems.append(f"{name}: the tags page does not list it under {absent}")
        own = [d for d in docs if d["location"] == url_path(notebooks[name])]
        if not own or own[0].get("tags") != entry["tags"] or own[0].get("boost", 1) != entry.get("boost", 1):
            problems.append(f"{name}: its search entry has tags {own and own[0].get('tags')}, "
                            f"boost {own and own[0].get('boost')}")
    assert not problems, "\n".join(problems)


def test_glossary_terms_have_unique_anchors_and_links_to_them_resolve(site):
    """Every term of the glossary has an id ({#id} after the term); every link to a glossary anchor,
    from any built page, names one of them."""
    import html

    glossary = (site / "glossary" / "index.html").read_text(encoding="utf-8")
    terms = re.findall(r"<dt(?P<attrs>[^>]*)>(?P<term>.*?)</dt>", glossary, re.S)
    written = len(re.findall(r"^\S.*\n:   ", (DOCS / "glossary.md").read_text(encoding="utf-8"), re.M))
    assert len(terms) == written > 0, f"{written} terms in docs/glossary.md, {len(terms)} built"
    ids = [re.search(r'\bid="([^"]+)"', attrs) for attrs, _ in terms]
    problems = [f"glossary term {html.unescape(term)!r} has no anchor: write `{{#id}}` after it"
                for (_, term), found in zip(terms, ids) if not found]
    anchors = [found.group(1) for found in ids if found]
    twice = sorted({a for a in anchors if anchors.count(a) > 1})
    problems += [f"two glossary terms have the anchor #{a}" for a in twice]
    target = (site / "glossary" / "index.html").resolve()
    for page in html_pages(site):
        for href, anchor in re.findall(r'<a [^>]*href="([^"#]*)#([^"]+)"', page.read_text(encoding="utf-8")):
            if href and local_file(site, page, href) == target and anchor not in anchors and anchor != "glossary":
                problems.append(f"{page.relative_to(site)} links to glossary#{anchor}, which is no term")
    assert not problems, "\n".join(problems)


def test_footer_previous_and_next_follow_the_reading_path_of_the_home_page(site):
    """hooks/reading_path.py: on the path of the home page's "Start here", each page's footer leads to
    the page before and the page after it; the home page's "Next" is the first page."""
    from machinery.reading_path import reading_path

    path = ["index.md"] + reading_path(DOCS / "index.md")
    assert len(path) > 10, path

    def footer(source: str) -> dict[str, Path]:
        built = built_page(site, DOCS / source)
        links = re.findall(r'<a href="([^"]+)" class="md-footer__link md-footer__link--(prev|next)"',
                           built.read_text(encoding="utf-8"))
        return {side: local_file(site, built, href).resolve() for href, side in links}

    problems = []
    for before, after in zip(path, path[1:]):
        if footer(before).get("next") != built_page(site, DOCS / after).resolve():
            problems.append(f"{before}: 'Next' does not lead to {after}")
        if footer(after).get("prev") != built_page(site, DOCS / before).resolve():
            problems.append(f"{after}: 'Previous' does not lead to {before}")
    assert not problems, "\n".join(problems)


def test_notebook_pages_are_named_by_their_heading(site):
    """In the navigation and the browser tab, a worked example has its own title, not its file name."""
    import json

    home = (site / "index.html").read_text(encoding="utf-8")
    for notebook in sorted(DOCS.rglob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]).splitlines()[0]
        assert first.startswith("# "), f"{notebook.relative_to(ROOT)}: the first cell should open with its # title"
        title = first[2:].strip()
        link = re.search(rf'href="{url_path(notebook)}" class="md-nav__link">\s*<span class="md-ellipsis">\s*([^<]*?)\s*<',
                         home)
        assert link and link.group(1) == title, f"{notebook.relative_to(ROOT)}: navigation shows {link and link.group(1)!r}"
        page = built_page(site, notebook).read_text(encoding="utf-8")
        assert f"<title>{title} - " in page, f"{notebook.relative_to(ROOT)}: browser tab is not titled {title!r}"


def test_prerequisites_are_pages_in_an_order_that_can_be_learnt(site):
    """Every concept page names what to know first; each is a concept page, the page shows them under
    its title, and following them never leads in a circle."""
    from mkdocs.utils.meta import get_data

    concept = {s.relative_to(DOCS).as_posix(): s for s in concept_pages()}
    needs, problems = {}, []
    for name, source in sorted(concept.items()):
        meta = get_data(source.read_text(encoding="utf-8"))[1]
        if not isinstance(meta.get("prerequisites"), list):
            problems.append(f"docs/{name}: no `prerequisites:` list in its front matter")
            continue
        needs[name] = meta["prerequisites"]
        problems += [f"docs/{name}: prerequisite {n} is not a concept page" for n in needs[name] if n not in concept]
        page = built_page(site, source)
        shown = re.search(r'<p class="prerequisites">(.*?)</p>', page.read_text(encoding="utf-8"), re.S)
        targets = {(page.parent / h).resolve() for h in re.findall(r'href="([^"]+)"', shown.group(1))} if shown else set()
        wanted = {built_page(site, concept[n]).parent.resolve() for n in needs[name] if n in concept}
        if not shown or targets != wanted:
            problems.append(f"docs/{name}: 'Know first' does not link exactly its prerequisites")

    def circle(start, path=()):
        if start in path:
            return path[path.index(start):] + (start,)
        return next((found for n in needs.get(start, []) if (found := circle(n, path + (start,)))), None)

    circles = {frozenset(found): found for n in needs if (found := circle(n))}  # one report per circle
    problems += [f"prerequisites lead in a circle: {' -> '.join(found)}" for found in circles.values()]
    assert not problems, "\n".join(problems)


def test_home_page_map_has_a_box_per_concept_page_and_an_arrow_per_prerequisite(site):
    """The map under "Start here" (hooks/links.py draws it from the front matter): one box per concept page,
    linking to it, and one arrow per prerequisite, from the prerequisite's box to the page's box."""
    import xml.etree.ElementTree as ET

    from mkdocs.utils.meta import get_data

    home = site / "index.html"
    html = home.read_text(encoding="utf-8")
    start = html.find('<h2 id="start-here">')
    section = html[start:html.find("<h2", start + 1)]
    found = re.search(r'<figure class="concept-map"[^>]*>\s*(<svg.*?</svg>)', section, re.S)
    assert start >= 0 and found, "the home page has no concept map under 'Start here'"
    svg, tag = ET.fromstring(found.group(1)), "{http://www.w3.org/2000/svg}"
    concept = {s.relative_to(DOCS).as_posix(): s for s in concept_pages()}
    page_of = {built_page(site, source).resolve(): name for name, source in concept.items()}
    boxes, problems = {}, []
    for link in svg.iter(f"{tag}a"):
        name = page_of.get(local_file(site, home, link.get("{http://www.w3.org/1999/xlink}href")))
        rect = link.find(f"{tag}rect")
        boxes.setdefault(name, []).append([float(rect.get(k)) for k in ("x", "y", "width", "height")])
    problems += [f"{len(boxes.get(name, []))} boxes link to docs/{name}, one expected"
                 for name in concept if len(boxes.get(name, [])) != 1]
    problems += [f"{len(boxes[None])} boxes link to no concept page"] if None in boxes else []

    def touches(box, x, y):  # (x, y) lies on the box's outline
        left, top, width, height = box
        return (min(abs(x - left), abs(x - left - width)) <= 0.5 and top - 0.5 <= y <= top + height + 0.5
                or min(abs(y - top), abs(y - top - height)) <= 0.5 and left - 0.5 <= x <= left + width + 0.5)

    arrows = [a for a in svg.iter(f"{tag}path") if a.get("class") == "concept-map-arrow"]
    drawn = sorted((a.get("data-from"), a.get("data-to")) for a in arrows)
    wanted = sorted((need, name) for name, source in concept.items()
                    for need in get_data(source.read_text(encoding="utf-8"))[1].get("prerequisites") or [])
    if drawn != wanted:
        problems.append(f"arrows that are no prerequisite: {sorted(set(drawn) - set(wanted))}; prerequisites "
                        f"without an arrow: {sorted(set(wanted) - set(drawn))}; arrows drawn twice: "
                        f"{sorted({d for d in drawn if drawn.count(d) > 1})}")
    for arrow in arrows:
        need, name = arrow.get("data-from"), arrow.get("data-to")
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", arrow.get("d"))]
        start_box, end_box = (boxes.get(need) or [None])[0], (boxes.get(name) or [None])[0]
        if not (start_box and end_box and touches(start_box, *numbers[:2]) and touches(end_box, *numbers[-2:])
                and arrow.get("marker-end")):
            problems.append(f"the arrow {need} -> {name} does not run from box to box, head at the page")
    assert not problems, "\n".join(problems)


def review_items() -> dict[Path, tuple[list, list]]:
    """Each concept page's (questions, remember points), read as the review hook reads them."""
    from machinery.questions import questions, remember_points

    items = {}
    for source in concept_pages():
        lines = source.read_text(encoding="utf-8").splitlines()
        items[source] = (questions(lines), remember_points(lines))
    return items


def test_review_sheet_links_every_concept_page_with_its_points_and_questions(site):
    html = (site / "review" / "index.html").read_text(encoding="utf-8")
    article = html[html.find('<article'):html.find("</article>")]
    problems = []
    for source, (asked, points) in review_items().items():
        link = f'href="../{url_path(source)}"'
        start = article.find(link)
        if start < 0:
            problems.append(f"{source.relative_to(ROOT)}: not linked from the review sheet")
            continue
        end = article.find("<h3", start)
        part = article[start:end if end > 0 else None]
        shown = part.count('<details class="question')
        if shown != len(asked):
            problems.append(f"{source.relative_to(ROOT)}: {len(asked)} questions, the sheet shows {shown}")
        if part.count("<li>") < len(points):
            problems.append(f"{source.relative_to(ROOT)}: {len(points)} Remember points, the sheet lists fewer")
    assert not problems, "\n".join(problems)
    assert 'href="flashcards.txt"' in article


def test_flashcards_import_into_anki_and_link_back_to_their_question(site):
    """Anki's plain-text import: '#key:value' header lines, then front, back and tags, tab-separated."""
    import csv

    text = (site / "review" / "flashcards.txt").read_text(encoding="utf-8")
    header = dict(line[1:].split(":", 1) for line in text.splitlines() if line.startswith("#"))
    assert header["separator"] == "tab" and header["html"] == "true" and header["tags column"] == "3"
    rows = list(csv.reader([line for line in text.splitlines() if not line.startswith("#")],
                           delimiter="\t", quoting=csv.QUOTE_NONE))
    asked = sum(len([q for q in qs if q.answer]) for qs, _ in review_items().values())
    assert len(rows) == asked >= 90, (len(rows), asked)
    problems = []
    for front, back, tags in rows:
        href = re.search(r'<p><a href="([^"]+)">[^<]*</a>[^<]*</p>$', back)  # the last paragraph: the way back
        link = urlparse(href.group(1))  # the site is built for the root of its host
        page, anchor = site / link.path.lstrip("/") / "index.html", link.fragment
        if not page.is_file() or f'id="{anchor}"' not in page.read_text(encoding="utf-8"):
            problems.append(f"{front}: links to {href.group(1)}, which is no page and heading of the site")
        if "Answer:" not in back or not tags.startswith("dl-study-notes"):
            problems.append(f"{front}: back {back[:60]!r}..., tags {tags!r}")
    assert not problems, "\n".join(problems[:10])
