"""MkDocs hook: notebook pages (mkdocs-jupyter) load nothing from other hosts and show math like
every other page.

mkdocs-jupyter's template carries a MathJax loader (with an empty source unless a CDN is set) and
a mermaid loader that imports from cdnjs. Both are removed; notebook math is typeset by the site's
own KaTeX at build time (hooks/katex.py), which also rejects malformed TeX.

Notebooks are executed here, not by mkdocs-jupyter (whose `execute` is off), and not in a Jupyter
kernel: machinery.notebooks runs each one in this process, cell by cell, under the same guards as a
page's code (seeds, no sockets, the time limit), when the file list is known. Every fault is a
warning naming notebook and cell, so the strict build fails on it: a cell that raises, and anything
a cell shows that its code did not mean to (stderr, a warning, a figure that cannot be drawn).
Executed copies and their records are kept in .cache/notebooks/, keyed by the notebook's bytes,
torch, the settings and the executor (machinery.notebooks.key), so an unchanged notebook
is not run again (NOTES_FRESH=1 runs it anyway). With NOTES_BUILD_RECORDS=1 (the test suite's build)
each notebook's record is also written beside the built site, in records/, for the suite to read
instead of running the notebook a second time. The download button offers the notebook as stored
(without outputs), not the executed copy.

mkdocs-jupyter also leaves links in markdown cells as written (`../training/gradient-descent.md`),
which MkDocs neither rewrites nor validates for notebook pages. Here they are rewritten to the built
page's URL, and a link to a missing page or a missing heading is a warning naming the notebook
(so `mkdocs build --strict` fails), as it is for Markdown pages.
"""

import json
import logging
import re
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from mkdocs.plugins import event_priority

from machinery import cache, execute, notebooks
from machinery.inventory import resolve
from machinery.records import recording, write_build_records

log = logging.getLogger("mkdocs.hooks.notebooks")
CACHE = Path(".cache") / "notebooks"
_runs = {}  # src_uri -> (stored notebook path, executed copy's path, record)


def prepare(stored: Path, name: str, folder: Path) -> tuple[Path, dict | None, list[str]]:
    """The executed copy of ``stored`` in ``folder`` (from the cache, or run now), its record and its
    faults; ``stored`` itself, without a record, when it has no code. Raises if a cell fails."""
    import nbformat

    executed, recorded = folder / stored.name, folder / "record.json"  # same name: the page's links use it
    if recorded.exists() and executed.exists() and not cache.fresh():
        return executed, json.loads(recorded.read_text(encoding="utf-8")), []
    if not any(cell.cell_type == "code" for cell in nbformat.read(stored, as_version=4).cells):
        return stored, None, []
    if recording():  # once: the first notebook's CPU seconds are its own, not the imports'
        execute.warm_imports()
    run = notebooks.run(stored, name)
    if run.faults:
        return stored, None, run.faults
    cache.write_whole(executed, nbformat.writes(run.notebook))  # an interrupted build leaves no half-written cache
    cache.write_whole(recorded, json.dumps(run.record, indent=1))
    return executed, run.record, []


def run_notebooks(files, config):
    """Run (or take from the cache) every notebook. Each fault is a warning naming the notebook and cell,
    so that `mkdocs build --strict` fails with every fault of the build reported, notebooks, figure
    blocks and links alike; the page of a failed notebook shows it as stored, without outputs."""
    _runs.clear()
    root = Path(config["config_file_path"]).parent
    for file in files:
        if not file.src_uri.endswith(".ipynb"):
            continue
        stored, name = Path(file.abs_src_path), f"docs/{file.src_uri}"
        try:
            executed, record, faults = prepare(stored, name, root / CACHE / notebooks.key(stored))
        except Exception as error:  # noqa: BLE001: reported with the rest, below
            executed, record, faults = stored, None, [f"failed while executing: {str(error).removeprefix(name + ' ')}"]
        for fault in faults:
            log.warning(f"notebook '{file.src_uri}' {fault.removeprefix(name + ' ')}")
        _runs[file.src_uri] = (stored, executed, record)


@event_priority(100)  # before mkdocs-jupyter reads the notebook in its own on_pre_page
def on_pre_page(page, **kwargs):
    run = _runs.get(page.file.src_uri)
    if run is not None:
        page.file.abs_src_path = str(run[1])
    return page


MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.DOTALL)


def download_button(page) -> str:
    """The stored notebook is copied beside its page (on_post_page); link to it."""
    name = PurePosixPath(page.file.src_uri).name
    return (f'<p><a class="md-button" href="{name}" download>Download the notebook ({name})</a> '
            "Stored without outputs: run it to see them.</p>")


LINK = re.compile(r'href="(?P<path>[^":#?]+\.(?:md|ipynb))(?:#(?P<anchor>[^"]*))?"')
_files = None
_anchors_to_check = []  # (notebook, link as written, target file, anchor)


def on_files(files, config, **kwargs):
    global _files
    _files = files
    _anchors_to_check.clear()
    run_notebooks(files, config)


def rewrite_links(output, page):
    """`../x/y.md#h` in a notebook's markdown -> the built page's URL relative to this page."""
    def replace(match):
        written, anchor = match["path"], match["anchor"]
        target_uri = resolve(page.file.src_uri, unquote(written))
        target = _files.get_file_from_path(target_uri) if _files else None
        if target is None:
            log.warning(f"Doc file '{page.file.src_uri}' contains a link '{written}', but the target "
                        f"'{target_uri}' is not found among documentation files.")
            return match.group(0)
        if anchor:
            _anchors_to_check.append((page.file.src_uri, f"{written}#{anchor}", target, anchor))
        url = target.url_relative_to(page.file)
        return f'href="{url}#{anchor}"' if anchor else f'href="{url}"'

    return LINK.sub(replace, output)


def on_post_build(config, **kwargs):
    write_build_records(config["site_dir"], {src: record for src, (_, _, record) in _runs.items() if record})
    for source, written, target, anchor in _anchors_to_check:
        built = PurePosixPath(config["site_dir"]) / target.dest_uri
        html = open(built, encoding="utf-8").read()
        if f'id="{anchor}"' not in html:
            log.warning(f"Doc file '{source}' contains a link '{written}', but there is no such anchor "
                        f"on this page.")


def on_page_content(html, page, **kwargs):
    """A notebook page's title, its wide code cells reachable from the keyboard, and its code and
    printed output kept out of the search index, which the search plugin builds from this HTML next:
    a notebook is found by its prose, as a page is, not by every line of its code. The exclusion
    attribute goes on the innermost elements (each <pre>, the copy buttons' hidden copy of the code
    and their "Copied!"), because the plugin ends an exclusion at the first closing tag of the same
    name, even a nested one."""
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    # The notebook's own heading names it in the navigation, the footer and the browser tab (left
    # alone, MkDocs would title it from the file name: "Sgd on a line"). Every page is converted
    # before any is rendered, so the navigation of every page sees this title.
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    if heading:
        page.title = re.sub(r"<[^>]+>", "", heading.group(1)).replace("¶", "").strip()
    html = re.sub(r"<pre(?=[\s>])", "<pre data-search-exclude", html)
    # A code cell wider than the page scrolls sideways: focusable, so that a reader on the keyboard can
    # scroll it too, as Material makes its own code blocks (axe: scrollable-region-focusable)
    html = html.replace('<div class="highlight-ipynb', '<div tabindex="0" class="highlight-ipynb')
    html = html.replace('<div class="clipboard-copy-txt"', '<div data-search-exclude class="clipboard-copy-txt"')
    return html.replace('<span class="notice"', '<span data-search-exclude class="notice"')


def on_post_page(output, page, **kwargs):
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    stored = _runs[page.file.src_uri][0]
    folder = Path(page.file.abs_dest_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stored, folder / stored.name)  # the download: as stored, without outputs
    output = rewrite_links(MERMAID.sub("", MATHJAX.sub("", output)), page)
    return output.replace('<div class="jupyter-wrapper"', download_button(page) + '<div class="jupyter-wrapper"', 1)
