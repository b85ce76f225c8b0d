"""Every notebook under docs/ is stored without outputs and runs top to bottom, cell by cell, in one
namespace, with the same guards as a page (seeds reset, sockets refused, a time limit) and tensors on
the chosen device, through machinery.notebooks, the one way notebooks run.

Run once: when this run builds the site, the build has run every notebook (hooks/notebooks.py) and
written what it ran to records/; the test reads that record (same torch, same device, same code, or
it fails) instead of running the notebook again. A run without the site (some modules only, `make
matrix`, --record-verified) runs the notebook here, or reuses a pass on identical inputs."""

import pytest

from harness import built_record, or_fail, stored_run
from machinery import cache, notebooks
from machinery.pages import (DOCS, PageError, check_cpu_budget, code_fingerprint, refuse_tensors_off_device, rel,
                             within_cpu_budget)

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
    from machinery.execute import warm_imports

    lint(path)
    warm_imports()  # the worked examples' data sets (scikit-learn), outside the notebook's CPU seconds
    try:
        run = notebooks.run(path, rel(path))
    except notebooks.NotebookError as error:
        raise PageError(str(error)) from None
    if run.faults:
        raise PageError("\n".join(run.faults))
    return run.record


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[rel(n) for n in NOTEBOOKS])
def test_notebook_runs_cell_by_cell(notebook, record_property, request, build_records):
    recording = request.config.getoption("--record-verified")
    if build_records is not None and not recording:
        or_fail(lambda: lint(notebook))
        record = or_fail(lambda: built_record(notebook, build_records, executed=lambda record: record["cells"]))
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
