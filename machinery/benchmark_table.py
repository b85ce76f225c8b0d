"""The benchmark tables the optimizer pages show, rendered from the JSON record that `python -m benchmarks
--save` writes (benchmarks/results/<device>.json). The record is the one source: the pages render it at build
time (hooks/benchmarks.py) and the tests read it; no Markdown copy of it is stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
# A page line that the build replaces with a group's table: <!-- benchmark: cpu adam -->
MARKER = re.compile(r"^<!-- benchmark: (?P<device>\w+) (?P<group>[\w-]+) -->$", re.M)
HEADER = ["| implementation | PyTorch's | device | size | ours | PyTorch | ratio | range |",
          "|---|---|---|---|--:|--:|--:|--:|"]


def seconds(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def spread(row: dict) -> str:
    return f"{row['ratio_low']:.2f}–{row['ratio_high']:.2f}x"


def record(device_type: str, results: Path = RESULTS) -> dict:
    return json.loads((results / f"{device_type}.json").read_text(encoding="utf-8"))


def groups(rec: dict) -> list[str]:
    return list(dict.fromkeys(row["group"] for row in rec["rows"]))


def table(rec: dict, group: str) -> str:
    """One group's rows as a Markdown table, and a caption saying how, when and with what they were measured."""
    rows = [row for row in rec["rows"] if row["group"] == group]
    if not rows:
        raise KeyError(f"no benchmark rows in group {group!r}; the record has {groups(rec)}")
    lines = HEADER + [f"| {row['name']} | `{row['reference']}` | {row['device']} | {row['size']} | "
                      f"{seconds(row['ours'])} | {seconds(row['torch'])} | {row['ratio']:.2f}x | {spread(row)} |"
                      for row in rows]
    caption = (f"Measured by `{rec['command']}` on {rec['date']} with torch {rec['torch']}: the median time of one"
               f" call over {rows[0]['rounds']} rounds that alternate ours and PyTorch's, after warm-up; *range* is"
               " the lowest and highest ratio of the rounds. Differences inside that range are noise, not facts"
               " about the code. Compare within a row: rows are measured one after another in one process, and on"
               " a 2-core machine the same torch.optim step has taken twice as long in one run as in the next, so"
               " times in different rows or runs are not comparable.")
    return "\n".join(lines + ["", caption])
