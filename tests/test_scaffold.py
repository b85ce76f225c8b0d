"""The contributors' loop: `make new` (machinery/scaffold.py) writes a concept page and snippet that pass
the checks at once, and `make check PAGE=...` (plugins/selection.py: only_page) selects one page's tests.

The scaffold runs on a scratch copy of the project (as the build faults of test_guards.py do): one
neighbour page in its section, then the new page, which the page runner, the snippet runner, the
check-yourself and vocabulary checks and `mkdocs build --strict` must all accept.
"""

import shutil
import textwrap
from pathlib import Path

import pytest

from harness import build_site
from machinery.pages import ROOT, run_page, run_snippet
from machinery.questions import CHECK_YOURSELF, MISCONCEPTION, questions, remember_points
from machinery.scaffold import ScaffoldError, main, scaffold
from machinery.vocabulary import problems as vocabulary_problems

NEIGHBOUR = """\
---
title: Neighbour
description: A page already in the section.
tags:
  - training
prerequisites: []
questions:
  - One?
  - Two?
  - Three?
---

# Neighbour

A page already in the section, with $x$ for math.

```python
print("neighbour ran")
```
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """A small project inheriting mkdocs.yml, with one page in the Training section."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "hooks", copy / "hooks")
    shutil.copytree(ROOT / "overrides", copy / "overrides")
    for name in ("javascripts", "stylesheets"):
        shutil.copytree(ROOT / "docs" / name, copy / "docs" / name)
    (copy / "tests").mkdir()
    shutil.copyfile(ROOT / "tests" / "tags.tsv", copy / "tests" / "tags.tsv")
    (copy / "snippets").mkdir()
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    (copy / "docs" / "index.md").write_text("# Home\n\nA scratch project.\n", encoding="utf-8")
    (copy / "docs" / "tags.md").write_text("# Tags\n", encoding="utf-8")
    (copy / "docs" / "training").mkdir()
    (copy / "docs" / "training" / "neighbour.md").write_text(NEIGHBOUR, encoding="utf-8")
    (copy / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        INHERIT: {ROOT / 'mkdocs.yml'}
        nav:
          - Home: index.md
          - Training:
              - training/neighbour.md
          - Review sheet: review/index.md
          - Tags: tags.md
        """), encoding="utf-8")
    return copy


@pytest.mark.reusable("project")
def test_a_scaffolded_page_and_snippet_pass_the_page_snippet_and_build_checks(project, tmp_path):
    changed = scaffold("planted-idea", "training", project)
    assert changed == ["docs/training/planted-idea.md", "snippets/planted_idea.py", "mkdocs.yml",
                       "docs/training/neighbour.md"]
    page, snippet = project / "docs/training/planted-idea.md", project / "snippets/planted_idea.py"
    text = page.read_text(encoding="utf-8")
    assert "TODO" in text and "TODO" in snippet.read_text(encoding="utf-8")  # a placeholder, visibly

    result = run_page(page, project)  # every block, the answers against what their code prints
    assert result.blocks_run >= 6
    assert "running_sum matches torch.cumsum" in run_snippet(snippet, project)

    from mkdocs.utils.meta import get_data

    meta = get_data(text)[1]
    assert meta["title"] == "Planted idea" and meta["description"] and meta["tags"] == ["training"]
    assert meta["prerequisites"] == ["training/neighbour.md"] and not vocabulary_problems(meta)
    asked = [q for q in questions(text.splitlines()) if q.section == CHECK_YOURSELF]
    assert len(asked) >= 3 and all(q.claims for q in asked)
    assert any(MISCONCEPTION in q.classes for q in asked)
    assert 3 <= len(remember_points(text.splitlines())) <= 5
    assert "      - training/planted-idea.md\n" in (project / "mkdocs.yml").read_text(encoding="utf-8")
    assert "](planted-idea.md): TODO" in (project / "docs/training/neighbour.md").read_text(encoding="utf-8")

    built = build_site(project, tmp_path / "site", timeout=240)
    assert built.returncode == 0, built.stdout + built.stderr
    html = (tmp_path / "site/training/planted-idea/index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in html and 'class="md-tag' in html
    assert 'href="../neighbour/"' in html.split('id="linked-from"')[1]  # linked from its neighbour

    with pytest.raises(ScaffoldError, match="exists already"):  # never overwrites
        scaffold("planted-idea", "training", project)


def test_scaffold_refuses_a_bad_name_or_section(project, capsys):
    with pytest.raises(ScaffoldError, match="lower-case words joined by hyphens"):
        scaffold("Planted_Idea", "training", project)
    with pytest.raises(ScaffoldError, match="no section with a tag"):
        scaffold("planted-idea", "nowhere", project)
    assert main(["Bad Name", "training"]) == 2 and "make new:" in capsys.readouterr().err


@pytest.mark.reusable("project")
def test_check_selects_the_page_its_snippets_and_its_browser_visit():
    """`make check PAGE=...` (plugins/selection.py: only_page): the page's tests, the snippets it includes (also one
    named unlike the page: matrix-multiplication.md includes matmul.py), and nothing of other pages."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--page", "docs/tensors/matrix-multiplication.md",
         "tests/test_pages.py", "tests/test_snippets.py", "tests/test_browser.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    selected = sorted(line for line in run.stdout.splitlines() if "::" in line)
    assert selected == [
        "tests/test_browser.py::test_page_in_the_browser[docs/tensors/matrix-multiplication.md]",
        "tests/test_pages.py::test_check_yourself[docs/tensors/matrix-multiplication.md]",
        "tests/test_pages.py::test_page[docs/tensors/matrix-multiplication.md]",
        "tests/test_snippets.py::test_snippet_runs_alone[snippets/matmul.py:matmul]",
    ], run.stdout
    wrong = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                            "--page", "docs/no-such-page.md", "tests/test_pages.py"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "no page under docs/" in wrong.stdout + wrong.stderr
