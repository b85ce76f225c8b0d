"""Time every from-scratch implementation that has a PyTorch counterpart against that counterpart.

    python -m benchmarks            # on the best device here (CUDA when present)
    python -m benchmarks --cpu      # on the CPU even where a GPU is present
    python -m benchmarks --quick    # shorter measurements, for a smoke test
    python -m benchmarks --save     # also write benchmarks/results/<cpu|cuda>.json, which pages render

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

from machinery.benchmark_table import seconds, spread

from machinery.execute import force_cpu, guarded, run_file

SNIPPETS = Path(__file__).resolve().parent.parent / "snippets"
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="hide every accelerator and time on the CPU")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, noisy numbers)")
    parser.add_argument("--only", default="", help="run rows whose name contains this text")
    parser.add_argument("--save", action="store_true",
                        help="write the record to benchmarks/results/<device type>.json, which the pages render")
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
        command = " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])
        record = dict(command=command, date=f"{datetime.date.today():%Y-%m-%d}", torch=torch.__version__,
                      device=device.type, rows=rows)
        path = RESULTS / f"{device.type}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")  # the pages render it
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


def format_row(row) -> str:
    cells = [row["name"], row["reference"], row["device"], row["size"], seconds(row["ours"]),
             seconds(row["torch"]), f"{row['ratio']:.2f}x", spread(row)]
    return "  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, COLUMNS))


if __name__ == "__main__":
    sys.exit(main())
