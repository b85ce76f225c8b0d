"""MkDocs hook: notebook pages (mkdocs-jupyter) load nothing from other hosts and show math like
every other page.

mkdocs-jupyter's template carries a MathJax loader (with an empty source unless a CDN is set) and
a mermaid loader that imports from cdnjs. Both are removed; notebook math is typeset by the site's
own KaTeX at build time (hooks/katex.py), which also rejects malformed TeX.

Notebooks are executed here, not by mkdocs-jupyter (whose `execute` is off): as many at a time as
there are cores, starting when the file list is known so that they run while the Markdown pages are
processed. Each core's kernel runs its notebooks one after another, its namespace emptied before
each, so torch and matplotlib are imported once per kernel rather than once per notebook. The first
notebook page waits for all of them: a cell that raises, or that shows an error (a figure that
cannot be drawn), fails the build, every notebook's faults reported together, naming notebook and
cell. Executed copies are kept in .cache/notebooks/, keyed by the notebook's bytes, so an unchanged
notebook is not run again. The download button offers the notebook as stored (without outputs),
not the executed copy.

mkdocs-jupyter also leaves links in markdown cells as written (`../training/gradient-descent.md`),
which MkDocs neither rewrites nor validates for notebook pages. Here they are rewritten to the built
page's URL, and a link to a missing page or a missing heading is a warning naming the notebook
(so `mkdocs build --strict` fails), as it is for Markdown pages.
"""

import hashlib
import logging
import os
import re
import shutil
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from machinery.inventory import resolve

log = logging.getLogger("mkdocs.hooks.notebooks")
CACHE = Path(".cache") / "notebooks"
_pool = None
_runs = {}  # src_uri -> (stored notebook path, future of the executed copy's path)
_local = threading.local()  # one kernel per pool thread, reused for the notebooks that thread runs
_kernels = []


def kernel():
    """This thread's kernel: one thread of torch each, since they run side by side, one per core."""
    from jupyter_client.manager import KernelManager

    manager = getattr(_local, "manager", None)
    if manager is None or not manager.is_alive():
        manager = KernelManager(kernel_name="python3")
        env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # Agg would hide figures
        # No history database: the kernel is reused and its cell count reset for each notebook, which
        # the database takes for a clash and reports in the next cell's output ("Session/line number
        # was not unique in database").
        manager.start_kernel(extra_arguments=["--HistoryManager.enabled=False"],
                             env=dict(env, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE"))
        _local.manager = manager
        _kernels.append(manager)
    return manager


def fresh_namespace(manager, folder: Path):
    """Make a used kernel look new to the next notebook: empty namespace, no figures, its own folder.
    Imports stay loaded, which is the point: torch and matplotlib are imported once per kernel."""
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(  # not counted: the notebook's cells are numbered from 1
            f"%reset -f\nimport os as _os, matplotlib.pyplot as _plt\n_plt.close('all')\n_os.chdir({str(folder)!r})\n"
            "del _os, _plt\nget_ipython().execution_count = 1", store_history=False, timeout=60,
            output_hook=lambda message: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"could not reset the kernel: {reply['content']}")
    finally:
        client.stop_channels()


class ShownErrors(Exception):
    """Cells that ran but show an error output; args[0] lists them."""


def prepare(stored: Path, executed: Path) -> Path:
    """The executed copy of ``stored`` (from the cache, or run now in this thread's kernel), or
    ``stored`` itself when it has no code. Raises if a cell fails or shows an error."""
    import nbformat
    from nbclient import NotebookClient

    if executed.exists():
        notebook = nbformat.read(executed, as_version=4)
    else:
        notebook = nbformat.read(stored, as_version=4)
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            return stored  # nothing to run: no kernel to start
        manager = kernel()
        fresh_namespace(manager, stored.parent)
        NotebookClient(notebook, km=manager, timeout=600, allow_errors=False).execute()
        executed.parent.mkdir(parents=True, exist_ok=True)
        partial = executed.with_suffix(".partial")
        nbformat.write(notebook, partial)
        partial.replace(executed)  # whole or absent: an interrupted build leaves no half-written cache
    shown = error_outputs(notebook)
    if shown:
        raise ShownErrors(shown)
    return executed


def stop_kernels():
    while _kernels:
        manager = _kernels.pop()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def cache_key(stored: Path) -> str:
    from importlib.metadata import version  # not `import torch`: a second of start-up for a string

    digest = hashlib.sha256(stored.read_bytes())
    digest.update(Path(__file__).read_bytes())  # how it is run: a change here runs every notebook again
    digest.update(f"{sys.version} torch {version('torch')} {os.environ.get('CUDA_VISIBLE_DEVICES')}".encode())
    return digest.hexdigest()[:24]


def start_notebooks(files, config):
    """Start preparing every notebook: run it unless the cache has its executed copy."""
    global _pool
    _runs.clear()
    notebooks = [f for f in files if f.src_uri.endswith(".ipynb")]
    if not notebooks:
        return
    _pool = _pool or ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="notebook")
    root = Path(config["config_file_path"]).parent
    for file in notebooks:
        stored = Path(file.abs_src_path)
        executed = root / CACHE / cache_key(stored) / stored.name  # same name: the page's links use it
        _runs[file.src_uri] = (stored, _pool.submit(prepare, stored, executed))


@event_priority(100)  # before mkdocs-jupyter reads the notebook in its own on_pre_page
def on_pre_page(page, **kwargs):
    run = _runs.get(page.file.src_uri)
    if run is None:
        return page
    problems = []  # every notebook's, reported together at the first notebook page
    for src_uri, (_stored, future) in _runs.items():
        error = future.exception()
        if isinstance(error, ShownErrors):
            problems += [f"notebook '{src_uri}' {shown}" for shown in error.args[0]]
        elif error is not None:  # nbclient's CellExecutionError shows the cell and its traceback
            problems.append(f"notebook '{src_uri}' failed while executing:\n{error}")
    if problems:
        raise PluginError("\n\n".join(problems))
    page.file.abs_src_path = str(run[1].result())
    return page


def error_outputs(notebook) -> list[str]:
    """What a cell shows that its code did not mean to: an error shown without failing (a figure that
    cannot be drawn fails in the kernel's display hook after the cell has succeeded, and the page
    would show its traceback), and anything written to stderr (warnings, kernel or library noise)."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    shown = []
    for number, cell in enumerate(code_cells, 1):
        for output in cell.outputs:
            if output.output_type == "error":
                shown.append(f"code cell {number} shows an error: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                shown.append(f"code cell {number} prints to stderr: {output.text.strip()[:300]}")
    return shown


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
    start_notebooks(files, config)


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


def on_build_error(error, **kwargs):
    stop_kernels()


def on_post_build(config, **kwargs):
    stop_kernels()
    for source, written, target, anchor in _anchors_to_check:
        built = PurePosixPath(config["site_dir"]) / target.dest_uri
        html = open(built, encoding="utf-8").read()
        if f'id="{anchor}"' not in html:
            log.warning(f"Doc file '{source}' contains a link '{written}', but there is no such anchor "
                        f"on this page.")


def on_page_content(html, page, **kwargs):
    """Code and printed output stay out of the search index, which the search plugin builds from this
    HTML next: a notebook is found by its prose, as a page is, not by every line of its code. The
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
    html = html.replace('<div class="clipboard-copy-txt"', '<div data-search-exclude class="clipboard-copy-txt"')
    return html.replace('<span class="notice"', '<span data-search-exclude class="notice"')


def on_post_page(output, page, **kwargs):
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    stored, _ = _runs[page.file.src_uri]
    folder = Path(page.file.abs_dest_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stored, folder / stored.name)  # the download: as stored, without outputs
    output = rewrite_links(MERMAID.sub("", MATHJAX.sub("", output)), page)
    return output.replace('<div class="jupyter-wrapper"', download_button(page) + '<div class="jupyter-wrapper"', 1)
