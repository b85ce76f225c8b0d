"""MkDocs hook: serve KaTeX from the site itself and refuse malformed TeX at build time.

* KaTeX comes from the npm package pinned in package.json (``npm ci``); its script, stylesheet
  and fonts are added to the site under ``assets/katex/``, so no page loads math from a CDN.
* Every formula that pymdownx.arithmatex (generic mode) leaves in a page is parsed by the same
  KaTeX in Node once per build. A formula KaTeX rejects is a warning naming the page, the formula
  and KaTeX's reason, which ``mkdocs build --strict`` turns into a failed build.
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
CHECKER = Path(__file__).resolve().parent / "check_math.cjs"
ASSET_DIR = "assets/katex"

# arithmatex (generic: true) wraps inline math as <span class="arithmatex">\(...\)</span> and
# display math as <div class="arithmatex">\[...\]</div>.
MATH_RE = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.DOTALL,
)

_formulas: list[dict] = []


def _katex_files() -> list[Path]:
    names = [KATEX_DIST / "katex.min.js", KATEX_DIST / "katex.min.css", KATEX_DIST / "contrib" / "auto-render.min.js"]
    if not all(p.is_file() for p in names):
        raise PluginError(
            f"KaTeX is missing from {KATEX_DIST}. Run `npm ci` in {ROOT} (the Makefile does it)."
        )
    return names + sorted((KATEX_DIST / "fonts").glob("*.woff2"))


def on_pre_build(config, **kwargs):
    _formulas.clear()


def on_files(files, config, **kwargs):
    for path in _katex_files():
        rel = path.relative_to(KATEX_DIST).as_posix()
        files.append(File.generated(config, f"{ASSET_DIR}/{rel}", abs_src_path=str(path)))
    return files


# Notebook markdown cells keep their TeX between $...$ / $$...$$ (mkdocs-jupyter does not use arithmatex).
NOTEBOOK_MATH_RE = re.compile(r"\$\$(?P<display>.+?)\$\$|\$(?P<inline>[^$\n]+?)\$", re.DOTALL)


def notebook_formulas(page):
    import nbformat

    notebook = nbformat.read(page.file.abs_src_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in NOTEBOOK_MATH_RE.finditer(cell.source):
                display = match["display"] is not None
                yield {"page": page.file.src_uri, "tex": match["display"] if display else match["inline"],
                       "display": display}


def on_page_content(page_html, page, **kwargs):
    if page.file.src_uri.endswith(".ipynb"):
        _formulas.extend(notebook_formulas(page))
        return page_html
    for match in MATH_RE.finditer(page_html):
        _formulas.append(
            {
                "page": page.file.src_uri,
                "tex": html.unescape(match["tex"]),
                "display": match["open"] == "[",
            }
        )
    return page_html


def on_post_build(config, **kwargs):
    if not _formulas:
        return
    node = shutil.which("node")
    if node is None:
        raise PluginError("Node.js is needed to check the math with KaTeX at build time.")
    result = subprocess.run(
        [node, str(CHECKER)],
        input=json.dumps(_formulas),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise PluginError(f"The KaTeX checker failed to run:\n{result.stderr}")
    for problem in json.loads(result.stdout):
        formula = _formulas[problem["index"]]
        log.warning(
            "Doc file '%s' contains malformed TeX %r: %s",
            formula["page"],
            formula["tex"].strip(),
            problem["message"],
        )
