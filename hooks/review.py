"""MkDocs hook: the review sheet (review/) and the flashcards (review/flashcards.txt), generated.

Both are drawn from the concept pages' own Markdown when the file list is known: every page's "Remember"
points and its check-yourself questions (machinery.questions reads them, the same reader the test harness
uses to check each answer against what the question's code prints). Nothing is typed twice, so the sheet
and the cards say what the pages say. The sheet groups pages by their navigation section and links each
back; it prints without navigation chrome, answers open (stylesheets/extra.css, javascripts/print.js).
The flashcards are Anki's plain-text import format: front, back, tags, one card per question.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

import markdown as md
from markdown.extensions.toc import slugify
from mkdocs.structure.files import File
from mkdocs.utils.meta import get_data

from machinery.inventory import PAGE_LINK, is_concept, resolve
from machinery.questions import MISCONCEPTION, questions, remember_points

SHEET = "review/index.md"
CARDS = "review/flashcards.txt"
CARD_DECK = "Deep-learning study notes"
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def sections_of(nav) -> list[tuple[str, list[str]]]:
    """[(section title, [page src_uri, ...]), ...] in navigation order, for the top-level sections."""
    found = []
    for item in nav or []:
        if isinstance(item, dict):
            for title, children in item.items():
                if isinstance(children, list):
                    pages = [c if isinstance(c, str) else next(iter(c.values())) for c in children]
                    found.append((title, [p for p in pages if isinstance(p, str) and is_concept(p)]))
    return [(title, pages) for title, pages in found if pages]


def relink(text: str, page: str, here: str) -> str:
    """Rewrite the page's relative links so that they work from `here` (a docs-relative folder)."""
    def fix(m):
        return f"]({posixpath.relpath(resolve(page, m['target']), here)}{m['anchor'] or ''})"
    return PAGE_LINK.sub(fix, text)


def read_page(file) -> dict:
    text = Path(file.abs_src_path).read_text(encoding="utf-8")
    body, meta = get_data(text)
    lines = body.splitlines()
    return {"src": file.src_uri, "url": file.url, "title": meta.get("title") or file.src_uri,
            "tags": meta.get("tags") or [], "remember": remember_points(lines), "questions": questions(lines)}


def sheet_markdown(sections, pages) -> str:
    here = posixpath.dirname(SHEET)
    count = sum(len(p["questions"]) for p in pages.values())
    out = [
        "---", "title: Review sheet",
        "description: Every concept page's points to remember and its check-yourself questions on one page, "
        "grouped by section, with answers computed by the pages' code.",
        "hide:", "  - navigation", "---", "",
        "# Review sheet", "",
        f"Every concept page's **Remember** points and its **Check yourself** questions ({count} in all), on one "
        "page. Answer each question before you open it; every value in an answer is printed by code the test "
        "suite runs on the page, which the link under each page title leads to. Printing this page "
        "(++ctrl+p++) leaves out the navigation and prints every answer open.", "",
        f"To review on a schedule, import [the flashcards]({posixpath.relpath(CARDS, here)}) into Anki "
        "(*File → Import*; the file says which column is which): one card per question, tagged with the "
        "page's tags, the back linking to the page.", "",
    ]
    for section, sources in sections:
        out += [f"## {section}", ""]
        for src in sources:
            page = pages.get(src)
            if page is None:
                continue
            out += [f"### [{page['title']}]({posixpath.relpath(src, here)})", ""]
            out += [f"- {relink(point, src, here)}" for point in page["remember"]] + [""]
            for q in page["questions"]:
                classes = " ".join(["question", *q.classes])
                out.append(f'??? {classes} "{q.title}"')
                body = [q.answer, "", *q.explanation, "",
                        f"[The code that computes this answer]({posixpath.relpath(src, here)}#{slugify(q.section, '-')})"]
                out += [("    " + relink(line, src, here)) if line.strip() else "" for line in body] + [""]
    return "\n".join(out) + "\n"


def absolute_links(text: str, page: str, site_url: str) -> str:
    """A card lives outside the site: its links must be absolute."""
    def fix(m):
        url = re.sub(r"(^|/)index\.md$", r"\1", resolve(page, m["target"]))
        url = re.sub(r"\.(md|ipynb)$", "/", url)
        return f"]({site_url.rstrip('/')}/{url}{m['anchor'] or ''})"
    return PAGE_LINK.sub(fix, text)


def card_html(text: str) -> str:
    """Markdown to one line of HTML for Anki, with math in MathJax delimiters Anki renders."""
    maths = []

    def keep(m):
        maths.append(rf"\[{m.group(1)}\]" if m.group(1) is not None else rf"\({m.group(2)}\)")
        return f"\x00{len(maths) - 1}\x00"

    rendered = md.markdown(MATH.sub(keep, text), extensions=["attr_list"])
    rendered = re.sub(r"\x00(\d+)\x00", lambda m: html.escape(maths[int(m.group(1))], quote=False), rendered)
    return re.sub(r"\s*\n\s*", " ", rendered).replace("\t", " ").strip()


def cards_text(pages, site_url: str) -> str:
    lines = ["#separator:tab", "#html:true", "#columns:Front\tBack\tTags", "#tags column:3",
             f"#deck:{CARD_DECK}", "#notetype:Basic"]
    for page in pages.values():
        tags = " ".join(["dl-study-notes", *(t.replace(" ", "_") for t in page["tags"])])
        for q in page["questions"]:
            if not q.answer:
                continue
            link = f"{site_url.rstrip('/')}/{page['url']}#{slugify(q.section, '-')}"
            front = card_html(f"**{page['title']}**: {q.title}")
            prose = [absolute_links(line, page["src"], site_url) for line in q.explanation]
            back = card_html("\n".join([q.answer, "", *prose])) + (
                f' <p><a href="{html.escape(link)}">{html.escape(page["title"])}: {html.escape(q.section)}</a>'
                + (" (a misconception)" if MISCONCEPTION in q.classes else "") + "</p>")
            lines.append("\t".join([front, back, tags]))
    return "\n".join(lines) + "\n"


def on_files(files, config, **kwargs):
    pages = {f.src_uri: read_page(f) for f in files.documentation_pages() if is_concept(f.src_uri)}
    sections = sections_of(config["nav"])
    files.append(File.generated(config, SHEET, content=sheet_markdown(sections, pages)))
    files.append(File.generated(config, CARDS, content=cards_text(pages, config["site_url"] or "")))
    return files
