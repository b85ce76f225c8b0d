"""Time every from-scratch implementation that has a PyTorch counterpart against that counterpart.

    python -m benchmarks            # on the best device here (CUDA when present)
    python -m benchmarks --cpu      # on the CPU even where a GPU is present
    python -m benchmarks --quick    # shorter measurements, for a smoke test
    python -m benchmarks --save     # also write benchmarks/results/<cpu|cuda>.md, which pages include

The implementations are not copies: each snippet is run as a script (its own checks against PyTorch
included) and its functions and optimizer classes are timed from that run's namespace, so the code
timed is the code the pages show. Timing is torch.utils.benchmark's: warm-up, then blocks of runs
until enough time has passed, median per run, CUDA synchronised around each block.
"""

import argparse
import contextlib
import datetime
import io
import json
import sys
from functools import cache
from pathlib import Path

from machinery.execute import force_cpu, guarded, run_file

SNIPPETS = Path(__file__).resolve().parent.parent / "snippets"
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="hide every accelerator and time on the CPU")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, noisy numbers)")
    parser.add_argument("--only", default="", help="run rows whose name contains this text")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--save", action="store_true",
                        help="write the Markdown to benchmarks/results/<device type>.md, which the pages include")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cpu:
        force_cpu()  # before torch first initialises CUDA
    import torch

    from benchmarks.cases import CASES

    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    rows, failures = [], []
    print(header(), flush=True)
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        timing = case.time(device, load_snippet, min_run_time=0.05 if args.quick else 0.5)
        row = dict(group=case.group, name=case.name, reference=case.reference, device=describe(device),
                   size=case.size, target=case.target, **timing)
        rows.append(row)
        print(format_row(row), flush=True)
        if case.target is not None and row["ratio"] > case.target:
            failures.append(f"{case.name}: {row['ratio']:.2f}x {case.reference}, over the {case.target}x target")
    if args.save:
        args.markdown = RESULTS / f"{device.type}.md"
    if args.markdown:
        command = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(rows, command), encoding="utf-8")
        record = dict(command=command, date=f"{datetime.date.today():%Y-%m-%d}", torch=torch.__version__,
                      device=device.type, rows=rows)
        args.markdown.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if failures and not args.quick:
        print("\n".join(["", "over target:", *failures]), file=sys.stderr)
        return 1
    return 0


@cache  # several cases time code from one snippet: run it once
def load_snippet(name: str) -> dict:
    """Run snippets/<name>.py as `python snippets/<name>.py` would (checks included), under the guards
    the test suite runs it with (seeds reset, sockets refused, a time limit); its namespace."""
    path = SNIPPETS / f"{name}.py"
    with contextlib.redirect_stdout(io.StringIO()), guarded(f"snippets/{path.name}"):
        return run_file(path)


def describe(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


COLUMNS = [("implementation", 31), ("PyTorch's", 19), ("device", 16), ("size", 26),
           ("ours", 10), ("PyTorch", 10), ("ratio", 7), ("range", 13)]


def header() -> str:
    names = "  ".join(f"{name:<{width}}" for name, width in COLUMNS)
    return names + "\n" + "-" * len(names)


def seconds(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def format_row(row) -> str:
    cells = [row["name"], row["reference"], row["device"], row["size"], seconds(row["ours"]),
             seconds(row["torch"]), f"{row['ratio']:.2f}x", spread(row)]
    return "  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, COLUMNS))


def spread(row) -> str:
    return f"{row['ratio_low']:.2f}–{row['ratio_high']:.2f}x"


def markdown(rows, command: str) -> str:
    """One Markdown table per group, each between snippet-section markers so a page can include
    its own rows: --8<-- "benchmarks/results/cpu.md:adam"."""
    import torch

    rounds = rows[0]["rounds"] if rows else 0
    caption = (f"Measured by `{command}` on {datetime.date.today():%Y-%m-%d} with torch {torch.__version__}:"
               f" the median time of one call over {rounds} rounds that alternate ours and PyTorch's, after"
               " warm-up; *range* is the lowest and highest ratio of the rounds. Differences inside that range"
               " are noise, not facts about the code. Compare within a row: rows are measured one after another"
               " in one process, and on a 2-core machine the same torch.optim step has taken twice as long in one"
               " run as in the next, so times in different rows or runs are not comparable.")
    parts = []
    for group in dict.fromkeys(row["group"] for row in rows):
        lines = [f"<!-- --8<-- [start:{group}] -->",
                 "| implementation | PyTorch's | device | size | ours | PyTorch | ratio | range |",
                 "|---|---|---|---|--:|--:|--:|--:|"]
        for row in (r for r in rows if r["group"] == group):
            lines.append(f"| {row['name']} | `{row['reference']}` | {row['device']} | {row['size']} | "
                         f"{seconds(row['ours'])} | {seconds(row['torch'])} | {row['ratio']:.2f}x | {spread(row)} |")
        lines += ["", caption, f"<!-- --8<-- [end:{group}] -->", ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
