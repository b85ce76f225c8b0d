"""A page's Python, exactly as MkDocs renders it, run by the one executor (machinery.execute).

A page goes through four steps:

1. ``expand``: the Markdown body (front matter removed, as MkDocs does) is passed through
   pymdownx.snippets' own preprocessor, configured from ``mkdocs.yml``. A second, tagged pass
   records where every expanded line came from (``docs/page.md:LINE`` or ``snippets/x.py:LINE``).
2. ``scan_fences``: every fenced block is found, in any spelling (```` ``` ```` or ``~~~``, indented
   inside tabs and admonitions, ``py``/``python``/``python3``/``{.python}``, with attributes).
3. ``extract``: pytest-codeblocks' extraction API reads the blocks. No page uses its markers (skip,
   cont, expected-output, ...): every block runs, in page order, in one namespace, so a marker is
   refused by name. Every Python fence must be claimed by an extracted block, or the page fails
   naming the fence.
4. ``run_page``: the blocks run in page order in one fresh namespace, with seeds reset, sockets
   refused and a time limit (machinery.execute.guarded). A failure names the page line, the snippet
   line and the exception. ``run_snippet`` runs a snippet file alone, as a reader who copies it does.

Also here: what the site is made of (``markdown_pages``, ``snippet_files``, ``url_path``, ...), the device
rule (``device_lint``), the CPU budget of a page, and the fingerprint of the code a page runs, which
the "verified on" records (machinery.records) are kept against.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
import traceback
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import markdown
from mkdocs.config import load_config
from mkdocs.utils.meta import get_data
from pytest_codeblocks import extract_from_buffer

from machinery.cache import fingerprint
from machinery.execute import (PageTimeout, chosen_device, code_frames, describe_exception, guarded,  # noqa: F401
                               innermost, run_code, run_file)
from machinery.questions import ANSWER_MARK, Question, questions

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
# Pages with no Python block on purpose; every other page must execute at least one.
PROSE_ONLY_FILE = Path(__file__).with_name("prose_only.txt")

PYTHON_LANGS = {"py", "py3", "python", "python3", "pycon", "pyodide"}
# Console transcripts (>>> prompts) cannot run as a program: the suite refuses them by name.
UNRUNNABLE_LANGS = {"pycon", "pyodide"}
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
TAG_RE = re.compile(r"\x1f(\d+)\x1f$")


class PageError(Exception):
    """A page cannot be run as written; the message names the page and line."""


# ---------------------------------------------------------------------------------------------
# 1. Expansion, as MkDocs does it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    path: str  # relative to the repository root
    line: int  # 1-based

    def __str__(self):
        return f"{self.path}:{self.line}"


@cache
def markdown_config():
    """The Markdown extensions and their settings, read by MkDocs' own config loader."""
    config = load_config(config_file=str(ROOT / "mkdocs.yml"))
    return config.markdown_extensions, config.mdx_configs


def new_markdown():
    extensions, configs = markdown_config()
    return markdown.Markdown(extensions=extensions, extension_configs=configs)


def rel(path, root: Path = ROOT) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def expand(page: Path, root: Path = ROOT) -> tuple[list[str], list[Origin], list[Origin]]:
    """`expand_uncached`, remembered per worker: the page tests, the browser tests and the orphan
    check all expand the same pages. Keyed by the page's and every snippet's modification time."""
    snippets = Path(root) / "snippets"
    stamps = tuple(sorted((f.name, f.stat().st_mtime_ns) for f in snippets.glob("*.py"))) if snippets.is_dir() else ()
    lines, origins, on_page = _expand_cached(Path(page), Path(root), page.stat().st_mtime_ns, stamps)
    return list(lines), list(origins), list(on_page)


@lru_cache(maxsize=256)
def _expand_cached(page: Path, root: Path, _page_stamp, _snippet_stamps):
    return expand_uncached(page, root)


INCLUDE_RE = re.compile(r'--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"')
SECTION_RE = re.compile(r"--8<--\s*\[start:(?P<name>[\w-]+)\]")


def included_files(text: str) -> list[str]:
    """The files a page's text includes (`--8<-- "snippets/x.py"` or `"snippets/x.py:section"`), each once,
    sorted: the whole scripts a page offers, and the snippets a one-page check runs alone."""
    return sorted({match["path"] for match in INCLUDE_RE.finditer(text)})


def include_hint(source: str, page_rel: str, root: Path) -> str:
    """For a failed include: the page line of each include that cannot be found, and the files or
    sections that do exist, so a typo is one look away."""
    hints = []
    for number, line in enumerate(source.splitlines(), 1):
        match = INCLUDE_RE.search(line)
        if not match:
            continue
        target = Path(root) / match["path"]
        if not target.is_file():
            folder = target.parent
            near = sorted(p.name for p in folder.glob("*.py")) if folder.is_dir() else []
            hints.append(f"\n  {page_rel}:{number}: no file {match['path']}"
                         + (f" (in {rel(folder, root)}/: {', '.join(near)})" if near else ""))
        elif match["section"]:
            sections = SECTION_RE.findall(target.read_text(encoding="utf-8"))
            if match["section"] not in sections:
                hints.append(f"\n  {page_rel}:{number}: {match['path']} has no section {match['section']!r}; "
                             f"its sections: {', '.join(sections)}")
    return "".join(hints)


def expand_uncached(page: Path, root: Path = ROOT) -> tuple[list[str], list[Origin], list[Origin]]:
    """The page body after includes, and the origin of each of its lines.

    The first pass is pymdownx.snippets exactly as MkDocs runs it. The second pass reads the
    same files through a ``read_lines`` that appends an invisible tag to each line; as snippets
    copies lines verbatim (adding only the directive's indentation), each tag survives and names
    its file and line. Page lines carry no tag and are matched to the page in order.
    """
    source = page.read_text(encoding="utf-8")
    body, _meta = get_data(source)
    front_matter_lines = source.count("\n") - body.count("\n")
    page_rel = rel(page, root)

    cwd = os.getcwd()
    os.chdir(root)  # snippets' base_path is relative to the working directory, as for `mkdocs build`
    try:
        processor = new_markdown().preprocessors["snippet"]
        try:
            plain = processor.run(body.split("\n"))
        except Exception as error:  # SnippetMissingError and friends
            raise PageError(f"{page_rel}: include failed: {type(error).__name__}: {error}"
                            + include_hint(source, page_rel, root)) from None

        table: list[Origin] = []
        read_lines = processor.read_lines

        def tagged_read_lines(path):
            lines = read_lines(path)
            start = len(table)
            name = rel(path, root)  # once per file: resolving paths is slow
            table.extend(Origin(name, n) for n in range(1, len(lines) + 1))
            return [f"{line}\x1f{start + i}\x1f" for i, line in enumerate(lines)]

        processor.read_lines = tagged_read_lines
        tagged = processor.run(body.split("\n"))
    finally:
        os.chdir(cwd)

    origins: list[Origin] = []
    on_page: list[Origin] = []  # the page line a reader sees it under: itself, or its include directive
    stripped = []
    page_lines = body.split("\n")
    cursor = 0  # next page line not yet matched
    directive = None
    for line in tagged:
        tag = TAG_RE.search(line)
        if tag:
            if directive is None:  # first included line after page text: find the directive line
                k = cursor
                while k < len(page_lines) and "--8<--" not in page_lines[k]:
                    k += 1
                directive = Origin(page_rel, min(k, len(page_lines) - 1) + 1 + front_matter_lines)
            stripped.append(line[: tag.start()])
            origins.append(table[int(tag.group(1))])
            on_page.append(directive)
            continue
        directive = None
        stripped.append(line)
        # A page line is copied unchanged (an escaped `;--8<--` loses its `;`); directives vanish.
        while cursor < len(page_lines) and line not in (page_lines[cursor], page_lines[cursor].replace(";", "", 1)):
            cursor += 1
        here = Origin(page_rel, min(cursor, len(page_lines) - 1) + 1 + front_matter_lines)
        origins.append(here)
        on_page.append(here)
        cursor += 1

    if stripped != plain:  # tags must never change what is rendered; if they did, blame the page only
        origins = list(on_page)
    return plain, origins, on_page


# ---------------------------------------------------------------------------------------------
# 2. Fences in every spelling
# ---------------------------------------------------------------------------------------------


@dataclass
class Fence:
    start: int  # index of the opening line in the expanded lines
    end: int  # index of the closing line
    indent: int
    char: str
    info: str
    language: str
    body: list[str]  # content lines with the fence's indentation removed

    @property
    def is_python(self):
        return self.language in PYTHON_LANGS


def language_of(info: str) -> str:
    """`python title="x"` -> python; `{.python .extra}` -> python; `py3` -> py3."""
    info = info.strip()
    if info.startswith("{"):
        classes = re.findall(r"\.([\w+-]+)", info)
        return classes[0].lower() if classes else ""
    return re.split(r"[\s{]", info, maxsplit=1)[0].lower() if info else ""


def scan_fences(lines: list[str]) -> list[Fence]:
    fences = []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        indent = len(m["indent"].expandtabs(4))
        char, width = m["fence"][0], len(m["fence"])
        closing = re.compile(rf"^[ \t]*{re.escape(char)}{{{width},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body = [_dedent(line, indent) for line in lines[i + 1 : j]]
        fences.append(Fence(i, j, indent, char, m["info"].strip(), language_of(m["info"]), body))
        i = j + 1
    return fences


def _dedent(line: str, indent: int) -> str:
    stripped = line.lstrip(" ")
    return line[min(indent, len(line) - len(stripped)) :]


# ---------------------------------------------------------------------------------------------
# 3. Extraction with pytest-codeblocks
# ---------------------------------------------------------------------------------------------


@dataclass
class Block:
    code: str
    lines: list[int]  # expanded-line index of every code line
    fence: Fence


def normalised_for_codeblocks(lines: list[str], fences: list[Fence]) -> str:
    """pytest-codeblocks reads ``` fences only: give it ~~~ fences as ``` of the same width."""
    out = list(lines)
    for f in fences:
        if f.char == "~":
            for k in (f.start, f.end):
                if k < len(out):
                    out[k] = out[k].replace("~", "`")
    return "\n".join(out) + "\n"


MARKER_RE = re.compile(r"<!--\s*pytest(?:[-.]\S*)?")


def refuse_markers(page_rel: str, lines: list[str], fences: list[Fence], where) -> None:
    """pytest-codeblocks' markers (skip, skipif, cont, expected-output, importorskip, ...) change which
    blocks run and how; no page uses one, and every block runs, so each is refused by name and line."""
    inside = {k for f in fences for k in range(f.start, f.end + 1)}
    found = [(k, line.strip()) for k, line in enumerate(lines) if k not in inside and MARKER_RE.search(line)]
    if found:
        details = "\n".join(f"  {where(k)}: {text}" for k, text in found)
        raise PageError(f"{page_rel}: pytest-codeblocks markers are not used on this site: every block runs, in "
                        f"page order, in one namespace (a block that shows an error catches it and prints it):\n{details}")


def extract(page_rel: str, lines: list[str], on_page: list[Origin]) -> list[Block]:
    """The page's Python blocks as pytest-codeblocks reads them, each matched to its fence."""
    fences = scan_fences(lines)
    by_start = {f.start: f for f in fences}

    def where(index):
        return on_page[index]

    refuse_markers(page_rel, lines, fences, where)
    try:
        raw = extract_from_buffer(io.StringIO(normalised_for_codeblocks(lines, fences)))
    except RuntimeError as error:
        raise PageError(f"{page_rel}: pytest-codeblocks cannot read the page: {error}") from None

    claimed: set[int] = set()
    blocks = []
    for cb in raw:
        fence = by_start.get(cb.lineno - 1)
        if fence is None:
            raise PageError(f"{where(cb.lineno - 1)}: a code block the fence scanner did not see")
        claimed.add(fence.start)
        if not fence.is_python:
            continue
        if cb.code != "".join(line + "\n" for line in fence.body):
            raise PageError(f"{where(fence.start)}: pytest-codeblocks reads this block otherwise than it is shown")
        blocks.append(Block(code=cb.code, lines=list(range(fence.start + 1, fence.end)), fence=fence))

    transcripts = [f for f in fences if f.language in UNRUNNABLE_LANGS]
    if transcripts:
        details = "\n".join(f"  {where(f.start)}: fence {lines[f.start].strip()!r}" for f in transcripts)
        raise PageError(f"{page_rel}: console transcripts are not run; show code as ```python (the page shows what"
                        f" it prints under it):\n{details}")
    unclaimed = [f for f in fences if f.is_python and f.start not in claimed]
    if unclaimed:
        details = "\n".join(f"  {where(f.start)}: fence {lines[f.start].strip()!r}" for f in unclaimed)
        raise PageError(
            f"{page_rel}: Python code block(s) that the suite cannot run "
            f"(write them as ```python fences):\n{details}"
        )
    return blocks


# ---------------------------------------------------------------------------------------------
# Device honesty and reproducibility, read from the code
# ---------------------------------------------------------------------------------------------

TENSOR_FACTORIES = {
    "tensor", "as_tensor", "zeros", "ones", "empty", "full", "rand", "randn", "randint",
    "randperm", "arange", "linspace", "logspace", "eye",
}
ON_PURPOSE = "# noqa: device"


def device_lint(code: str) -> list[int]:
    """Lines that create a tensor with ``torch.<factory>(...)`` and no ``device=``.

    On a CPU-only machine such a tensor is on the right device by accident; on a GPU it is not.
    A line that means it (a demonstration of the default device) says so with ``# noqa: device``.
    """
    import ast

    lines = code.splitlines()
    offending = []
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TENSOR_FACTORIES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "torch"
            and not any(k.arg == "device" or k.arg is None for k in node.keywords)
            and ON_PURPOSE not in lines[node.lineno - 1]
        ):
            offending.append(node.lineno)
    return sorted(set(offending))


def refuse_tensors_off_device(code: str, label: str, place) -> None:
    """Raise PageError if ``code`` creates tensors without device=; ``place(n)`` names line n."""
    unplaced = device_lint(code)
    if unplaced:
        details = "\n".join(f"  {place(n)}" for n in unplaced)
        raise PageError(
            f"{label}: tensors created without device= (they would stay on the CPU next to a GPU;"
            f" add device=device, or end the line with {ON_PURPOSE!r} if that is the point):\n{details}"
        )


def seeds_itself(code: str) -> bool:
    """A snippet fixes its own seed at top level, so a reader who copies it gets the same output."""
    import ast

    for node in ast.parse(code).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "manual_seed":
                return True
    return False


# ---------------------------------------------------------------------------------------------
# 4. Running a page
# ---------------------------------------------------------------------------------------------


@dataclass
class BlockRun:
    output: str  # what the block printed
    uses: list[str]  # names it takes from the blocks above it (empty: it runs alone)


@dataclass
class PageRun:
    page: str
    blocks_run: int
    output: str
    blocks: list[BlockRun] = field(default_factory=list)  # every block that ran, in page order
    code: str = ""  # code_fingerprint of the blocks it ran


def names_from_above(code: str, namespace: dict) -> list[str]:
    """The names a block reads that earlier blocks defined and the block itself does not: what a
    reader who copies this block alone is missing."""
    import ast
    import builtins

    tree = ast.parse(code)
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return sorted(n for n in read - bound if n in namespace and not hasattr(builtins, n) and not n.startswith("__"))


def is_figure(block: Block) -> bool:
    """A block fenced as ```python figure="Caption": the site shows the figures it draws."""
    return re.search(r"\bfigure=", block.fence.info) is not None


def svg_of(figure) -> str:
    """A matplotlib figure as inline SVG, the same bytes for the same drawing (no date, fixed ids, text as
    paths so that no font needs to load)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "notes", "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and doctype


def run_page(page: Path, root: Path = ROOT, figures: dict[str, list[str]] | None = None,
             require_code: bool = True) -> PageRun:
    """Run the page's blocks in page order (see the module's docstring). ``figures``: when given, filled
    with what each figure block drew (its code -> the SVG of each figure it opened), for the build.
    ``require_code``: a page without blocks must be listed as prose-only (require_blocks)."""
    page_rel = rel(page, root)
    lines, origins, on_page = expand(page, root)
    blocks = extract(page_rel, lines, on_page)
    prose_only = page_rel in prose_only_pages()
    if prose_only and blocks:
        raise PageError(f"{page_rel} is listed in {rel(PROSE_ONLY_FILE)} but has Python blocks; remove it there")

    namespace = {"__name__": "__main__", "__file__": str(page)}
    output = io.StringIO()
    block_runs = []
    printed = {}  # fence start -> what that block printed, for the check-yourself answers

    def origin_text(index):
        """`docs/page.md:LINE`, and `(from snippets/x.py:LINE)` for included code."""
        if origins[index] != on_page[index]:
            return f"{on_page[index]} (from {origins[index]})"
        return str(on_page[index])

    for block in blocks:
        try:
            refuse_tensors_off_device(
                block.code, page_rel,
                lambda n, b=block: f"{origin_text(b.lines[n - 1])}: {lines[b.lines[n - 1]].strip()}")
        except SyntaxError:
            continue  # reported with its line when the block runs

    with guarded(page_rel) if blocks else contextlib.nullcontext():  # no code: nothing to guard, no torch to import
        for number, block in enumerate(blocks, 1):
            filename = f"<{page_rel} block {number}>"
            try:
                compiled = compile(block.code, filename, "exec")
            except SyntaxError as error:
                index = block.lines[(error.lineno or 1) - 1] if block.lines else block.fence.start
                raise PageError(f"{origin_text(index)}: SyntaxError: {error.msg}\n    {lines[index].strip()}") from None
            uses = names_from_above(block.code, namespace)
            before = open_figures() if figures is not None else set()
            captured = io.StringIO()
            try:
                with contextlib.redirect_stdout(captured):
                    run_code(compiled, namespace, filename, block.code)
            except (Exception, PageTimeout) as error:
                output.write(captured.getvalue())
                frame = innermost(error, filename)
                index = block.lines[frame.lineno - 1] if frame else block.fence.start
                frames = code_frames(error, filename)  # the frames that ran the block left out
                trace = "".join(
                    f"  {origin_text(block.lines[f.lineno - 1])}: {lines[block.lines[f.lineno - 1]].strip()}\n"
                    if f.filename == filename else f"  {f.filename}:{f.lineno}: {f.line}\n"
                    for f in frames
                ) if len(frames) > 1 else ""  # one frame: the line above says it all
                raise PageError(
                    f"{origin_text(index)}: {describe_exception(error)}\n"
                    f"    {lines[index].strip()}\n"
                    + (f"Traceback (page lines mapped):\n{trace}" if trace else "") +
                    f"Output so far:\n{output.getvalue()[-2000:]}"
                ) from None
            output.write(captured.getvalue())
            block_runs.append(BlockRun(captured.getvalue(), uses))
            printed[block.fence.start] = captured.getvalue()
            if figures is not None and is_figure(block):
                figures[block.code.rstrip()] = drawn_since(before)

    check_answers(questions(lines), printed, origin_text)
    if require_code:
        require_blocks(page_rel, len(blocks))
    return PageRun(page_rel, len(blocks), output.getvalue(), block_runs, blocks_fingerprint(blocks))


def require_blocks(page_rel: str, count: int) -> None:
    """A page runs at least one block, unless it is listed as prose-only."""
    if count == 0 and page_rel not in prose_only_pages():
        raise PageError(f"{page_rel}: no Python block was executed. Add one, or list the page in {rel(PROSE_ONLY_FILE)}")


def open_figures() -> set[int]:
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt else set()


def drawn_since(before: set[int]) -> list[str]:
    """The SVG of each figure opened since ``before`` (open_figures), which are then closed."""
    import matplotlib.pyplot as plt

    svgs = []
    for number in sorted(open_figures() - before):
        svgs.append(svg_of(plt.figure(number)))
        plt.close(number)
    return svgs


def check_answers(found: list[Question], printed: dict[int, str], origin_text) -> None:
    """A question's answer is only as good as the code under it: every code span in its
    **Answer:** paragraph must appear in what the blocks inside the question printed."""
    for q in found:
        where = origin_text(q.start)
        outputs = [text for start, text in printed.items() if q.start < start < q.end]
        if q.answer_line is None:
            raise PageError(f'{where}: question "{q.title}" has no paragraph starting {ANSWER_MARK}')
        if not q.claims:
            raise PageError(f"{origin_text(q.answer_line)}: the answer states no `value` in backticks for its code to check")
        if not outputs:
            raise PageError(f'{where}: question "{q.title}" has no executed Python block computing its answer')
        shown = "".join(outputs)
        for claim in q.claims:
            if claim not in shown:
                raise PageError(
                    f"{origin_text(q.answer_line)}: the answer says `{claim}`, but the question's code printed:\n"
                    + textwrap.indent(shown.rstrip() or "(nothing)", "    "))


def run_snippet(path: Path, root: Path = ROOT) -> str:
    """A snippet alone, as `python snippets/x.py` runs it: fresh namespace, same guards."""
    code = path.read_text(encoding="utf-8")
    refuse_tensors_off_device(code, rel(path, root),
                              lambda n: f"{rel(path, root)}:{n}: {code.splitlines()[n - 1].strip()}")
    if not seeds_itself(code):
        raise PageError(f"{rel(path, root)}: call torch.manual_seed(...) at top level, so a copied snippet is reproducible")

    captured = io.StringIO()
    try:
        with guarded(rel(path, root)), contextlib.redirect_stdout(captured):
            run_file(path)  # sets sys.argv to [path], as `python path` does
    except (Exception, PageTimeout) as error:
        frame = innermost(error, str(path))  # run_file compiles the file under the path it was given
        at = f"{rel(path, root)}:{frame.lineno}: " if frame else f"{rel(path, root)}: "
        line = f"\n    {frame.line}" if frame else ""
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)][:-1]
        trace = "".join(f"  {rel(path, root)}:{f.lineno}: {f.line}\n" for f in frames)
        raise PageError(
            f"{at}{describe_exception(error)}{line}\n" + (f"Called from:\n{trace}" if trace else "")
            + f"Output so far:\n{captured.getvalue()[-2000:]}"
        ) from None
    return captured.getvalue()


# No page's (or notebook's) blocks may take more CPU time than this on the CPU: heavy work belongs in
# a benchmark, not in a page a reader runs. CPU time, not wall time, so a loaded machine (xdist
# workers, the background build, Chromium) does not make an honest page fail.
PAGE_CPU_BUDGET = float(os.environ.get("NOTES_PAGE_CPU_BUDGET", "3.0"))


def within_cpu_budget(name: str, run):
    """``run()``, and the CPU seconds it took; a PageError if that is over the budget on the CPU."""
    import time

    started = time.process_time()
    result = run()
    seconds = time.process_time() - started
    check_cpu_budget(name, seconds)
    return result, seconds


def check_cpu_budget(name: str, seconds: float) -> None:
    """A PageError if a page's (notebook's) code took more than the budget of CPU seconds on the CPU."""
    if chosen_device().type == "cpu" and seconds > PAGE_CPU_BUDGET:
        raise PageError(f"{name}: its blocks took {seconds:.1f} s of CPU time, over the {PAGE_CPU_BUDGET:.0f} s "
                        "budget for a page; make the example smaller or move the heavy part to benchmarks/")


# ---------------------------------------------------------------------------------------------
# Inventory
# ---------------------------------------------------------------------------------------------


def url_path(source: Path) -> str:
    """Where a page is built, relative to the site root: docs/optimizers/adam.md -> optimizers/adam/,
    docs/index.md -> '', a section's index.md -> its folder."""
    built = source.relative_to(DOCS).with_suffix("")
    folder = built.parent if built.name == "index" else built
    return "" if folder == Path(".") else folder.as_posix() + "/"


def markdown_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def snippet_files() -> list[Path]:
    return sorted(SNIPPETS.glob("*.py"))


def prose_only_pages() -> set[str]:
    if not PROSE_ONLY_FILE.exists():
        return set()
    entries = set()
    for line in PROSE_ONLY_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            entries.add(line)
    return entries


def pages_with_code() -> list[Path]:
    """Every concept page with Python blocks, and every notebook."""
    prose = prose_only_pages()
    return [p for p in markdown_pages() if rel(p) not in prose] + sorted(DOCS.rglob("*.ipynb"))


def blocks_fingerprint(blocks: list[Block]) -> str:
    return fingerprint([b.code for b in blocks])


def code_fingerprint(path: Path, root: Path = ROOT) -> str:
    """A hash of the code a page runs: its blocks after includes, or a notebook's code cells. A prose edit keeps the page's records; a code edit, in the
    page or in an included snippet, makes them stale."""
    if path.suffix == ".ipynb":
        import nbformat

        from machinery.notebooks import code_of

        return code_of(nbformat.read(path, as_version=4))
    lines, _origins, on_page = expand(path, root)
    return blocks_fingerprint(extract(rel(path, root), lines, on_page))




def orphans(pages, snippets, root: Path = ROOT) -> list[str]:
    """Snippet files that no page includes."""
    shown = set()
    for page in pages:
        try:
            _lines, origins, _on_page = expand(page, root)
        except PageError:
            continue  # the page's own test reports its broken include
        shown.update(origin.path for origin in origins)
    return [rel(s, root) for s in snippets if rel(s, root) not in shown]
