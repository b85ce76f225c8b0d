"""Every notebook under docs/ is stored without outputs and runs top to bottom, cell by cell, in one
namespace, with the same guards as a page (seeds reset, sockets refused, a time limit, tensors on
the chosen device). The site build executes them again (mkdocs-jupyter, allow_errors: false)."""

import contextlib
import io
import linecache
import traceback

import nbformat
import pytest

from harness import DOCS, ON_PURPOSE, PageError, PageTimeout, describe_exception, device_lint, guarded, rel

NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))


def run_notebook(path):
    name = rel(path)
    notebook = nbformat.read(path, as_version=4)
    cells = [(number, cell) for number, cell in enumerate(notebook.cells, 1) if cell.cell_type == "code"]
    stored = [number for number, cell in cells if cell.outputs or cell.execution_count is not None]
    if stored:
        raise PageError(f"{name}: cells {stored} carry stored outputs; clear them (the build makes the outputs)")
    for number, cell in cells:
        if unplaced := device_lint(cell.source):
            raise PageError(f"{name} cell {number} line {unplaced[0]}: tensor created without device= "
                            f"(add device=device, or {ON_PURPOSE!r})")
    namespace = {"__name__": "__main__"}
    output = io.StringIO()
    with guarded(name), contextlib.redirect_stdout(output):
        for number, cell in cells:
            filename = f"<{name} cell {number}>"
            linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
            try:
                exec(compile(cell.source, filename, "exec"), namespace)
            except (Exception, PageTimeout) as error:
                frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
                line = frames[-1].lineno if frames else "?"
                raise PageError(f"{name} cell {number} line {line}: {describe_exception(error)}\n"
                                f"    {frames[-1].line if frames else ''}") from None
            finally:
                linecache.cache.pop(filename, None)
    return len(cells), output.getvalue()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[rel(n) for n in NOTEBOOKS])
def test_notebook_runs_cell_by_cell(notebook, record_property):
    try:
        cells, output = run_notebook(notebook)
    except PageError as error:
        pytest.fail(str(error), pytrace=False)
    print(output)
    record_property("notebooks", 1)
    record_property("executed_blocks", cells)
