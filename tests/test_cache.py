"""The cache of passed checks (machinery/cache.py) cannot hand back a pass for inputs it did not see:
each kind of change, planted in a scratch site, gives a new key, and the check runs again."""

from pathlib import Path

import pytest

from machinery.pages import DOCS
from machinery import cache
from plugins import browser as browser_plugin


@pytest.fixture
def scratch_site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "tensors" / "where").mkdir(parents=True)
    (site / "tensors" / "where" / "index.html").write_text("<h1>torch.where</h1>")
    (site / "assets").mkdir()
    (site / "assets" / "app.js").write_text("console.log('v1')")
    (site / "search").mkdir()
    (site / "search" / "search_index.json").write_text('{"docs": []}')
    monkeypatch.setattr(cache, "CACHE", tmp_path / "cache")
    monkeypatch.delenv("NOTES_FRESH", raising=False)
    return site


SOURCE = DOCS / "tensors" / "where.md"


def key(site, browser="chromium-headless-shell 1", styled=False):
    # The uncached digest: this test changes the site it hashes.
    return cache.digest((site / "tensors/where/index.html").read_bytes(), cache.site_files_digest(site),
                        *browser_plugin.JUDGES, browser, f"styled={styled}")


def test_a_stored_pass_comes_back_only_for_the_same_inputs(scratch_site, monkeypatch, tmp_path):
    first = key(scratch_site)
    assert first == key(scratch_site)  # the same inputs, the same key
    assert browser_plugin.visit_key(scratch_site, SOURCE, "chromium-headless-shell 1", False) == first
    # the page becomes one of the pages the style rules run on: its pass without them is not reused
    assert browser_plugin.visit_key(scratch_site, SOURCE, "chromium-headless-shell 1", True) != first
    cache.remember_pass("browser", "docs/tensors/where.md", first, {"reached": "full"})
    assert cache.passed_before("browser", "docs/tensors/where.md", first) == {"reached": "full"}
    assert cache.passed_before("browser", "docs/tensors/other.md", first) is None  # another check
    monkeypatch.setenv("NOTES_FRESH", "1")
    assert cache.passed_before("browser", "docs/tensors/where.md", first) is None  # NOTES_FRESH=1: no reuse

    changes = {
        "the page as built": lambda: (scratch_site / "tensors/where/index.html").write_text("<h1>where</h1>"),
        "a script the page loads": lambda: (scratch_site / "assets/app.js").write_text("console.log('v2')"),
        "a file added to the site": lambda: (scratch_site / "assets/extra.css").write_text("p {}"),
        "the search index": lambda: (scratch_site / "search/search_index.json").write_text('{"docs": [1]}'),
        "an asset renamed": lambda: (scratch_site / "assets/app.js").rename(scratch_site / "assets/app2.js"),
    }
    seen = {first}
    for what, change in changes.items():
        change()
        now = key(scratch_site)
        assert now not in seen, f"changing {what} kept a key seen before: a stale pass could be reused"
        seen.add(now)
    assert key(scratch_site, browser="chromium-headless-shell 2") not in seen  # another browser version
    assert key(scratch_site, browser="chromium 1") not in seen  # the full browser, not its headless shell

    judge = tmp_path / "judge.py"
    judge.write_text("rule = 1")
    monkeypatch.setattr(browser_plugin, "JUDGES", [*browser_plugin.JUDGES, judge])
    before = key(scratch_site)
    judge.write_text("rule = 2")  # the code that judges changed
    assert key(scratch_site) != before


def test_the_judges_of_a_visit_include_the_test_fixtures_and_harness():
    names = {Path(p).name for p in browser_plugin.JUDGES}
    assert {"test_browser.py", "conftest.py", "site.py", "browser.py", "reuse.py", "harness.py", "axe.min.js", "cache.py"} <= names


@pytest.fixture
def tiny(tmp_path):
    """A project root with one page, docs/tiny.md, that includes one snippet, snippets/tiny.py."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "snippets").mkdir()
    snippet = tmp_path / "snippets" / "tiny.py"
    snippet.write_text("import torch\n\ntorch.manual_seed(0)\nprint(torch.ones(2, device='cpu').sum())\n")
    page = tmp_path / "docs" / "tiny.md"
    page.write_text('# Tiny\n\n```python\n--8<-- "snippets/tiny.py"\n```\n')
    return tmp_path, page, snippet


def test_a_page_runs_again_when_its_text_code_torch_device_or_executor_changes(tiny, tmp_path, monkeypatch):
    import harness
    import torch

    root, page, snippet = tiny
    monkeypatch.setattr(cache, "CACHE", tmp_path / "cache")
    monkeypatch.delenv("NOTES_FRESH", raising=False)

    first = harness.run_key(page, root)
    cache.remember_pass("page-run", "docs/tiny.md", first, {"seconds": 0.1})
    assert cache.passed_before("page-run", "docs/tiny.md", harness.run_key(page, root)) is not None  # reused

    executor = tmp_path / "execute.py"
    executor.write_text("GUARD = 1")
    changes = {
        "the page's text": lambda: page.write_text(page.read_text() + "\nOne more sentence.\n"),
        "the code it includes": lambda: snippet.write_text(snippet.read_text().replace("ones(2", "ones(3")),
        "the torch version": lambda: monkeypatch.setattr(torch, "__version__", "9.9.9"),
        "the device": lambda: monkeypatch.setattr(harness, "chosen_device", lambda: torch.device("cuda")),
        "the executor": lambda: monkeypatch.setattr(harness, "EXECUTOR_SOURCES", [*harness.EXECUTOR_SOURCES, executor]),
        "the executor's code": lambda: executor.write_text("GUARD = 2"),
    }
    seen = {first}
    for what, change in changes.items():
        change()
        key = harness.run_key(page, root)
        assert key not in seen, f"changing {what} kept a key seen before"
        assert cache.passed_before("page-run", "docs/tiny.md", key) is None, f"changing {what}: the run was reused"
        seen.add(key)


def test_the_executor_sources_cover_the_harness_fixtures_and_guards():
    import harness

    names = {Path(p).name for p in harness.EXECUTOR_SOURCES}
    assert {"harness.py", "conftest.py", "options.py", "reuse.py", "execute.py", "pages.py", "notebooks.py",
            "questions.py", "prose_only.txt"} <= names
    assert all(Path(p).is_file() for p in harness.EXECUTOR_SOURCES)


def test_a_project_check_runs_again_when_any_project_file_or_package_changes(tmp_path, monkeypatch):
    """@pytest.mark.reusable("project"): the key covers every file git would commit outside tests/."""
    import subprocess

    root = tmp_path / "project"
    (root / "hooks").mkdir(parents=True)
    (root / "tests").mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "mkdocs.yml").write_text("site_name: x\n")
    (root / "hooks" / "links.py").write_text("A = 1\n")
    (root / "tests" / "test_x.py").write_text("def test(): pass\n")
    (root / ".gitignore").write_text("site/\n")
    argv, env = ["mkdocs", "build"], {"NOTES_SITE_URL": "http://127.0.0.1:8000/"}
    first = cache.build_inputs_digest(root, argv, env)
    assert first == cache.build_inputs_digest(root, argv, env)
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("built")  # ignored by git: not an input
    (root / "tests" / "test_x.py").write_text("def test(): assert 1\n")  # tests/: judged separately
    assert cache.build_inputs_digest(root, argv, env) == first
    seen = {first}
    changes = {
        "a hook": lambda: (root / "hooks" / "links.py").write_text("A = 2\n"),
        "a new, untracked file": lambda: (root / "hooks" / "new.py").write_text(""),
        "the settings": lambda: (root / "mkdocs.yml").write_text("site_name: y\n"),
    }
    for what, change in changes.items():
        change()
        now = cache.build_inputs_digest(root, argv, env)
        assert now not in seen, f"changing {what} kept the key"
        seen.add(now)
    assert cache.build_inputs_digest(root, argv, {**env, "NOTES_PAGE_TIMEOUT": "1"}) not in seen
    assert cache.build_inputs_digest(root, [*argv, "--strict"], env) not in seen
    from importlib import metadata

    real = list(metadata.distributions())
    monkeypatch.setattr(metadata, "distributions", lambda: real[:-1])  # a package removed or changed
    assert cache.build_inputs_digest(root, argv, env) not in seen


def test_the_folder_of_this_runs_site_is_not_a_build_input(monkeypatch):
    """Each run that builds the site names a new folder to its workers (harness.SITE_ENV); were it in
    the builds' environment, every check keyed by it would run again on the run after."""
    from harness import SITE_ENV, build_command

    monkeypatch.setenv(SITE_ENV, "/tmp/pytest-1/notes-site")
    first = build_command(Path("site"))
    monkeypatch.setenv(SITE_ENV, "/tmp/pytest-2/notes-site")
    assert build_command(Path("site")) == first and SITE_ENV not in first[1]


def test_a_site_check_sees_pages_too(tmp_path):
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "a" / "index.html").write_text("one")
    before = cache.site_files_digest(site, pages_too=True)
    assert cache.site_files_digest(site) == cache.site_files_digest(site)
    (site / "a" / "index.html").write_text("two")
    assert cache.site_files_digest(site, pages_too=True) != before


def test_a_page_runs_again_at_build_when_its_text_code_versions_device_or_executor_change(tiny, tmp_path,
                                                                                          monkeypatch):
    """hooks/runs.py keeps each page's run (its record and figures) under run_key: an unchanged page
    runs once; each input changed runs it again."""
    import importlib.util
    from importlib import metadata

    from machinery import pages
    from machinery.pages import ROOT, PageRun

    spec = importlib.util.spec_from_file_location("runs_hook", ROOT / "hooks" / "runs.py")
    runs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runs)
    root, page, snippet = tiny
    monkeypatch.delenv("NOTES_FRESH", raising=False)
    monkeypatch.delenv("NOTES_FORCE_CPU", raising=False)
    ran = []
    monkeypatch.setattr(pages, "run_page", lambda source, root, figures, require_code: ran.append(1) or PageRun(
        "docs/tiny.md", 1, "1\n", [], "fingerprint"))
    runs.run(page, root)
    assert runs.run(page, root)["run"]["output"] == "1\n" and len(ran) == 1  # ran once, then reused
    hook = tmp_path / "runs_copy.py"
    hook.write_text("# the hook, changed")
    real_version = metadata.version
    changes = {
        "the page's text": lambda: page.write_text(page.read_text() + "\nOne more sentence.\n"),
        "the code it includes": lambda: snippet.write_text("print(2)\n"),
        "the torch version": lambda: monkeypatch.setattr(
            metadata, "version", lambda name: "9.9.9" if name == "torch" else real_version(name)),
        "the device": lambda: monkeypatch.setenv("NOTES_FORCE_CPU", "1"),
        "the hook's code": lambda: monkeypatch.setattr(runs, "__file__", str(hook)),
    }
    for what, change in changes.items():
        before = len(ran)
        change()
        runs.run(page, root)
        assert len(ran) == before + 1, f"changing {what}: the page was not run again"
    monkeypatch.setenv("NOTES_FRESH", "1")
    runs.run(page, root)
    assert len(ran) == len(changes) + 2  # NOTES_FRESH=1 runs it again


def test_a_notebook_runs_again_when_its_bytes_torch_device_or_executor_change(tmp_path, monkeypatch):
    """machinery.notebooks.key, which names the build's executed copy and record (hooks/notebooks.py)."""
    from importlib import metadata

    from machinery import execute, notebooks

    path = tmp_path / "x.ipynb"
    path.write_text('{"cells": []}')
    monkeypatch.delenv("NOTES_FORCE_CPU", raising=False)
    first = notebooks.key(path)
    assert notebooks.key(path) == first
    executor = tmp_path / "execute.py"
    executor.write_text("GUARD = 1")
    real_version = metadata.version
    changes = {
        "the notebook": lambda: path.write_text('{"cells": [1]}'),
        "the torch version": lambda: monkeypatch.setattr(
            metadata, "version", lambda name: "9.9.9" if name == "torch" else real_version(name)),
        "the device": lambda: monkeypatch.setenv("NOTES_FORCE_CPU", "1"),
        "the executor": lambda: monkeypatch.setattr(execute, "EXECUTOR_FILES", [*execute.EXECUTOR_FILES, executor]),
        "the executor's code": lambda: executor.write_text("GUARD = 2"),
    }
    seen = {first}
    for what, change in changes.items():
        change()
        now = notebooks.key(path)
        assert now not in seen, f"changing {what} kept the key"
        seen.add(now)
