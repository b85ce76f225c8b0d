"""Every notebook under docs/ is stored without outputs and runs top to bottom, cell by cell, in one
namespace, with the same guards as a page (seeds reset, sockets refused, a time limit, tensors on
the chosen device). The site build executes them again (hooks/notebooks.py), and fails on a cell
that raises or shows an error."""

import contextlib
import io

import nbformat
import pytest

from harness import (DOCS, PageError, PageTimeout, code_fingerprint, describe_exception, guarded, innermost,
                     or_fail, refuse_tensors_off_device, rel, run_code, stored_run, within_cpu_budget)
from machinery import cache

NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))


def run_notebook(path):
    name = rel(path)
    notebook = nbformat.read(path, as_version=4)
    cells = [(number, cell) for number, cell in enumerate(notebook.cells, 1) if cell.cell_type == "code"]
    stored = [number for number, cell in cells if cell.outputs or cell.execution_count is not None]
    if stored:
        raise PageError(f"{name}: cells {stored} carry stored outputs; clear them (the build makes the outputs)")
    for number, cell in cells:
        refuse_tensors_off_device(
            cell.source, name,
            lambda n, c=cell, k=number: f"{name} cell {k} line {n}: {c.source.splitlines()[n - 1].strip()}")
    namespace = {"__name__": "__main__"}
    output = io.StringIO()
    with guarded(name), contextlib.redirect_stdout(output):
        for number, cell in cells:
            filename = f"<{name} cell {number}>"
            try:
                run_code(cell.source, namespace, filename)
            except (Exception, PageTimeout) as error:
                frame = innermost(error, filename)
                raise PageError(f"{name} cell {number} line {frame.lineno if frame else '?'}: "
                                f"{describe_exception(error)}\n    {frame.line if frame else ''}") from None
    return len(cells), output.getvalue()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[rel(n) for n in NOTEBOOKS])
def test_notebook_runs_cell_by_cell(notebook, record_property, request):
    """Reused, as a page is, when it passed with exactly the same inputs (harness.run_key)."""
    name, key, stored = stored_run(notebook, request.config.getoption("--record-verified"))
    if stored is not None:
        cells, output, seconds = stored["cells"], stored["output"], stored["seconds"]
        record_property("page_runs_reused", 1)
    else:
        (cells, output), seconds = or_fail(lambda: within_cpu_budget(name, lambda: run_notebook(notebook)))
    print(output)
    record_property("notebooks", 1)
    record_property("executed_blocks", cells)
    record_property("notes_page_cpu_s", (name, round(seconds, 2)))
    record_property("verified", (name, {"code": code_fingerprint(notebook)}))
    cache.remember_pass("page-run", name, key, {"cells": cells, "output": output, "seconds": seconds})
