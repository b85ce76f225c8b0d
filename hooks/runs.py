"""MkDocs hook: every page's code runs once, when the site is built, and draws the page's figures.

Each Markdown page's Python blocks run in page order in one namespace, exactly as the test suite runs
them (machinery.pages.run_page, under machinery.execute's guards: seeds reset, sockets refused, the
time limit), before the page is rendered. A block that fails, a wrong check-yourself answer, a tensor
made off the device: a warning naming the page and line, so `mkdocs build --strict` fails.

A block fenced as ```python figure="Caption" is highlighted like any other block, and every matplotlib
figure it opened in that run is inserted after it as inline SVG with the caption. Nothing is pasted:
the picture is the one the code draws now, in page order.

A page's run is kept in .cache/runs/ under a digest of everything it depends on (the page's text with
its includes expanded, the torch, matplotlib and Python versions, the device settings, the executor
and this hook), so an unchanged page does not run again on the next build (`mkdocs serve`, the
one-page check); NOTES_FRESH=1 runs every page again, and CI starts without the cache. With
NOTES_BUILD_RECORDS=1 (the suite's build) each page's record is written beside the site, and the
suite reads it instead of running the page a second time (tests/test_pages.py).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import sys
import time
from pathlib import Path

from pymdownx.superfences import highlight_validator

from machinery import cache, execute, pages
from machinery.records import recording, write_build_records

log = logging.getLogger("mkdocs.hooks.runs")
CACHE = Path(".cache") / "runs"
_page = {"src": "?", "figures": None}  # the page being rendered: its figure blocks' drawings
_records: dict[str, dict] = {}  # src_uri -> record, for the suite (machinery.records)


def run_key(source: Path, root: Path) -> str:
    """Everything a page's run depends on (see the module's docstring)."""
    from importlib.metadata import version

    lines, _origins, _on_page = pages.expand(source, root)
    return cache.digest(pages.rel(source, root), "\n".join(lines), version("torch"), version("matplotlib"), sys.version,
                        str(execute.run_settings()), Path(__file__), *execute.EXECUTOR_FILES)


def run(source: Path, root: Path) -> dict:
    """The page's run: from the cache, or now. Raises PageError when the page's code fails."""
    stored = root / CACHE / (run_key(source, root) + ".json")
    if stored.is_file() and not cache.fresh():
        return json.loads(stored.read_text(encoding="utf-8"))
    if recording():  # torch and matplotlib imported once, so that the first page's seconds are its own
        # (the first optimizer step's lazy import, under a second, stays with the first page that steps)
        execute.warm_imports(data_sets=False, optimizers=False)
    figures: dict[str, list[str]] = {}
    started = time.process_time()
    result = pages.run_page(source, root, figures=figures, require_code=False)  # a rule of the suite's
    ran_code = result.blocks_run > 0  # a page without code imports no torch (the planted builds' pages)
    record = {"run": dataclasses.asdict(result), "seconds": round(time.process_time() - started, 3),
              "torch": sys.modules["torch"].__version__ if ran_code else None,
              "device": str(execute.chosen_device()) if ran_code else None, "code": result.code,
              "figures": figures}
    cache.write_whole(stored, json.dumps(record))
    return record


def on_config(config, **kwargs):
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn to SVG, never to a window
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    fences.append({"name": "python", "class": "python", "validator": validator, "format": formatter})
    _records.clear()
    return config


def on_page_markdown(markdown, page, config, **kwargs):
    _page.update(src=page.file.src_uri, figures=None)
    source = Path(page.file.abs_src_path) if page.file.abs_src_path else None
    if source is None or source.suffix != ".md" or not source.is_file():
        return markdown  # a generated page (the review sheet), or a notebook (hooks/notebooks.py)
    try:
        record = run(source, Path(config["config_file_path"]).parent)
    except pages.PageError as error:
        log.warning(f"Doc file '{page.file.src_uri}': its code failed when the site was built:\n{error}")
        return markdown
    _page["figures"] = record["figures"]
    _records[page.file.src_uri] = {key: value for key, value in record.items() if key != "figures"}
    return markdown


def on_post_build(config, **kwargs):
    write_build_records(config["site_dir"], _records)


def validator(language, inputs, options, attrs, md):
    if "figure" not in inputs:
        return False  # an ordinary block: the default highlighter takes it
    options["figure"] = inputs.pop("figure")
    return highlight_validator(language, inputs, options, attrs, md)


def formatter(source, language, class_name, options, md, **kwargs):
    caption = options.pop("figure")
    code = md.preprocessors["fenced_code_block"].highlight(
        src=source, language=language, options=options, md=md, **kwargs
    )
    if _page["figures"] is None:
        return code  # the page's code failed: its warning says where
    svgs = _page["figures"].get(source.rstrip(), [])
    if not svgs:
        log.warning("Doc file '%s': figure block %r drew no matplotlib figure", _page["src"], caption)
    return code + "".join(
        f'<figure class="notes-figure">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>' for svg in svgs
    )
