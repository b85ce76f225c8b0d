"""MkDocs hook: what a page's code was verified on, what it prints, and how to run it alone.

From verified/*.json, which `make matrix` writes (one record per torch version and device; per page,
the fingerprint of its code when it passed and, per block, what it printed and which names it takes
from the blocks above), this hook adds to every page with code:

- under the title, the torch versions and devices it passed on and when, and a download link for
  each snippet file the page includes (the whole script, which runs alone);
- above each block that continues earlier ones, the names it takes from them;
- under each block that prints, its output as captured on the newest torch recorded on the CPU.

Nothing here is typed by hand; tests/test_verified.py fails the suite when a record is older than the
code it vouches for.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
from pathlib import Path

from packaging.version import Version

from machinery.pages import PYTHON_LANGS, UNRUNNABLE_LANGS, included_files

ROOT = Path(__file__).resolve().parent.parent
VERIFIED = ROOT / "verified"
# a highlighted block of any spelling the suite runs (machinery.pages), in page order
PYTHON_BLOCK = re.compile(rf'<div class="language-(?:{"|".join(sorted(PYTHON_LANGS - UNRUNNABLE_LANGS))}) highlight">')
log = logging.getLogger("mkdocs.hooks.verified")
_records: list[dict] = []
_scripts: dict[str, list[str]] = {}  # page source -> snippet files it includes


def on_pre_build(config, **kwargs):
    _records[:] = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(VERIFIED.glob("*.json"))]
    _scripts.clear()


def verified_line(source: str) -> str | None:
    """'torch 2.7.0, 2.13.0 and 2.14.1 on the CPU; 2.13.0 on CUDA (NVIDIA H100)' and the dates."""
    passed = [(r, r["pages"][source]) for r in _records if source in r["pages"]]
    if not passed:
        return None
    groups = []
    for device in sorted({r["device"] for r, _ in passed}, key=lambda d: (d != "cpu", d)):
        on = [r for r, _ in passed if r["device"] == device]
        versions = sorted({r["torch"].split("+")[0] for r in on}, key=Version)
        listed = ", ".join(versions[:-1]) + " and " + versions[-1] if len(versions) > 1 else versions[0]
        names = sorted({r["device_name"] for r in on})
        where = "the CPU" if device == "cpu" else f"{device.upper()} ({', '.join(names)})"
        groups.append(f"torch {listed} on {where}")
    dates = sorted({entry["date"] for _, entry in passed})
    when = dates[0] if len(dates) == 1 else f"between {dates[0]} and {dates[-1]}"
    return f"This page's code passed on {'; '.join(groups)}, {when}."


def shown_run(source: str):
    """The record whose block outputs the page shows: the newest torch on the CPU."""
    on_cpu = [r for r in _records if r["device"] == "cpu" and "blocks" in r["pages"].get(source, {})]
    return max(on_cpu, key=lambda r: Version(r["torch"].split("+")[0]), default=None)


def on_page_markdown(markdown, page, **kwargs):
    _scripts[page.file.src_uri] = [path for path in included_files(markdown) if path.startswith("snippets/")]
    return markdown


def script_links(page) -> str:
    up = "../" * page.url.count("/")
    return ", ".join(f'<a href="{up}{path}" download><code>{html.escape(path)}</code></a>'
                     for path in _scripts.get(page.file.src_uri, []))


def on_page_content(page_html, page, **kwargs):
    source = "docs/" + page.file.src_uri
    line = verified_line(source)
    scripts = script_links(page)
    if line is None and not scripts:
        return page_html
    if line is None:  # a new page: the suite fails until `make matrix` records it (tests/test_verified.py)
        line = "This page's code is not verified on any torch version yet (no record from <code>make matrix</code>)."
    if scripts:
        line += f" The whole script, which runs alone: {scripts}."
    badge = (f'<p class="verified" data-search-exclude title="Recorded by make matrix; the test suite fails '
             f'when the code changes after the record">{line}</p>')
    page_html = page_html.replace("</h1>", "</h1>\n" + badge, 1) if "</h1>" in page_html else page_html

    run = shown_run(source)
    if run is None:
        return page_html
    blocks = run["pages"][source]["blocks"]
    starts = [m.start() for m in PYTHON_BLOCK.finditer(page_html)]
    if len(starts) != len(blocks):
        log.warning(f"Doc file '{page.file.src_uri}' shows {len(starts)} Python blocks, but its record in "
                    f"verified/ has {len(blocks)}: run `make matrix`")
        return page_html
    label = f"Output on torch {run['torch'].split('+')[0]} ({'CPU' if run['device'] == 'cpu' else run['device_name']})"
    pieces, cursor = [], 0
    for start, block in zip(starts, blocks):
        end = page_html.index("</pre></div>", start) + len("</pre></div>")
        pieces.append(page_html[cursor:start])
        if block["uses"]:
            names = ", ".join(f"<code>{html.escape(n)}</code>" for n in block["uses"])
            pieces.append(f'<p class="notes-continues" data-search-exclude>Continues the code above: uses {names}.'
                          + (f" To run it alone, take the whole script: {scripts}." if scripts else "") + "</p>")
        pieces.append(page_html[start:end])
        if block["output"].strip():
            pieces.append(f'<div class="notes-output" data-search-exclude><span class="notes-output-label">{label}'
                          f'</span><pre><samp>{html.escape(block["output"].rstrip())}</samp></pre></div>')
        cursor = end
    pieces.append(page_html[cursor:])
    return "".join(pieces)


def on_post_build(config, **kwargs):
    """The snippet files, downloadable from every page that includes them."""
    target = Path(config.site_dir) / "snippets"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "snippets").glob("*.py")):
        shutil.copyfile(path, target / path.name)
