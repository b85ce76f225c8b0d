"""What the tests share besides the package (machinery/): the failure that reads as a test failure,
the suite's own sources (part of every cached pass's key), the key and lookup of a cached page run, and
the strict site build in a fresh interpreter. Pages are expanded, extracted and run by
machinery.pages, notebooks by machinery.notebooks, both through machinery.execute."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from machinery.execute import EXECUTOR_FILES, run_settings
from machinery.pages import ROOT, PageError, chosen_device, expand, rel


def or_fail(run):
    """``run()``, or a test failure with the PageError's message alone: failing outside the ``except``
    keeps pytest from printing the message twice ("During handling of the above exception...")."""
    try:
        return run()
    except PageError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


# The suite's own code (this harness, conftest.py and its plugins): part of what judges every cached pass.
SUITE_SOURCES = [Path(__file__), Path(__file__).with_name("conftest.py"),
                 *sorted(Path(__file__).with_name("plugins").glob("*.py"))]
# What decides how page code runs, besides the page and the code it includes: a change to any of these
# runs every page again (run_key).
EXECUTOR_SOURCES = [*SUITE_SOURCES, *EXECUTOR_FILES]


def run_key(path: Path, root: Path = ROOT) -> str:
    """Everything a page's (or notebook's) run depends on: its text with every include expanded, the
    torch and Python versions, the device the code picks, the time and CPU limits, and the executor's
    own source. The same key means the same run; machinery/cache.py reuses a passed run only under the
    same key."""
    import torch

    from machinery import cache

    text = "\n".join(expand(path, root)[0]) if path.suffix == ".md" else path.read_bytes()
    return cache.digest(rel(path, root), text, torch.__version__, str(chosen_device()), sys.version,
                        str(run_settings()), *EXECUTOR_SOURCES)


def stored_run(path: Path, record_verified: bool) -> tuple[str, str, dict | None]:
    """(name, run_key, what a pass with exactly these inputs stored, or None). A run recorded for verified/
    always executes: a record says what ran in that run."""
    from machinery import cache

    name, key = rel(path), run_key(path)
    return name, key, None if record_verified else cache.passed_before("page-run", name, key)


def built_record(source: Path, records: Path, executed) -> dict:
    """What this run's site build recorded for the page or notebook ``source`` (machinery.records),
    checked to be for the code it has now, this torch and this device (a record of a run that executed
    nothing, ``executed(record) == 0``, names no torch and no device)."""
    import json

    import torch

    from machinery.pages import DOCS, code_fingerprint
    from machinery.records import build_record_path

    name = rel(source)
    file = build_record_path(records, source.relative_to(DOCS).as_posix())
    if not file.is_file():
        kind = "notebook" if source.suffix == ".ipynb" else "page"
        raise PageError(f"{name}: the site build ran no such {kind} (no {file.name} in its records)")
    record = json.loads(file.read_text(encoding="utf-8"))
    ran = {"torch": record["torch"], "device": record["device"], "code": record["code"]}
    here = {"torch": torch.__version__, "device": str(chosen_device()), "code": code_fingerprint(source)}
    if executed(record) == 0:
        here.update(torch=None, device=None)
    if ran != here:
        raise PageError(f"{name}: the site build ran it with {ran}, this run is {here}")
    return record


# The folder of this run's site build, named to the xdist workers (plugins/site.py). Not passed on to
# builds: nothing in a build reads it, and it names a new folder whenever the site is built, so a
# check keyed by the build's environment (plugins/reuse.py) would never be reused after one.
SITE_ENV = "NOTES_SUITE_SITE"


def build_command(out: Path, **env) -> tuple[list[str], dict]:
    """`mkdocs build --strict` into ``out`` in a fresh interpreter: its argv and environment. The build
    runs its pages beside the suite's workers, so torch computes on one thread there, as each worker
    does (plugins/options.py): with two on two busy cores, a cold build took 3 s longer and 2.7 CPU
    seconds more even alone, and the pages' own CPU seconds grew by a quarter."""
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    inherited = {name: value for name, value in os.environ.items() if name != SITE_ENV}
    return argv, dict(inherited, NO_MKDOCS_2_WARNING="1", OMP_NUM_THREADS="1", **env)


def build_site(project: Path, out: Path, timeout: float = 600, **env):
    """`mkdocs build --strict` of ``project`` into ``out``, output captured."""
    import subprocess

    argv, environment = build_command(out, **env)
    return subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=timeout, env=environment)
