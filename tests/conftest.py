"""Suite-wide switches, the device report and the counts printed at the end of a run."""

import os
import subprocess
import sys

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--cpu",
        action="store_true",
        help="hide every accelerator so pages and snippets run on the CPU (same as CUDA_VISIBLE_DEVICES=)",
    )


def pytest_configure(config):
    if config.getoption("--cpu"):
        # CUDA reads this when it initialises, which torch does lazily: setting it here is in time.
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["NOTES_FORCE_CPU"] = "1"
    if os.environ.get("NOTES_FORCE_CPU") == "1":
        import torch

        # For accelerators that CUDA_VISIBLE_DEVICES does not hide (Apple's MPS, XPU, ...).
        torch.accelerator.current_accelerator = lambda check_available=False: None
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files, never to a window
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        # Two workers with two threads each on two cores make small ops stall; share the cores.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_report_header(config):
    import torch

    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    return f"notes device: {device} ({name}); torch {torch.__version__}"


def pytest_terminal_summary(terminalreporter):
    counts = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", []):
                if key in {"pages", "snippets", "executed_blocks", "skipped_blocks"}:
                    counts[key] = counts.get(key, 0) + value
    if counts:
        terminalreporter.write_sep("-", "notes")
        terminalreporter.write_line(
            ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(counts.items()))
        )


@pytest.fixture(scope="session")
def site_port():
    """A free local port. Material's instant navigation follows only links listed in sitemap.xml,
    which carries site_url, so the site is built for the port the browser tests serve it on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory, site_port):
    """The site built once per worker with `mkdocs build --strict`; a failed build fails every user."""
    from harness import ROOT

    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", NOTES_SITE_URL=f"http://127.0.0.1:{site_port}/")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    if result.returncode != 0:
        problems = [line for line in (result.stdout + result.stderr).splitlines()
                    if "WARNING" in line or "ERROR" in line or "Error" in line]
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(problems or [result.stderr[-3000:]]),
                    pytrace=False)
    return out
