"""The suite's command-line options and the set-up every process does: the device (--cpu), the
plotting backend, torch's threads under xdist, and the imports paid once per worker."""

import os

import pytest

# OpenMP threads that wait by spinning burn CPU time while idle, which the per-page CPU budget would
# count against an honest page; passive waiting is the honest measure (and kinder to a busy machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_addoption(parser):
    parser.addoption(
        "--cpu",
        action="store_true",
        help="hide every accelerator so pages and snippets run on the CPU (same as CUDA_VISIBLE_DEVICES=)",
    )
    parser.addoption(
        "--record-verified",
        action="store_true",
        help="after a run with no failure, record in verified/ that the pages and notebooks that passed "
        "passed on this torch and device (`make matrix` does this; the site shows it under each title)",
    )
    parser.addoption(
        "--page",
        metavar="docs/SECTION/PAGE.md",
        help="only this page's tests: its blocks and questions, each snippet it includes run alone, its "
        "visit in the browser, and every test of the built site (`make check PAGE=...` does this)",
    )


def pytest_configure(config):
    from machinery.execute import force_cpu, hide_other_accelerators

    if config.getoption("--cpu"):
        # CUDA reads CUDA_VISIBLE_DEVICES when it initialises, which torch does lazily: in time here.
        force_cpu()
    elif os.environ.get("NOTES_FORCE_CPU") == "1":  # inherited: the workers of a --cpu run
        hide_other_accelerators()
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files, never to a window
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        # Two workers with two threads each on two cores make small ops stall; share the cores.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(scope="session", autouse=True)
def warm_imports():
    """Pay, once per worker and outside any page's CPU budget, for what the first page or snippet would
    (machinery.execute.warm_imports); the notebooks' data sets only where a notebook runs here
    (tests/test_notebooks.py), which is rare: the build runs them."""
    from machinery.execute import warm_imports

    warm_imports(data_sets=False)
