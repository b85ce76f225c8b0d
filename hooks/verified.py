"""MkDocs hook: under each page's title, the torch versions and devices its code passed on, and when.

Read from verified/*.json, which `make matrix` writes (one record per torch version and device, each
entry carrying the fingerprint of the page's code when it passed). Nothing here is typed by hand, and
tests/test_verified.py fails the suite when a record is older than the code it vouches for.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from packaging.version import Version

VERIFIED = Path(__file__).resolve().parent.parent / "verified"
_records: list[dict] = []


def on_pre_build(config, **kwargs):
    _records[:] = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(VERIFIED.glob("*.json"))]


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


def on_page_content(page_html, page, **kwargs):
    line = verified_line("docs/" + page.file.src_uri)
    if line is None or "</h1>" not in page_html:
        return page_html
    badge = (f'<p class="verified" data-search-exclude title="Recorded by make matrix; the test suite fails '
             f'when the code changes after the record">{html.escape(line)}</p>')
    return page_html.replace("</h1>", "</h1>\n" + badge, 1)
