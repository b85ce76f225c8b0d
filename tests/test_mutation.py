"""Checks that can fail: the mutation report (`make mutate`, mutation/report.json) is current, meets
its targets, and every mutant that survives is listed as equivalent with a reason, while every listed
one still survives. One small snippet is mutated again here, to show the report is what the mutator
finds today."""

import json
import subprocess
import sys

import pytest

from machinery.pages import rel, ROOT, snippet_files
from mutation.__main__ import (EQUIVALENT, OVERALL_TARGET, REPORT, SNIPPET_TARGET, equivalents,
                               fingerprint, kill_rate)

RERUN = "run `make mutate` (or `make mutate ONLY=<snippet>`) and commit mutation/report.json"


@pytest.fixture(scope="module")
def report():
    return json.loads(REPORT.read_text(encoding="utf-8"))["snippets"]


def test_report_is_current_for_every_snippet(report):
    stale = [rel(s) for s in snippet_files()
             if report.get(rel(s), {}).get("source") != fingerprint(s.read_text(encoding="utf-8"))]
    gone = sorted(set(report) - {rel(s) for s in snippet_files()})
    assert not stale and not gone, f"mutation report out of date for {stale + gone}; {RERUN}"


def test_kill_rates_meet_the_targets(report):
    low = {name: f"{kill_rate([e]):.0%}" for name, e in report.items() if kill_rate([e]) < SNIPPET_TARGET}
    assert not low, f"snippets below {SNIPPET_TARGET:.0%} of mutants killed: {low}"
    overall = kill_rate(report.values())
    assert overall >= OVERALL_TARGET, f"{overall:.1%} of mutants killed overall, under {OVERALL_TARGET:.0%}"


def test_every_survivor_is_listed_as_equivalent_and_every_listed_one_survives(report):
    listed = equivalents()
    survivors = {s["name"]: f"{name}:{s['line']}" for name, e in report.items() for s in e["survivors"]}
    unexplained = [f"{where}: {name.split(' | ')[2]}  in  {name.split(' | ')[1]}"
                   for name, where in survivors.items() if name not in listed]
    assert not unexplained, (
        "mutants that no check catches (make a check catch them, or list them in "
        f"{rel(EQUIVALENT)} with the reason they cannot be told apart):\n" + "\n".join(unexplained))
    now_killed = [name for name in listed if name not in survivors]
    assert not now_killed, (f"listed in {rel(EQUIVALENT)} but no longer surviving (killed, or no longer planted; "
                            "remove them):\n" + "\n".join(now_killed))


@pytest.mark.reusable("project")
def test_the_mutator_finds_today_what_the_report_says(report, tmp_path):
    """The smallest snippet, mutated again: same mutants, same survivors."""
    smallest = min(snippet_files(), key=lambda s: s.stat().st_size)
    fresh = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "mutation", "--only", smallest.stem, "--report", str(fresh)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    again = json.loads(fresh.read_text())["snippets"][rel(smallest)]
    assert again["total"] > 0
    assert again == report[rel(smallest)], f"{rel(smallest)}: the mutator finds {again}, the report says {report[rel(smallest)]}"
