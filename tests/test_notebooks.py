"""Every notebook under docs/ is stored without outputs and runs top to bottom, cell by cell, in one
namespace, with the same guards as a page (seeds reset, sockets refused, a time limit) and tensors on
the chosen device, through machinery.notebooks, the one way notebooks run.

Run once: when this run builds the site, the build has run every notebook (hooks/notebooks.py) and
written what it ran to records/; the test reads that record (same torch, same device, same code, or
it fails) instead of running the notebook again. A run without the site (some modules only, `make
matrix`, --record-verified) runs the notebook here, or reuses a pass on identical inputs."""

import json

import pytest

from harness import or_fail, stored_run
from machinery.pages import (DOCS, PageError, check_cpu_budget, chosen_device, code_fingerprint, refuse_tensors_off_device,
                             rel, within_cpu_budget)
from machinery import cache, notebooks
from machinery.records import build_record_path

NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))


def lint(path):
    """The device rule (machinery.pages.refuse_tensors_off_device), cell by cell; needs no run."""
    import nbformat

    name = rel(path)
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    for number, cell in enumerate(cells, 1):
        refuse_tensors_off_device(
            cell.source, name,
            lambda n, c=cell, k=number: f"{name} code cell {k} line {n}: {c.source.splitlines()[n - 1].strip()}")


def run_notebook(path) -> dict:
    """Run it here (machinery.notebooks.run): its record; a PageError names what failed."""
    lint(path)
    try:
        run = notebooks.run(path, rel(path))
    except notebooks.NotebookError as error:
        raise PageError(str(error)) from None
    if run.faults:
        raise PageError("\n".join(run.faults))
    return run.record


def built_record(path, records) -> dict:
    """The record this run's site build wrote for the notebook, checked to be for this code, torch and device."""
    import nbformat
    import torch

    name = rel(path)
    file = build_record_path(records, path.relative_to(DOCS).as_posix())
    if not file.is_file():
        raise PageError(f"{name}: the site build ran no such notebook (no {file.name} in its records)")
    record = json.loads(file.read_text(encoding="utf-8"))
    lint(path)
    ran = {"torch": record["torch"], "device": record["device"], "code": record["code"]}
    here = {"torch": torch.__version__, "device": str(chosen_device()), "code": notebooks.code_of(nbformat.read(path, as_version=4))}
    if ran != here:
        raise PageError(f"{name}: the site build ran it with {ran}, this run is {here}")
    return record


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[rel(n) for n in NOTEBOOKS])
def test_notebook_runs_cell_by_cell(notebook, record_property, request, build_records):
    recording = request.config.getoption("--record-verified")
    if build_records is not None and not recording:
        record = or_fail(lambda: built_record(notebook, build_records))
        record_property("notebooks_read_from_the_build", 1)
        or_fail(lambda: check_cpu_budget(rel(notebook), record["seconds"]))
    else:
        name, key, record = stored_run(notebook, recording)
        if record is not None:
            record_property("page_runs_reused", 1)
        else:
            record, _seconds = or_fail(lambda: within_cpu_budget(name, lambda: run_notebook(notebook)))
            cache.remember_pass("page-run", name, key, record)
    print(record["output"])
    record_property("notebooks", 1)
    record_property("executed_blocks", record["cells"])
    record_property("notes_page_cpu_s", (rel(notebook), round(record["seconds"], 2)))
    record_property("verified", (rel(notebook), {"code": code_fingerprint(notebook)}))
