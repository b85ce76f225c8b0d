"""The worked examples (docs/**/*.ipynb), run cell by cell in this process by the one executor.

No Jupyter kernel: the site build (hooks/notebooks.py) and the notebook test run a notebook the same
way, through ``run``: its code cells in order, in one namespace, under machinery.execute's guards (seeds
reset, sockets refused, the time limit), each cell's output collected as Jupyter would show it:

- what it prints, as a stdout stream (interleaved with its figures in the order they were shown);
- every matplotlib figure it shows (``plt.show()``) or leaves open, as a PNG, as the inline backend does;
- the value of its last line when that is an expression, with its rich forms (``_repr_html_``, ...).

A cell that raises fails the run naming the notebook, cell and line. What a cell shows that its code
did not mean to (anything on stderr, a warning, a figure that cannot be drawn) is a fault too: the run
goes on, and ``NotebookRun.faults`` lists them, for the build to fail on.

Each run also gives a record (``NotebookRun.record``): per code cell its outcome, CPU seconds, what it
printed and the hash of its code, with the torch version and the device; the build keeps it with the
site it built, and the suite reads it instead of running the notebook again.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from machinery import execute
from machinery.cache import digest, fingerprint
from machinery.execute import PageTimeout, chosen_device, describe_exception, guarded, innermost, run_code

RESULT = "__notes_cell_value__"  # the name a cell's last expression is bound to, to be shown


class NotebookError(Exception):
    """A notebook that cannot run as stored; the message names the notebook, cell and line."""


@dataclass
class NotebookRun:
    notebook: object  # the nbformat notebook with its outputs
    record: dict  # see the module's docstring
    faults: list[str] = field(default_factory=list)  # what cells showed that their code did not mean to


def key(path: Path) -> str:
    """Everything a run depends on, without importing torch: the notebook's bytes, the torch and Python
    versions, the settings and the executor's source (machinery.execute.RUN_SETTINGS, EXECUTOR_FILES)."""
    from importlib.metadata import version

    return digest(Path(path).read_bytes(), sys.version, f"torch {version('torch')}", str(execute.run_settings()),
                  *execute.EXECUTOR_FILES)[:24]


def code_of(notebook) -> str:
    """The fingerprint of a notebook's code cells: what its records and the verified records name."""
    return fingerprint([cell.source for cell in notebook.cells if cell.cell_type == "code"])


def split_last_expression(source: str, filename: str):
    """The cell compiled so that the value of its last line, when that is an expression, is kept under
    RESULT (as Jupyter shows it), with line numbers unchanged."""
    tree = ast.parse(source, filename)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name(RESULT, ast.Store())], value=last.value), last)
        ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


class CellOutputs(io.TextIOBase):
    """One cell's outputs in nbformat, in the order they happened; written to as stdout."""

    def __init__(self):
        self.outputs = []

    def writable(self):
        return True

    def write(self, text):
        if self.outputs and self.outputs[-1]["output_type"] == "stream":
            self.outputs[-1]["text"] += text
        elif text:
            self.outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        return len(text)

    def display(self, data: dict, result_of: int | None = None):
        if result_of is None:
            self.outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        else:
            self.outputs.append({"output_type": "execute_result", "data": data, "metadata": {},
                                 "execution_count": result_of})

    def printed(self) -> str:
        return "".join(o["text"] for o in self.outputs if o["output_type"] == "stream")


def rich(value) -> dict:
    """A value as Jupyter shows it: text/plain and its rich forms (IPython's own formatter)."""
    from IPython.core.formatters import DisplayFormatter

    data, _metadata = DisplayFormatter().format(value)
    return data


def show_figures(cell: CellOutputs, faults: list[str], where: str):
    """Every open matplotlib figure into the cell's outputs as a PNG, then closed (the inline backend's
    plt.show() and end of cell). A figure that cannot be drawn is a fault, as the page would show it."""
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        figure = plt.figure(number)
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="png", bbox_inches="tight")
        except Exception as error:  # noqa: BLE001: reported, not raised: the cell itself succeeded
            faults.append(f"{where} shows an error: {describe_exception(error)}")
        else:
            cell.display({"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": repr(figure)})
        plt.close(figure)


@contextlib.contextmanager
def stderr_captured():
    """Everything written to stderr inside, by Python (sys.stderr), a warning, or a library's native
    code (file descriptor 2), as the list's one string once the block ends. Warnings are filtered as a
    fresh Python filters them (and Jupyter: deprecations only from the notebook's own code), whatever
    the host process (MkDocs, pytest) did to the filters or to where warnings go."""
    captured = [""]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as native, warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        for action, category, module in PYTHON_DEFAULT_FILTERS:
            warnings.filterwarnings(action, category=category, module=module)
        os.dup2(native.fileno(), 2)
        python = io.StringIO()
        try:
            with contextlib.redirect_stderr(python):
                yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            native.seek(0)
            shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
            captured[0] = shown + python.getvalue() + native.read().decode(errors="replace")


# Python's own warning filters (`python -W` unset), last first as filterwarnings inserts them.
PYTHON_DEFAULT_FILTERS = [("ignore", ResourceWarning, ""), ("ignore", ImportWarning, ""),
                          ("ignore", PendingDeprecationWarning, ""), ("ignore", DeprecationWarning, ""),
                          ("default", DeprecationWarning, "__main__")]


def run(path: Path, name: str) -> NotebookRun:
    """Run the notebook at ``path`` (``name``: how messages name it, e.g. docs/examples/x.ipynb)."""
    import matplotlib
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    stored = [number for number, cell in enumerate(cells, 1) if cell.outputs or cell.execution_count is not None]
    if stored:
        raise NotebookError(f"{name}: code cells {stored} carry stored outputs; clear them (the build makes the outputs)")
    matplotlib.use("Agg")  # figures are drawn to PNG here, never to a window
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__"}
    faults, blocks = [], []
    shown_by = {}
    real_show = plt.show
    plt.show = lambda *args, **kwargs: show_figures(shown_by["cell"], faults, shown_by["where"])
    started = time.process_time()
    try:
        with guarded(name):
            for number, cell in enumerate(cells, 1):
                filename, where = f"<{name} cell {number}>", f"{name} code cell {number}"
                outputs = shown_by["cell"] = CellOutputs()
                shown_by["where"] = where
                cell_started = time.process_time()
                try:
                    code = split_last_expression(cell.source, filename)
                    with stderr_captured() as stderr, contextlib.redirect_stdout(outputs):
                        run_code(code, namespace, filename, cell.source)
                        value = namespace.pop(RESULT, None)
                        if value is not None:
                            outputs.display(rich(value), result_of=number)
                        show_figures(outputs, faults, where)
                except (Exception, PageTimeout) as error:
                    frame = innermost(error, filename)
                    line = cell.source.splitlines()[frame.lineno - 1].strip() if frame else ""
                    raise NotebookError(f"{where} line {frame.lineno if frame else '?'}: {describe_exception(error)}"
                                        + (f"\n    {line}" if line else "")) from None
                if stderr[0].strip():
                    faults.append(f"{where} prints to stderr: {stderr[0].strip()[:300]}")
                cell.outputs = [nbformat.from_dict(output) for output in outputs.outputs]
                cell.execution_count = number
                blocks.append({"cell": number, "outcome": "passed", "seconds": round(time.process_time() - cell_started, 3),
                               "output": outputs.printed(), "code": fingerprint([cell.source])})
    finally:
        plt.show = real_show
        plt.close("all")
    import torch

    record = {"name": name, "torch": torch.__version__, "device": str(chosen_device()), "python": sys.version.split()[0],
              "seconds": round(time.process_time() - started, 3), "cells": len(cells),
              "output": "".join(block["output"] for block in blocks), "blocks": blocks,
              "code": code_of(notebook)}
    return NotebookRun(notebook, record, faults)
