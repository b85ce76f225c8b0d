"""The one guarded executor: every place that runs the notes' code runs it through here.

Pages and snippets (machinery.pages), notebooks (machinery.notebooks), in the site build (hooks/runs.py,
hooks/notebooks.py) and in the suite alike, the benchmarks and the mutation runner all run code the
same way:

- ``reset_state``: fixed seeds, default dtype, grad on, no open figures;
- ``guarded``: that reset, sockets refused and a wall-clock time limit around the code run inside;
- ``force_cpu``: every accelerator hidden, when asked (``--cpu``);
- ``run_code``: a code string (or code object) run in a namespace under a filename that tracebacks
  map back to (``traceable``), and ``run_file``: a whole file run as ``python path`` runs it.

Sockets are refused without pytest-socket (a test dependency; the build runs without it), the way it
does: ``socket.socket``, ``getaddrinfo`` and ``gethostbyname`` are replaced while guarded code runs.
Unlike pytest-socket, the refusal holds for the guarded thread only: other threads of the process
(the suite's local web server, Playwright's connection to the browser) keep their sockets.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import random
import signal
import socket
import sys
import threading
import traceback
import types
from pathlib import Path

# The wall-clock limit for one page's (snippet's, notebook's, figure block's) code, in seconds.
PAGE_TIMEOUT_S = float(os.environ.get("NOTES_PAGE_TIMEOUT", "60"))


class PageTimeout(BaseException):
    """Raised by the alarm inside page code that ran too long (BaseException: code can't swallow it)."""


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


def reset_state():
    """What every page and snippet starts from: fixed seeds, default dtype, grad on, no figures."""
    import numpy
    import torch

    random.seed(0)
    numpy.random.seed(0)
    torch.manual_seed(0)  # seeds every device's generator too
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@functools.cache
def warm_imports(data_sets: bool = True, optimizers: bool = True):
    """Pay once, before any timed run, for what the first page would: importing torch and matplotlib, and
    when asked scikit-learn's data sets (scipy; ``data_sets``, the worked examples use them) and the lazy
    imports behind the first optimizer step (torch._dynamo) and the first assert_close (sympy;
    ``optimizers``). The per-page CPU budget is for the page."""
    import matplotlib.pyplot  # noqa: F401
    import torch

    if data_sets:
        import sklearn.datasets  # noqa: F401
    if optimizers:
        weight = torch.zeros(1, requires_grad=True)
        weight.grad = torch.ones(1)
        torch.optim.SGD([weight], lr=0.1).step()
        torch.testing.assert_close(weight.detach(), weight.detach())


# What decides how the notes' code runs, part of every key of a cached run (hooks/runs.py,
# machinery.notebooks.key, the suite's harness.run_key): the environment that picks the device and sets
# the time limit and the CPU budget, and the package's files that run the code and judge it.
RUN_SETTINGS = ("CUDA_VISIBLE_DEVICES", "NOTES_FORCE_CPU", "NOTES_PAGE_TIMEOUT", "NOTES_PAGE_CPU_BUDGET")
EXECUTOR_FILES = [Path(__file__).with_name(name)
                  for name in ("execute.py", "pages.py", "notebooks.py", "questions.py", "prose_only.txt")]


def run_settings() -> list[str]:
    return [os.environ.get(name, "") for name in RUN_SETTINGS]


def chosen_device():
    """The device the notes' code picks (the snippets' set-up line), as this process sees it."""
    import torch

    return torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")


def force_cpu():
    """Hide every accelerator, so code that picks its device picks the CPU. CUDA reads
    CUDA_VISIBLE_DEVICES when it initialises, which torch does lazily: call this before any CUDA use."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["NOTES_FORCE_CPU"] = "1"
    hide_other_accelerators()


def hide_other_accelerators():
    """For accelerators that CUDA_VISIBLE_DEVICES does not hide (Apple's MPS, XPU, ...)."""
    import torch

    torch.accelerator.current_accelerator = lambda check_available=False: None


# ---------------------------------------------------------------------------------------------
# Guards: sockets refused, a time limit
# ---------------------------------------------------------------------------------------------


class SocketBlockedError(RuntimeError):
    """Guarded code tried to open a socket or resolve a host name."""


_true_socket = socket.socket
_true_getaddrinfo = socket.getaddrinfo
_true_gethostbyname = socket.gethostbyname
_refusing: dict[int, bool] = {}  # thread ident -> whether Unix sockets are allowed there
_lock = threading.Lock()


def _refused_here(family=None) -> bool:
    allow_unix = _refusing.get(threading.get_ident())
    if allow_unix is None:
        return False  # an unguarded thread (the test server, the browser's driver, ...)
    return not (allow_unix and hasattr(socket, "AF_UNIX") and family == socket.AF_UNIX)


class _GuardedSocket(_true_socket):
    """socket.socket while guarded code runs (pytest-socket's GuardedSocket, per thread)."""

    def __new__(cls, family=-1, type=-1, proto=-1, fileno=None):
        if _refused_here(family):
            raise SocketBlockedError("code tried to use socket.socket.")
        return super().__new__(cls, family, type, proto, fileno)


def _guarded_getaddrinfo(*args, **kwargs):
    if _refused_here():
        raise SocketBlockedError("code tried to use socket.getaddrinfo.")
    return _true_getaddrinfo(*args, **kwargs)


def _guarded_gethostbyname(*args, **kwargs):
    if _refused_here():
        raise SocketBlockedError("code tried to use socket.gethostbyname.")
    return _true_gethostbyname(*args, **kwargs)


@contextlib.contextmanager
def sockets_refused(allow_unix_socket: bool = True):
    """No network for the code run inside, in this thread: a new socket or a name lookup raises
    SocketBlockedError. Unix sockets stay allowed by default (local IPC is not the network)."""
    me = threading.get_ident()
    with _lock:
        outer = _refusing.get(me)
        _refusing[me] = allow_unix_socket if outer is None else (outer and allow_unix_socket)
        socket.socket = _GuardedSocket
        socket.getaddrinfo = _guarded_getaddrinfo
        socket.gethostbyname = _guarded_gethostbyname
    try:
        yield
    finally:
        with _lock:
            if outer is None:
                _refusing.pop(me, None)
            else:
                _refusing[me] = outer
            if not _refusing:
                socket.socket = _true_socket
                socket.getaddrinfo = _true_getaddrinfo
                socket.gethostbyname = _true_gethostbyname


@contextlib.contextmanager
def time_limit(label: str, seconds: float):
    """PageTimeout inside the code run here once ``seconds`` of wall-clock time have passed.

    The limit is a SIGALRM timer, and Python runs signal handlers in the main thread only (and
    only lets the main thread install them). `mkdocs build` and `mkdocs serve` render pages, and so
    run figure blocks, in the main thread, as pytest runs tests; called from any other thread
    there is no honest way to interrupt the code, so it runs without a limit there."""
    if threading.current_thread() is not threading.main_thread():
        yield  # no limit off the main thread: see above
        return

    def on_alarm(signum, frame):
        raise PageTimeout(f"{label} ran longer than {seconds:g} s (NOTES_PAGE_TIMEOUT)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def guarded(label: str, timeout_s: float | None = None):
    """Seeds reset, sockets refused, and a wall-clock limit for the code run inside."""
    reset_state()
    with time_limit(label, PAGE_TIMEOUT_S if timeout_s is None else timeout_s), sockets_refused():
        yield


def describe_exception(error: BaseException) -> str:
    # pytest-socket's own errors too, for a run with --disable-socket
    if isinstance(error, SocketBlockedError) or type(error).__name__ in {"SocketBlockedError",
                                                                          "SocketConnectBlockedError"}:
        return f"network access refused: page and snippet code must not open sockets ({error})"
    if isinstance(error, PageTimeout):
        return f"timed out: {error}"
    text = "".join(traceback.format_exception_only(type(error), error)).rstrip()
    return text


# ---------------------------------------------------------------------------------------------
# Running code
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def traceable(filename: str, code: str):
    """Let tracebacks of code compiled under ``filename`` show its lines (page blocks, cells)."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        yield
    finally:
        linecache.cache.pop(filename, None)


def innermost(error: BaseException, filename: str):
    """The deepest traceback frame of ``error`` inside ``filename``, or None."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return frames[-1] if frames else None


def code_frames(error: BaseException, filename: str) -> list:
    """The traceback frames of ``error`` from the first one in ``filename`` on: what the code run
    under that name called, without the frames of whoever ran it (the caller, this module)."""
    frames = traceback.extract_tb(error.__traceback__)
    first = next((k for k, f in enumerate(frames) if f.filename == filename), len(frames))
    return frames[first:]


def run_code(code, namespace: dict, filename: str = "<string>", source: str | None = None) -> dict:
    """Run ``code`` (source text, or a code object compiled under ``filename`` from ``source``) in
    ``namespace``; while it runs, tracebacks show its lines. Returns the namespace."""
    if isinstance(code, str):
        source, code = code, compile(code, filename, "exec")
    with traceable(filename, source) if source is not None else contextlib.nullcontext():
        exec(code, namespace)
    return namespace


def run_file(path, code=None, run_name: str = "__main__") -> dict:
    """Run the file at ``path`` as `python path` does, as runpy.run_path did: compiled under the
    path as given, in a fresh module that is ``sys.modules[run_name]`` while it runs, with
    ``sys.argv == [path]``. ``code``: a code object to run in the file's place (a mutant of it).
    Returns the module's namespace (the functions and classes it defined)."""
    path = str(path)
    if code is None:
        code = compile(Path(path).read_bytes(), path, "exec")  # bytes: the file's coding line holds
    module = types.ModuleType(run_name)
    namespace = module.__dict__
    namespace.update(__file__=path, __cached__=None, __loader__=None, __package__=run_name.rpartition(".")[0],
                     __spec__=None)
    saved_module, saved_argv = sys.modules.get(run_name), sys.argv
    sys.modules[run_name] = module
    sys.argv = [path]
    try:
        exec(code, namespace)
    finally:
        sys.argv = saved_argv
        if saved_module is None:
            sys.modules.pop(run_name, None)
        else:
            sys.modules[run_name] = saved_module
    return namespace
