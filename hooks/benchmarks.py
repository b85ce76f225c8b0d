"""MkDocs hook: a page line `<!-- benchmark: cpu adam -->` becomes that group's table from
benchmarks/results/cpu.json, rendered by machinery.benchmark_table, so the page shows the record itself.
A device or group the record lacks fails the strict build, naming the page and line."""

from __future__ import annotations

import logging

from machinery.benchmark_table import MARKER, RESULTS, record, table

log = logging.getLogger("mkdocs.hooks.benchmarks")


def on_page_markdown(markdown, page, **kwargs):
    def render(m):
        line = markdown.count("\n", 0, m.start()) + 1
        try:
            return table(record(m["device"]), m["group"])
        except (OSError, KeyError) as error:
            log.warning(f"Doc file '{page.file.src_uri}' line {line}: no benchmark table for "
                        f"{m['device']} {m['group']} in {RESULTS.name}/: {error}")
            return m.group(0)
    return MARKER.sub(render, markdown)
