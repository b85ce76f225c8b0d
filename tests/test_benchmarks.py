"""The benchmark command runs, and the recorded results the pages include cover every case and meet
the targets (each from-scratch optimizer step within 1.5x of torch.optim's default). The tests read
the JSON record that `python -m benchmarks --save` writes beside the Markdown table the pages include."""

import json
import re

from benchmarks.cases import CASES
from harness import ROOT

RESULTS = ROOT / "benchmarks" / "results"


def recorded(device_type: str) -> dict[str, dict]:
    record = json.loads((RESULTS / f"{device_type}.json").read_text(encoding="utf-8"))
    return {row["name"]: row for row in record["rows"]}


def test_recorded_cpu_results_cover_every_case_with_a_spread():
    rows = recorded("cpu")
    assert sorted(rows) == sorted(case.name for case in CASES), "rerun `make benchmark DEVICE=cpu`"
    assert all(row["device"].startswith("CPU") for row in rows.values())
    assert all(row["rounds"] >= 5 and row["ratio_low"] <= row["ratio"] <= row["ratio_high"] for row in rows.values())


def test_the_pages_table_is_the_record():
    """Each JSON record has its Markdown table beside it, row for row."""
    for path in sorted(RESULTS.glob("*.json")):
        table = path.with_suffix(".md").read_text(encoding="utf-8")
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            assert f"| {row['name']} | `{row['reference']}` |" in table and f"| {row['ratio']:.2f}x |" in table, (
                f"{path.with_suffix('.md').name} does not show {row['name']} as recorded; rerun `make benchmark`")


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
