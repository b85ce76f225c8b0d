"""Can the snippets' checks fail? Plant small faults in their computing code and count the ones caught.

    python -m mutation                    # every snippet; writes mutation/report.json
    python -m mutation --only adam,rmsprop
    python -m mutation --jobs 4

Each mutant (see mutation/mutants.py) runs as its snippet runs alone, on the CPU: it is *killed* when
the snippet raises (an assert fails, a shape breaks, ...) or runs past its time limit, and *survives*
when the snippet still exits cleanly. One process imports torch once and forks a child per mutant, so
a mutant costs the snippet's own run time, not an interpreter start. A survivor is either a gap in
the checks (make them stronger) or equivalent to the original (listed in mutation/equivalent.tsv with
a reason); tests/test_mutation.py holds the report to that and to the targets below.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from machinery.execute import force_cpu, run_file

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
REPORT = Path(__file__).resolve().parent / "report.json"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.tsv"
OVERALL_TARGET = 0.90  # killed / mutants, over all snippets
SNIPPET_TARGET = 0.75  # killed / mutants, per snippet


def fingerprint(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> why it cannot be told from the original. Columns: snippet, line, change, reason."""
    listed = {}
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[3].strip():
                raise SystemExit(f"{path.name}:{number}: want 4 tab-separated columns (snippet, line, change, reason)")
            snippet, text, change, reason = (p.strip() for p in parts)
            listed[f"{snippet} | {text} | {change}"] = reason
    return listed


def kill_rate(entries) -> float:
    killed, total = sum(e["killed"] for e in entries), sum(e["total"] for e in entries)
    return killed / total if total else 1.0


def prepare_parent():
    """Import once what every child needs, so that a fork starts warm."""
    force_cpu()  # the mutants run on the CPU: accelerators hidden before torch could initialise one
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot  # noqa: F401
    import torch
    import torch.nn.functional  # noqa: F401

    torch.set_num_threads(1)  # one core per child
    weight = torch.zeros(1, requires_grad=True)  # the lazy imports behind the first step and check
    weight.grad = torch.ones(1)
    torch.optim.SGD([weight], lr=0.1).step()
    torch.testing.assert_close(weight.detach(), weight.detach())


def start(code, path: Path, limit_s: float) -> int:
    """Fork a child that runs ``code`` as the snippet; it exits 0 when the snippet finishes cleanly."""
    pid = os.fork()
    if pid:
        return pid
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(max(1, int(limit_s + 0.999)))  # default action: the child dies, even inside C code
        run_file(path, code)  # the mutant in the snippet's place, run as `python snippets/x.py` runs it
        code_out = 0
    except BaseException:  # noqa: BLE001 - any failure kills the mutant
        code_out = 1
    os._exit(code_out)


def run_all(jobs: list[tuple], workers: int) -> dict:
    """jobs: (key, code, path, limit_s). Returns key -> 'survived' | 'killed' | 'timeout'."""
    pending, running, outcome = list(jobs), {}, {}
    while pending or running:
        while pending and len(running) < workers:
            key, code, path, limit = pending.pop(0)
            running[start(code, path, limit)] = key
        pid, status = os.wait()
        key = running.pop(pid)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
            outcome[key] = "timeout"
        else:
            outcome[key] = "survived" if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "killed"
    return outcome


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated snippet names (adam, rmsprop, ...)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants run at once")
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the JSON report")
    args = parser.parse_args(argv)

    from mutation.mutants import mutants_of, mutated_code

    wanted = {name.strip().removesuffix(".py") for name in args.only.split(",") if name.strip()}
    snippets = [p for p in sorted(SNIPPETS.glob("*.py")) if not wanted or p.stem in wanted]
    prepare_parent()
    import torch

    # The unmutated snippet must pass; its time sets its mutants' limit (10x, at least 5 s).
    sources = {path: path.read_text(encoding="utf-8") for path in snippets}  # read once: what ran is what is reported
    baseline = {}
    for path in snippets:
        began = time.monotonic()
        result = run_all([(path, compile(sources[path], str(path), "exec"), path, 120)], 1)
        if result[path] != "survived":
            print(f"{path.relative_to(ROOT)}: fails without any mutation; fix it first", file=sys.stderr)
            return 2
        baseline[path] = time.monotonic() - began

    jobs, by_snippet = [], {}
    for path in snippets:
        mutants = mutants_of(path.relative_to(ROOT).as_posix(), sources[path])
        by_snippet[path] = mutants
        limit = max(5.0, 10 * baseline[path])
        jobs += [(m, mutated_code(sources[path], str(path), m), path, limit) for m in mutants]
    began = time.monotonic()
    outcome = run_all(jobs, args.jobs)
    elapsed = time.monotonic() - began

    report = json.loads(args.report.read_text()) if args.report.exists() and wanted else {"snippets": {}}
    report.update(torch=torch.__version__, device="cpu")
    for path, mutants in by_snippet.items():
        survivors = [m for m in mutants if outcome[m] == "survived"]
        report["snippets"][path.relative_to(ROOT).as_posix()] = {
            "source": fingerprint(sources[path]),
            "total": len(mutants),
            "killed": len(mutants) - len(survivors),
            "timeouts": sum(1 for m in mutants if outcome[m] == "timeout"),
            "survivors": [{"name": m.name, "line": m.line} for m in survivors],
        }
    report["snippets"] = dict(sorted(report["snippets"].items()))
    args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")

    listed = equivalents()
    print(f"{'snippet':36} {'killed':>6} {'total':>6} {'rate':>7}  survivors: equivalent, unexplained")
    for name, entry in report["snippets"].items():
        equivalent = sum(1 for s in entry["survivors"] if s["name"] in listed)
        print(f"{name:36} {entry['killed']:6} {entry['total']:6} {kill_rate([entry]):7.1%}  "
              f"{equivalent}, {len(entry['survivors']) - equivalent}")
    entries = list(report["snippets"].values())
    killed, total = sum(e["killed"] for e in entries), sum(e["total"] for e in entries)
    print(f"{'all':36} {killed:6} {total:6} {kill_rate(entries):7.1%}   "
          f"({len(jobs)} mutants run in {elapsed:.0f} s, torch {torch.__version__}; targets: "
          f"{OVERALL_TARGET:.0%} overall, {SNIPPET_TARGET:.0%} per snippet)")
    for entry in entries:
        for survivor in entry["survivors"]:
            if survivor["name"] not in listed:
                snippet, text, change = survivor["name"].split(" | ")
                print(f"survivor {snippet}:{survivor['line']}: {change}  in  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
