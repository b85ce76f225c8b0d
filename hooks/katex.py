"""MkDocs hook: math is typeset by KaTeX at build time, and KaTeX is served from the site itself.

* KaTeX comes from the npm package pinned in package.json (``npm ci``); its stylesheet and fonts
  (which the typeset math needs) are added to the site under ``assets/katex/``, so no page loads
  math from a CDN. No page runs KaTeX in the browser: the built HTML already holds the typeset math.
* Every formula pymdownx.arithmatex (generic mode) leaves in a Markdown page, and every ``$...$`` /
  ``$$...$$`` in a notebook's markdown cells (mkdocs-jupyter does not use arithmatex), is collected
  in ``on_page_content`` and rendered, all pages' formulas together, by one Node process
  (render_math.cjs) in ``on_env``, which MkDocs calls once every page's content is known
  and before any page is written. ``on_post_page`` then puts KaTeX's HTML (with MathML for screen
  readers) in place of the delimited TeX, inside the arithmatex element.
* A formula KaTeX rejects is a warning naming the page, the formula and KaTeX's reason, which
  ``mkdocs build --strict`` turns into a failed build.
* The search index is unchanged: Material's search plugin indexes ``page.content`` before
  ``on_post_page``, so it holds each formula's TeX source, not KaTeX's HTML and MathML.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.katex")

ROOT = Path(__file__).resolve().parent.parent
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = Path(__file__).resolve().parent / "render_math.cjs"
ASSET_DIR = "assets/katex"

# arithmatex (generic: true) wraps inline math as <span class="arithmatex">\(...\)</span> and
# display math as <div class="arithmatex">\[...\]</div>.
MATH_RE = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.DOTALL,
)
# Notebook markdown cells (mkdocs-jupyter) keep their TeX, HTML-escaped, between $...$ / $$...$$.
# A cell's rendered markdown runs from its jp-RenderedMarkdown element to the next cell (or the
# end of the page's article).
NOTEBOOK_CELL_RE = re.compile(
    r'(<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>)(.*?)(?=<div class="jp-Cell\b|</article>|\Z)', re.DOTALL
)
NOTEBOOK_MATH_RE = re.compile(r"\$\$(?P<display>[^<]+?)\$\$|\$(?P<inline>[^$<\n]+?)\$")

_formulas: dict[tuple[str, bool], set[str]] = {}  # (tex, display) -> the pages that hold it
_rendered: dict[tuple[str, bool], str] = {}  # (tex, display) -> KaTeX's HTML


def _katex_files() -> list[Path]:
    names = [KATEX_DIST / "katex.min.css"]  # katex.min.js: no page runs KaTeX
    if not all(p.is_file() for p in names):
        raise PluginError(
            f"KaTeX is missing from {KATEX_DIST}. Run `npm ci` in {ROOT} (the Makefile does it)."
        )
    return names + sorted((KATEX_DIST / "fonts").glob("*.woff2"))


def on_pre_build(config, **kwargs):
    _formulas.clear()
    _rendered.clear()


def on_files(files, config, **kwargs):
    for path in _katex_files():
        rel = path.relative_to(KATEX_DIST).as_posix()
        files.append(File.generated(config, f"{ASSET_DIR}/{rel}", abs_src_path=str(path)))
    return files


def _is_notebook(page) -> bool:
    return page.file.src_uri.endswith(".ipynb")


def _replace(page_html: str, notebook: bool, typeset) -> str:
    """page_html with each formula replaced by typeset(tex, display, whole match)."""
    if notebook:
        def cell(match):
            body = NOTEBOOK_MATH_RE.sub(
                lambda m: typeset(html.unescape(m["display"] if m["display"] is not None else m["inline"]),
                                  m["display"] is not None, m[0]),
                match[2],
            )
            return match[1] + body

        return NOTEBOOK_CELL_RE.sub(cell, page_html)

    def formula(match):
        inner = typeset(html.unescape(match["tex"]), match["open"] == "[", None)
        return f'<{match["tag"]} class="arithmatex">{inner}</{match["tag"]}>' if inner is not None else match[0]

    return MATH_RE.sub(formula, page_html)


def on_page_content(page_html, page, **kwargs):
    def collect(tex, display, whole):
        _formulas.setdefault((tex, display), set()).add(page.file.src_uri)
        return whole if whole is not None else ""

    _replace(page_html, _is_notebook(page), collect)
    return page_html


def _render(formulas: list[tuple[str, bool]]) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        raise PluginError("Node.js is needed to typeset the math with KaTeX at build time.")
    result = subprocess.run(
        [node, str(RENDERER)],
        input=json.dumps([{"tex": tex, "display": display} for tex, display in formulas]),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise PluginError(f"KaTeX failed to run:\n{result.stderr}")
    return json.loads(result.stdout)


def on_env(env, config, files, **kwargs):
    formulas = list(_formulas)
    if not formulas:
        return env
    for (tex, display), outcome in zip(formulas, _render(formulas)):
        if "html" in outcome:
            _rendered[(tex, display)] = outcome["html"]
            continue
        for page in sorted(_formulas[(tex, display)]):
            log.warning("Doc file '%s' contains malformed TeX %r: %s", page, tex.strip(), outcome["error"])
    return env


def on_post_page(output, page, config, **kwargs):
    def typeset(tex, display, whole):
        # a formula that failed is already reported: it is left as TeX
        rendered = _rendered.get((tex, display))
        if rendered is None and (tex, display) not in _formulas:  # added after on_page_content
            _formulas.setdefault((tex, display), set()).add(page.file.src_uri)
            outcome = _render([(tex, display)])[0]
            if "html" in outcome:
                rendered = _rendered[(tex, display)] = outcome["html"]
            else:
                log.warning("Doc file '%s' contains malformed TeX %r: %s", page.file.src_uri, tex.strip(),
                            outcome["error"])
        if rendered is None:
            return whole
        return rendered

    return _replace(output, _is_notebook(page), typeset)
