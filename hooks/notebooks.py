"""MkDocs hook: notebook pages (mkdocs-jupyter) load nothing from other hosts and show math like
every other page.

mkdocs-jupyter's template carries a MathJax loader (with an empty source unless a CDN is set) and
a mermaid loader that imports from cdnjs. Both are removed; notebook math is typeset by the site's
own KaTeX (javascripts/katex-init.js) and checked at build time by hooks/katex.py.

Notebooks are executed here, not by mkdocs-jupyter (whose `execute` is off): all at once, one kernel
per notebook and as many at a time as there are cores, starting when the file list is known so that
they run while the Markdown pages are processed. Each page waits for its own notebook; a cell that
raises fails the build, naming the notebook and the cell. Executed copies are kept in
.cache/notebooks/, keyed by the notebook's bytes, so an unchanged notebook is not run again. The
download button offers the notebook as stored (without outputs), not the executed copy.

mkdocs-jupyter also leaves links in markdown cells as written (`../training/gradient-descent.md`),
which MkDocs neither rewrites nor validates for notebook pages. Here they are rewritten to the built
page's URL, and a link to a missing page or a missing heading is a warning naming the notebook
(so `mkdocs build --strict` fails), as it is for Markdown pages.
"""

import hashlib
import logging
import os
import posixpath
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.notebooks")
CACHE = Path(".cache") / "notebooks"
_pool = None
_runs = {}  # src_uri -> (stored notebook path, future of the executed copy's path)


def execute(stored: Path, executed: Path) -> Path:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(stored, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=False,
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(stored.parent)}})
    # Kernels run side by side, one per core: one thread each, waiting without spinning.
    client.execute(env=dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE"))
    executed.parent.mkdir(parents=True, exist_ok=True)
    partial = executed.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(executed)  # whole or absent: an interrupted build leaves no half-written cache
    return executed


def has_code(stored: Path) -> bool:
    import nbformat

    return any(cell.cell_type == "code" for cell in nbformat.read(stored, as_version=4).cells)


def cache_key(stored: Path) -> str:
    import torch

    digest = hashlib.sha256(stored.read_bytes())
    digest.update(f"{sys.version} torch {torch.__version__} {os.environ.get('CUDA_VISIBLE_DEVICES')}".encode())
    return digest.hexdigest()[:24]


def start_notebooks(files, config):
    """Start executing every notebook that has no executed copy in the cache yet."""
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
        if executed.exists() or not has_code(stored):  # nothing to run: no kernel to start
            executed = executed if executed.exists() else stored
            _runs[file.src_uri] = (stored, _pool.submit(lambda path=executed: path))
        else:
            _runs[file.src_uri] = (stored, _pool.submit(execute, stored, executed))


@event_priority(100)  # before mkdocs-jupyter reads the notebook in its own on_pre_page
def on_pre_page(page, **kwargs):
    run = _runs.get(page.file.src_uri)
    if run is None:
        return page
    stored, future = run
    try:
        page.file.abs_src_path = str(future.result())
    except Exception as error:  # nbclient's CellExecutionError shows the cell and its traceback
        raise PluginError(f"notebook '{page.file.src_uri}' failed while executing:\n{error}") from None
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
    start_notebooks(files, config)


def rewrite_links(output, page):
    """`../x/y.md#h` in a notebook's markdown -> the built page's URL relative to this page."""
    def replace(match):
        written, anchor = match["path"], match["anchor"]
        target_uri = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), unquote(written)))
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
    for source, written, target, anchor in _anchors_to_check:
        built = PurePosixPath(config["site_dir"]) / target.dest_uri
        html = open(built, encoding="utf-8").read()
        if f'id="{anchor}"' not in html:
            log.warning(f"Doc file '{source}' contains a link '{written}', but there is no such anchor "
                        f"on this page.")


def on_post_page(output, page, **kwargs):
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    stored, _ = _runs[page.file.src_uri]
    folder = Path(page.file.abs_dest_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(stored, folder / stored.name)  # the download: as stored, without outputs
    output = rewrite_links(MERMAID.sub("", MATHJAX.sub("", output)), page)
    return output.replace('<div class="jupyter-wrapper"', download_button(page) + '<div class="jupyter-wrapper"', 1)
