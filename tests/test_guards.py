"""Planted faults: each guard of the suite must fail loudly, naming the page, line and reason.

Harness faults run in this process against pages written to a temporary folder. Build faults run
`mkdocs build --strict` on a scratch copy of the project with the faulty pages added.
"""

import functools
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness import build_site
from machinery import execute
from machinery.pages import PageError, ROOT, run_page, run_snippet


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def scratch(tmp_path):
    """A scratch project root with its own docs/ and snippets/; mkdocs.yml's settings still apply."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets").mkdir()
    return tmp_path


def page_error(root: Path, page: Path) -> str:
    with pytest.raises(PageError) as caught:
        run_page(page, root)
    return str(caught.value)


def test_wrong_value_in_a_snippet_assert_names_page_and_snippet_lines(scratch):
    write(scratch / "snippets/planted_wrong_value.py", """
        import torch

        torch.manual_seed(0)
        ours = torch.tensor([1.0, 2.0], device="cpu")
        torch.testing.assert_close(ours, torch.tensor([1.0, 2.5], device="cpu"))
    """)
    page = write(scratch / "docs" / "wrong.md", """
        # Wrong

        Some prose.

        ```python
        --8<-- "snippets/planted_wrong_value.py"
        ```
    """)
    message = page_error(scratch, page)
    assert "docs/wrong.md:6 (from snippets/planted_wrong_value.py:5): AssertionError" in message
    assert "AssertionError" in message and "torch.testing.assert_close(ours" in message
    with pytest.raises(PageError, match=r"snippets/planted_wrong_value.py:5: AssertionError"):
        run_snippet(scratch / "snippets" / "planted_wrong_value.py", scratch)


@pytest.mark.parametrize(
    "fence, close",
    [("```py", "```"), ("```python3", "```"), ('```python title="x.py"', "```"),
     ("~~~python", "~~~"), ("``` {.python}", "```"), ("```py3 linenums=\"1\"", "```")],
)
def test_every_python_spelling_is_executed(scratch, fence, close):
    page = write(scratch / "docs" / "spelling.md", f"""
        # Spelling

        {fence}
        raise ValueError("this block ran")
        {close}
    """)
    message = page_error(scratch, page)
    assert f"docs/{page.name}:4: ValueError: this block ran" in message


def test_python_inside_tabs_and_admonitions_is_executed(scratch):
    page = write(scratch / "docs" / "nested.md", """
        # Nested

        === "Tab"

            ```python
            x = 1
            ```

        !!! warning "Inside"

            ```python
            assert x == 2, "the admonition block ran"
            ```
    """)
    message = page_error(scratch, page)
    assert f"docs/{page.name}:12: AssertionError: the admonition block ran" in message


def test_missing_include_names_the_page(scratch):
    page = write(scratch / "docs" / "missing.md", """
        # Missing

        ```python
        --8<-- "snippets/does_not_exist.py"
        ```
    """)
    message = page_error(scratch, page)
    assert f"docs/{page.name}" in message and "does_not_exist.py" in message and "could not be found" in message
    assert f"docs/{page.name}:4: no file snippets/does_not_exist.py" in message, message


def test_a_misspelt_section_names_the_line_and_the_sections_that_exist(scratch):
    write(scratch / "snippets" / "sections.py", """
        # --8<-- [start:setup]
        x = 1
        # --8<-- [end:setup]
        # --8<-- [start:check]
        assert x == 1
        # --8<-- [end:check]
    """)
    page = write(scratch / "docs" / "sections.md", """
        # Sections

        ```python
        --8<-- "snippets/sections.py:setpu"
        ```
    """)
    message = page_error(scratch, page)
    assert f"docs/{page.name}:4: snippets/sections.py has no section 'setpu'; its sections: setup, check" in message, message


def test_endless_loop_times_out_naming_the_line(scratch, monkeypatch):
    monkeypatch.setattr(execute, "PAGE_TIMEOUT_S", 1.0)
    page = write(scratch / "docs" / "loop.md", """
        # Loop

        ```python
        n = 0
        while True:
            n += 1
        ```
    """)
    message = page_error(scratch, page)
    assert re.search(r"^docs/loop.md:[56]: timed out: docs/loop.md ran longer than 1 s", message), message


@pytest.mark.filterwarnings("ignore:A test tried to use socket")  # pytest-socket also warns
def test_socket_connection_is_refused(scratch):
    page = write(scratch / "docs" / "net.md", """
        # Net

        ```python
        import urllib.request
        urllib.request.urlopen("http://example.com", timeout=1)
        ```
    """)
    message = page_error(scratch, page)
    assert f"docs/{page.name}:5: network access refused" in message


def test_socket_refusal_holds_in_the_guarded_thread_only():
    """Guarded code runs while other threads of the process need their sockets (the suite's web server,
    the browser's driver): the guard refuses the guarded thread's sockets and leaves the other threads',
    and is gone afterwards."""
    import socket
    import threading

    from machinery.execute import SocketBlockedError, sockets_refused

    true_socket, opened = socket.socket, []
    with sockets_refused():
        with pytest.raises(SocketBlockedError, match="socket.socket"):
            socket.socket()
        other = threading.Thread(target=lambda: opened.append(socket.socket()))
        other.start()
        other.join()
    assert len(opened) == 1
    opened[0].close()
    assert socket.socket is true_socket


@pytest.mark.parametrize("marker", [
    '<!--pytest.mark.skip(reason="needs a GPU")-->', "<!--pytest-codeblocks:skip-->", "<!--pytest-codeblocks:cont-->",
    "<!--pytest-codeblocks:expected-output-->", "<!--pytest.mark.xfail(raises=ZeroDivisionError)-->",
    "<!-- pytest-codeblocks:importorskip(numpy) -->",
])
def test_a_codeblocks_marker_is_refused_by_name(scratch, marker):
    """No page skips, chains or checks a block by marker: every block runs, in page order, in one
    namespace; a marker would quietly change that, so it fails the page naming its line."""
    page = write(scratch / "docs" / "marked.md", f"""
        # Marked

        {marker}
        ```python
        x = 1
        ```
    """)
    message = page_error(scratch, page)
    assert "pytest-codeblocks markers are not used" in message and f"docs/marked.md:3: {marker}" in message, message


def test_a_page_without_executed_blocks_fails(scratch):
    page = write(scratch / "docs" / "prose.md", """
        # Prose

        ```text
        not python
        ```
    """)
    assert "no Python block was executed" in page_error(scratch, page)


def test_seeds_are_reset_so_two_runs_print_the_same(scratch):
    page = write(scratch / "docs" / "random.md", """
        # Random

        ```python
        import random
        import numpy
        import torch
        print(torch.randn(3, device="cpu"), random.random(), numpy.random.rand())
        ```
    """)
    first = run_page(page, scratch).output
    run_page(page, scratch)  # consumes the generators once more
    assert run_page(page, scratch).output == first


def test_tensor_created_without_device_is_refused(scratch):
    write(scratch / "snippets/cpu_only.py", """
        import torch

        torch.manual_seed(0)
        device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
        w = torch.randn(3, device=device)
        x = torch.ones(3)
        shown = torch.zeros(3)  # noqa: device
        print(w @ x.to(device))
    """)
    page = write(scratch / "docs" / "device.md", """
        # Device

        ```python
        --8<-- "snippets/cpu_only.py"
        ```
    """)
    message = page_error(scratch, page)
    assert "docs/device.md:4 (from snippets/cpu_only.py:6): x = torch.ones(3)" in message, message
    assert "shown" not in message
    with pytest.raises(PageError, match=r"snippets/cpu_only.py:6: x = torch.ones\(3\)"):
        run_snippet(scratch / "snippets" / "cpu_only.py", scratch)


def test_snippet_without_its_own_seed_is_refused(scratch):
    snippet = write(scratch / "snippets/unseeded.py", "import torch\n\nprint(torch.randn(2, device='cpu'))\n")
    with pytest.raises(PageError, match="call torch.manual_seed"):
        run_snippet(snippet, scratch)


def test_console_transcript_is_refused_by_name(scratch):
    page = write(scratch / "docs" / "console.md", """
        # Console

        ```pycon
        >>> 1 + 1
        2
        ```
    """)
    assert "docs/console.md:3: fence '```pycon'" in page_error(scratch, page)


def test_orphan_snippet_is_reported(scratch):
    from machinery.pages import orphans

    write(scratch / "snippets/shown.py", "x = 1\n")
    write(scratch / "snippets/orphan.py", "x = 2\n")
    write(scratch / "docs/page.md", '# Page\n\n```python\n--8<-- "snippets/shown.py"\n```\n')
    assert orphans([scratch / "docs/page.md"], sorted((scratch / "snippets").glob("*.py")), scratch) == [
        "snippets/orphan.py"
    ]


# ---------------------------------------------------------------------------------------------
# Build faults: `mkdocs build --strict` on a scratch copy
# ---------------------------------------------------------------------------------------------


def scratch_build(tmp_path: Path, pages: dict[str, str], **env) -> subprocess.CompletedProcess:
    """The strict build of scratch_project(tmp_path, pages). ``env``: environment variables for the build."""
    return build_site(scratch_project(tmp_path, pages), tmp_path / "site", timeout=240, **env)


def scratch_project(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A small project that inherits every setting of mkdocs.yml (plugins, hooks, validation,
    strict) but holds only a home page and the planted pages, so the build takes seconds."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "hooks", copy / "hooks")
    shutil.copytree(ROOT / "overrides", copy / "overrides")  # mkdocs.yml's theme custom_dir
    (copy / "snippets").mkdir()  # mkdocs.yml watches it
    for name in ("javascripts", "stylesheets"):
        shutil.copytree(ROOT / "docs" / name, copy / "docs" / name)
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    write(copy / "docs" / "index.md", "# Home\n\nPlanted faults follow.\n")
    write(copy / "docs" / "tags.md", "# Tags\n")
    for name, text in pages.items():
        write(copy / "docs" / name, text)
    nav = "\n".join(f"  - {name}" for name in ["index.md", "tags.md", *pages])
    write(copy / "mkdocs.yml", f"INHERIT: {ROOT / 'mkdocs.yml'}\nnav:\n{nav}\n")
    return copy


def planted_notebook(markdown: str, *code: str) -> str:
    """A notebook file's text: one markdown cell, then a code cell for each of ``code``."""
    import nbformat

    cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(source) for source in code]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nbformat.writes(notebook)


# Every planted page of the build-fault tests below, in one scratch project built once (a strict build
# costs seconds): each test reads the faults it plants from the build's log. The time limit is lowered
# to 2 s for the pages and notebooks that run too long.
PLANTED = {
    # links, anchors, TeX, a failing figure block
    "planted/link.md": "# Link\n\nSee [nowhere](../no-such-page.md).\n",
    "planted/target.md": "# Target\n\n## A real heading\n\nText.\n",
    "planted/anchor.md": "# Anchor\n\nSee [this](target.md#a-real-heading), not [that](target.md#no-such-heading).\n",
    "planted/tex.md": "# TeX\n\n$$\n\\frac{a}{\n$$\n",
    "planted/figure.md": '# Figure\n\n```python figure="Broken"\nraise ValueError("no picture")\n```\n',
    "planted/notebook.ipynb": planted_notebook(
        "# Links\n\n[fine](target.md#a-real-heading), [no page](gone.md), [no heading](target.md#no-such-heading)"),
    # the guards, at build time
    "planted/net.md": '# Net\n\n```python figure="Net"\nimport urllib.request\n'
                      'urllib.request.urlopen("http://example.com", timeout=1)\n```\n',
    "planted/slow.md": '# Slow\n\n```python figure="Slow"\nimport time\ntime.sleep(30)\n```\n',
    "planted/net.ipynb": planted_notebook(
        "# Net", "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)"),
    "planted/slow.ipynb": planted_notebook("# Slow", "import time\ntime.sleep(30)"),
    # front matter and the notebooks' table
    "planted/asks.md": "---\nprerequisites: []\nquestions:\n  - One?\n  - Two?\n  - Three?\n---\n\n# Asks\n",
    "planted/silent.md": "---\nprerequisites: []\n---\n\n# Silent\n",
    "planted/unlisted.ipynb": planted_notebook("# Unlisted\n\nNo entry in the table."),
    # notebook cells that fail or show what they did not mean to
    "planted/noisy.ipynb": planted_notebook("# Planted", "import warnings\nwarnings.warn('planted library noise')", "y = 2"),
    "planted/broken.ipynb": planted_notebook("# Planted", "x = 1", "raise ValueError('planted notebook failure')"),
    # the cell succeeds; drawing its figure for the page fails (mathtext has no \\lVert)
    "planted/drawing.ipynb": planted_notebook(
        "# Planted", "import matplotlib.pyplot as plt\nplt.plot([1, 2], label=r'$\\lVert x \\rVert$')\n"
                     "plt.legend()\nplt.show()"),
    # a broken link's line; links inside code are not links
    "planted/lines.md": "# Lines\n\nFine: [home](../index.md).\n\n```text\n[not a link](code-only.md)\n```\n\n"
                        "Shown as code: `[x](code-only.md)`.\n\nBroken: [nowhere](../no-such-page.md).\n",
}


class PlantedBuild:
    """The strict build of PLANTED, run the first time a test reads its log (a test whose pass is reused
    on identical inputs reads nothing, and nothing is built). The xdist workers share it: under a lock
    in the run's common folder the first one builds and keeps the log there, the others read it."""

    def __init__(self, shared: Path):
        self.shared = shared

    @functools.cached_property
    def log(self) -> str:
        from filelock import FileLock

        kept = self.shared / "planted-build.log"
        with FileLock(self.shared / "planted-build.lock"):
            if not kept.is_file():
                result = scratch_build(self.shared / "planted", PLANTED, NOTES_PAGE_TIMEOUT="2")
                log = result.stdout + result.stderr
                assert result.returncode != 0, log
                kept.write_text(log, encoding="utf-8")
        return kept.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def planted(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    # the run's folder, common to its xdist workers (each has its own popen-gwN below it)
    return PlantedBuild(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


@pytest.mark.reusable("project")
def test_strict_build_fails_on_broken_link_anchor_tex_and_figure(planted):
    log = planted.log
    assert "'planted/link.md' contains a link '../no-such-page.md'" in log, log
    assert "'planted/anchor.md' contains a link 'target.md#no-such-heading'" in log, log
    assert "#a-real-heading" not in log, log
    assert "'planted/tex.md' contains malformed TeX" in log, log
    assert ("'planted/figure.md': its code failed when the site was built:\n"
            "docs/planted/figure.md:4: ValueError: no picture") in log, log
    # notebooks: mkdocs-jupyter does not validate links, hooks/notebooks.py does
    assert "'planted/notebook.ipynb' contains a link 'gone.md'" in log, log
    assert "'planted/notebook.ipynb' contains a link 'target.md#no-such-heading'" in log, log
    assert "target.md#a-real-heading" not in log, log


@pytest.mark.reusable("project")
def test_strict_build_fails_on_a_figure_block_or_notebook_that_opens_a_socket_or_runs_too_long(planted):
    """Pages (figure blocks among them) and notebooks run at build time under the suite's guards
    (machinery.execute): no network, and the time limit, here lowered to 2 s through NOTES_PAGE_TIMEOUT."""
    log = planted.log
    # every page's code runs in the build, figure blocks included (hooks/runs.py)
    assert ("'planted/net.md': its code failed when the site was built:\n"
            "docs/planted/net.md:5: network access refused") in log, log
    assert ("'planted/slow.md': its code failed when the site was built:\n"
            "docs/planted/slow.md:5: timed out: docs/planted/slow.md ran longer than 2 s (NOTES_PAGE_TIMEOUT)") in log, log
    # notebooks run in the build under the same guards (machinery.notebooks)
    assert "notebook 'planted/net.ipynb' failed while executing" in log and "network access refused" in log, log
    assert "docs/planted/slow.ipynb ran longer than 2 s (NOTES_PAGE_TIMEOUT)" in log, log


@pytest.mark.reusable("project")
def test_strict_build_fails_on_missing_include(tmp_path):
    result = scratch_build(tmp_path, {
        "planted/include.md": '# Include\n\n```python\n--8<-- "snippets/does_not_exist.py"\n```\n',
    })
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert "does_not_exist.py" in log and "could not be found" in log, log


@pytest.mark.reusable("project")
def test_strict_build_fails_on_a_concept_page_without_questions_or_a_notebook_without_its_entry(planted):
    """hooks/vocabulary.py: a concept page lists the questions it answers (front matter `questions:`),
    a notebook has its description and tags in hooks/notebooks.yml."""
    log = planted.log
    assert "'planted/silent.md' lists no questions" in log, log
    assert "'planted/unlisted.ipynb' has no entry in hooks/notebooks.yml" in log, log
    assert "planted/asks.md' lists" not in log, log


@pytest.mark.reusable("project")
def test_notebook_with_stored_outputs_or_a_failing_cell_is_refused(tmp_path):
    import nbformat

    from machinery import notebooks

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Example"),
        nbformat.v4.new_code_cell("import torch\nx = torch.ones(2, device='cpu')"),
        nbformat.v4.new_code_cell("y = x + 1\nassert y.sum() == 5, 'wrong sum'"),
    ])
    path = tmp_path / "example.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(notebooks.NotebookError, match=r"^example.ipynb code cell 2 line 2: AssertionError: wrong sum"):
        notebooks.run(path, "example.ipynb")
    notebook.cells[2].source = "y = x + 1"
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nbformat.write(notebook, path)
    with pytest.raises(notebooks.NotebookError, match=r"code cells \[2\] carry stored outputs"):
        notebooks.run(path, "example.ipynb")


def test_a_notebook_shows_what_jupyter_would(tmp_path):
    """machinery.notebooks collects, in order, what a cell prints, the figures it shows or leaves open,
    and its last expression's value with its rich forms; stderr noise is a fault, not an output."""
    import nbformat

    from machinery import notebooks

    path = tmp_path / "shows.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nprint('before')\nplt.plot([1, 2])\nplt.show()\n"
                                  "print('after')\nplt.figure()\nplt.plot([2, 1])"),
        nbformat.v4.new_code_cell("from IPython.display import HTML\nHTML('<b>bold</b>')"),
        nbformat.v4.new_code_cell("import sys\nprint('noise', file=sys.stderr)\n6 * 7"),
    ]), path)
    run = notebooks.run(path, "shows.ipynb")
    first, second, third = (cell.outputs for cell in run.notebook.cells)
    # as Jupyter orders them: the last line's value, then the figures still open at the end of the cell
    assert [o.output_type for o in first] == ["stream", "display_data", "stream", "execute_result", "display_data"]
    assert first[0].text == "before\n" and first[2].text == "after\n" and "Line2D" in first[3].data["text/plain"]
    assert first[1].data["image/png"].startswith("iVBOR") and first[1].data["text/plain"].startswith("<Figure size")
    assert second[0].output_type == "execute_result" and second[0].data["text/html"] == "<b>bold</b>"
    assert third[0].data["text/plain"] == "42" and run.notebook.cells[2].execution_count == 3
    assert run.faults == ["shows.ipynb code cell 3 prints to stderr: noise"]
    assert run.record["output"] == "before\nafter\n" and [b["cell"] for b in run.record["blocks"]] == [1, 2, 3]


@pytest.mark.reusable("project")
def test_strict_build_fails_on_a_notebook_cell_that_raises_or_shows_an_error(planted):
    """Also on what a cell shows that its code did not mean to: anything on stderr, such as a warning
    or a library's own complaints (reused Jupyter kernels once showed IPython's history-database errors)."""
    log = planted.log
    assert "notebook 'planted/broken.ipynb' failed while executing" in log and "planted notebook failure" in log, log
    assert "failed while executing: code cell 2 line 1" in log, log  # the second code cell, as Jupyter numbers it
    assert "notebook 'planted/drawing.ipynb' code cell 1 shows an error: ValueError" in log, log
    assert "notebook 'planted/noisy.ipynb' code cell 1 prints to stderr" in log and "planted library noise" in log, log


def test_an_answer_its_code_does_not_print_fails_naming_the_answer_line(scratch):
    write(scratch / "snippets/planted_quiz.py", """
        import torch

        torch.manual_seed(0)
        shape = (torch.ones(4, 1, device="cpu") + torch.ones(3, device="cpu")).shape
        print(shape)
    """)
    page = write(scratch / "docs" / "quiz.md", """
        # Quiz

        ## Check yourself

        ??? question "What shape is `torch.ones(4, 1) + torch.ones(3)`?"
            **Answer:** `torch.Size([3, 4])`.

            ```python
            --8<-- "snippets/planted_quiz.py"
            ```
    """)
    message = page_error(scratch, page)
    assert "docs/quiz.md:6: the answer says `torch.Size([3, 4])`" in message
    assert "torch.Size([4, 3])" in message  # what the code printed, for the author to compare
    # The same page with the true answer runs; an answer with no code under it does not.
    page.write_text(page.read_text().replace("[3, 4]", "[4, 3]"))
    run_page(page, scratch)
    page.write_text(page.read_text().replace('--8<-- "snippets/planted_quiz.py"', "").replace("```python\n", "```text\n"))
    assert "has no executed Python block computing its answer" in page_error(scratch, page)


# ---------------------------------------------------------------------------------------------
# Build messages a contributor can act on
# ---------------------------------------------------------------------------------------------


@pytest.mark.reusable("project")
def test_a_broken_link_is_reported_with_its_page_line(planted):
    """MkDocs names the page of a link to no page, not the line; hooks/links.py adds `docs/page.md:LINE`.
    Links inside code (a fenced block, a code span) are not links and are left alone."""
    log = planted.log
    assert ("docs/planted/lines.md:11: the link '../no-such-page.md' leads to no page "
            "(docs/no-such-page.md does not exist)") in log, log
    assert "code-only.md" not in log, log


@pytest.mark.reusable("project")
def test_a_page_missing_from_nav_is_named_with_what_to_do(tmp_path):
    """A page in docs/ but not in mkdocs.yml's nav fails the strict build; MkDocs lists it on a line of
    its own under the warning, which the failure of the site's tests (plugins/site.py: wait_for_site) shows,
    with what to do."""
    from plugins.site import wait_for_site

    project = scratch_project(tmp_path, {"listed.md": "# Listed\n"})
    write(project / "docs" / "unlisted.md", "# Unlisted\n")
    result = build_site(project, tmp_path / "site", timeout=240)
    assert result.returncode != 0, result.stdout + result.stderr
    folder = tmp_path / "build"
    write(folder / "build.log", result.stdout + result.stderr)
    write(folder / "returncode", str(result.returncode))
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_for_site(folder)
    message = str(failed.value)
    assert 'are not included in the "nav" configuration' in message, message
    assert "  - unlisted.md" in message, message
    assert "docs/unlisted.md is not in nav: add it to mkdocs.yml" in message, message
    assert "listed.md is not in nav" not in message.replace("unlisted.md is not", ""), message


def test_a_build_record_for_other_code_torch_or_device_is_refused(tmp_path):
    """tests/test_pages.py and test_notebooks.py read what the build ran (harness.built_record) only
    when it ran this code on this torch and device; a missing record is named too."""
    import json

    import torch

    from harness import built_record
    from machinery.pages import DOCS, chosen_device, code_fingerprint
    from machinery.records import build_record_path

    page = DOCS / "tensors" / "where.md"
    executed = lambda record: record["run"]["blocks_run"]  # noqa: E731
    with pytest.raises(PageError, match=r"docs/tensors/where.md: the site build ran no such page"):
        built_record(page, tmp_path, executed)
    right = {"torch": torch.__version__, "device": str(chosen_device()), "code": code_fingerprint(page),
             "run": {"blocks_run": 3}}
    file = build_record_path(tmp_path, "tensors/where.md")
    for wrong in ({"torch": "9.9.9"}, {"device": "cuda:0"}, {"code": "0123456789abcdef"}):
        file.write_text(json.dumps({**right, **wrong}))
        with pytest.raises(PageError, match=r"the site build ran it with .*, this run is"):
            built_record(page, tmp_path, executed)
    file.write_text(json.dumps(right))
    assert built_record(page, tmp_path, executed)["run"]["blocks_run"] == 3
