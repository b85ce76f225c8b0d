"""MkDocs hook: figures drawn by the page's own code when the site is built.

A Python block fenced as ```python figure="Caption" is highlighted like any other block, run at
build time (in a fresh namespace, matplotlib on the Agg backend, under the guards the test suite
uses: machinery.execute's seeds reset, sockets refused and time limit), and every matplotlib figure
it leaves open is inserted after it as inline SVG with the caption. Nothing is pasted: the picture
is always the one the code draws now. The test suite runs the same block in page order like every
other block.

Drawn figures are kept in .cache/figures/, under a digest of everything the drawing depends on: the
block's code, the torch, matplotlib and Python versions, the device settings, and the source of this
hook and of the executor. An unchanged block is not run again on the next build (`mkdocs serve`, the
one-page check); NOTES_FRESH=1 draws every figure again, and CI starts without the cache.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from pymdownx.superfences import highlight_validator

from machinery import cache, execute
from machinery.execute import PageTimeout, describe_exception, guarded, run_code

CACHE = Path(".cache") / "figures"

log = logging.getLogger("mkdocs.hooks.figures")
_page = {"src": "?"}  # the page being rendered: pages render one at a time, right after on_page_markdown


def validator(language, inputs, options, attrs, md):
    if "figure" not in inputs:
        return False  # an ordinary block: the default highlighter takes it
    options["figure"] = inputs.pop("figure")
    return highlight_validator(language, inputs, options, attrs, md)


def run_and_draw(source: str, label: str = "figure block") -> list[str]:
    """Run a figure block under the executor's guards; return the SVG of each matplotlib figure it
    left open. ``label`` names the page in a time-out message. The time limit (NOTES_PAGE_TIMEOUT) is
    a SIGALRM timer: superfences calls this formatter while MkDocs renders the page, in the main
    thread for `mkdocs build` and `mkdocs serve` alike; called from another thread, the block runs
    without a time limit (machinery.execute.time_limit), still seeded and without sockets."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "notes", "svg.fonttype": "path"}):
        with guarded(label):  # closes open figures and seeds torch (and random, numpy) first
            run_code(source, {"__name__": "__main__"}, "<figure block>")
        svgs = []
        for number in plt.get_fignums():
            buffer = io.StringIO()
            plt.figure(number).savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
            svg = buffer.getvalue()
            svgs.append(svg[svg.index("<svg") :])  # drop the XML prolog and doctype
        plt.close("all")
    return svgs


def figure_key(source: str) -> str:
    """Everything a figure block's drawing depends on (see the module's docstring)."""
    from importlib.metadata import version

    settings = [os.environ.get(name, "") for name in ("CUDA_VISIBLE_DEVICES", "NOTES_FORCE_CPU", "NOTES_PAGE_TIMEOUT")]
    return cache.digest(source, version("torch"), version("matplotlib"), sys.version, str(settings),
                        Path(__file__), Path(execute.__file__))


def drawn(source: str, label: str) -> list[str]:
    """run_and_draw, or the figures it drew from exactly the same inputs before."""
    stored = CACHE / (figure_key(source) + ".json")
    if stored.is_file() and not cache.fresh():
        return json.loads(stored.read_text(encoding="utf-8"))
    svgs = run_and_draw(source, label)
    if svgs:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(svgs), encoding="utf-8")
        partial.replace(stored)  # whole or absent
    return svgs


def formatter(source, language, class_name, options, md, **kwargs):
    caption = options.pop("figure")
    code = md.preprocessors["fenced_code_block"].highlight(
        src=source, language=language, options=options, md=md, **kwargs
    )
    try:
        svgs = drawn(source, _page["src"])
    except (Exception, PageTimeout) as error:
        # A warning, not an exception: `mkdocs build --strict` fails, and reports every fault at once.
        log.warning("Doc file '%s': figure block %r failed at build time: %s\n%s", _page["src"],
                    caption, describe_exception(error), traceback.format_exc(limit=-3))
        return code
    if not svgs:
        log.warning("Doc file '%s': figure block %r drew no matplotlib figure", _page["src"], caption)
    figures = "".join(
        f'<figure class="notes-figure">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>'
        for svg in svgs
    )
    return code + figures


def on_page_markdown(markdown, page, **kwargs):
    _page["src"] = page.file.src_uri
    return markdown


def on_config(config, **kwargs):
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    fences.append({"name": "python", "class": "python", "validator": validator, "format": formatter})
    return config
