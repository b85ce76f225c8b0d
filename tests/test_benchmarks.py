"""The benchmark command runs, and the recorded results cover every case and meet the targets (each
from-scratch optimizer step within 1.5x of torch.optim's default). The tests read the JSON record that
`python -m benchmarks --save` writes, the same record the optimizer pages render at build time."""

import json
import re

from benchmarks.cases import CASES
from machinery.pages import ROOT, url_path

RESULTS = ROOT / "benchmarks" / "results"


def recorded(device_type: str) -> dict[str, dict]:
    record = json.loads((RESULTS / f"{device_type}.json").read_text(encoding="utf-8"))
    return {row["name"]: row for row in record["rows"]}


def test_recorded_cpu_results_cover_every_case_with_a_spread():
    rows = recorded("cpu")
    assert sorted(rows) == sorted(case.name for case in CASES), "rerun `make benchmark DEVICE=cpu`"
    assert all(row["device"].startswith("CPU") for row in rows.values())
    assert all(row["rounds"] >= 5 and row["ratio_low"] <= row["ratio"] <= row["ratio_high"] for row in rows.values())


def test_the_pages_show_the_record_row_for_row(site):
    """Each page line `<!-- benchmark: cpu <group> -->` becomes that group's rows of the JSON record on the
    built page (hooks/benchmarks.py), every row with its ratio."""
    import re

    from machinery.benchmark_table import MARKER, record

    rec, shown = record("cpu"), 0
    for source in sorted((ROOT / "docs").rglob("*.md")):
        for m in MARKER.finditer(source.read_text(encoding="utf-8")):
            html = (site / url_path(source) / "index.html").read_text(encoding="utf-8")
            rows = [row for row in rec["rows"] if row["group"] == m["group"]]
            assert rows and all(f"<td>{row['name']}</td>" in html and f">{row['ratio']:.2f}x</td>" in html
                                for row in rows), f"{source.relative_to(ROOT)} does not show the {m['group']} rows"
            assert re.search(r"Measured by <code>python -m benchmarks", html)
            shown += 1
    assert shown >= 4  # momentum, RMSProp, Adam, AdamW


def test_a_missing_group_is_refused_by_name():
    import pytest

    from machinery.benchmark_table import record, table

    with pytest.raises(KeyError, match="no benchmark rows in group 'lion'"):
        table(record("cpu"), "lion")


def test_every_recorded_device_meets_the_targets():
    """CPU results are required (above); results recorded on an accelerator are held to the same targets."""
    files = sorted(RESULTS.glob("*.json"))
    assert RESULTS / "cpu.json" in files
    for path in files:
        rows = recorded(path.stem)
        over = [f"{path.name}: {case.name}: {rows[case.name]['ratio']:.2f}x over {case.target}x" for case in CASES
                if case.target is not None and case.name in rows and rows[case.name]["ratio"] > case.target]
        assert not over, "\n".join(over)


def test_benchmark_command_times_a_case(capsys):
    """`python -m benchmarks --quick --only ...`, run in this process (no second torch import)."""
    from benchmarks.__main__ import main

    assert main(["--quick", "--only", "cross-entropy"]) == 0  # the cheapest case: this checks the command
    table = capsys.readouterr().out
    assert re.search(r"cross-entropy via log-softmax +F\.cross_entropy +(CPU|NVIDIA|.*GPU).* [\d.]+x +[\d.]+–[\d.]+x", table), table
