"""Small faults planted in a snippet's computing code, one at a time.

A mutant is one change to one operator of the snippet's syntax tree:

- arithmetic swapped: ``+`` <-> ``-``, ``*`` <-> ``/`` (also in ``+=`` and friends), and the in-place
  or method spellings of the same operations (``add_`` <-> ``sub_``, ``mul_`` <-> ``div_``,
  ``addcmul_`` <-> ``addcdiv_``);
- a term dropped: ``a + b`` -> ``a`` and ``a - b`` -> ``a`` (a bias correction, a momentum term, an
  epsilon, a bias gone);
- an exponent changed: ``x ** k`` -> ``x ** (k + 1)``; ``sqrt`` -> nothing (``x.sqrt()`` -> ``x``);
- a sign dropped: ``-x`` -> ``x``.

Only computing code is mutated: not the asserts and ``torch.testing.assert_close`` calls (a mutant
there changes the check, not what is checked), not ``print`` calls or f-strings (output a reader looks at), not tolerances (``rtol=``,
``atol=``), not assignments or returns that draw random numbers (synthetic inputs: the checks must hold for
whatever data they draw, so changing the data is not a fault), and not the drawing code between
``# --8<-- [start:figure]`` and ``[end:figure]``.
A mutant is named by its snippet, the text of its line and its change, so that its name survives
edits elsewhere in the file; the line number is for people.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
METHOD_SWAPS = {
    "add": "sub", "sub": "add", "add_": "sub_", "sub_": "add_",
    "mul": "div", "div": "mul", "mul_": "div_", "div_": "mul_",
    "addcmul_": "addcdiv_", "addcdiv_": "addcmul_", "addcmul": "addcdiv", "addcdiv": "addcmul",
}
DROPPABLE_CALLS = {"sqrt", "sqrt_"}
UNCHECKED_KEYWORDS = {"rtol", "atol", "msg"}
RANDOM_DRAWS = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
                "normal", "normal_", "uniform_", "bernoulli", "multinomial", "poisson"}
SECTION = re.compile(r"#\s*--8<--\s*\[(start|end):(\w+)\]")


@dataclass(frozen=True)
class Mutant:
    snippet: str  # snippets/adam.py
    line: int  # 1-based, for people
    col: int
    change: str  # "+ -> -", "drop '- b'", "** 2 -> ** 3", "add_ -> sub_", "drop unary -", "drop sqrt"
    text: str  # the line, stripped: with the change, the mutant's name
    nth: int  # which of the identical (text, change) pairs in the file
    end: tuple[int, int] = (0, 0)  # where the node ends: `a + b + c` has two `+` nodes at one start
    node_type: str = ""  # BinOp, Call, ...: with start and end, finds the node again in a fresh parse

    @property
    def name(self) -> str:
        suffix = f" #{self.nth + 1}" if self.nth else ""
        return f"{self.snippet} | {self.text} | {self.change}{suffix}"


def drawing_lines(source: str) -> set[int]:
    """Lines inside `figure` sections."""
    inside, lines = False, set()
    for number, line in enumerate(source.splitlines(), 1):
        marker = SECTION.search(line)
        if marker and marker.group(2) == "figure":
            inside = marker.group(1) == "start"
        elif inside:
            lines.add(number)
    return lines


def unchecked_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes whose mutation would change a check or a printout, not the computation."""
    skip: set[int] = set()

    def mark(node):
        skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assert, ast.JoinedStr)):
            mark(node)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"print", "warn", "assert_close", "assert_equal"}:
                mark(node)  # output for the reader, or a check (like an assert)
            for keyword in node.keywords:
                if keyword.arg in UNCHECKED_KEYWORDS:
                    mark(keyword)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)) and node.value is not None and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in RANDOM_DRAWS
                for n in ast.walk(node.value)):
            mark(node)  # synthetic inputs: every check must hold for whatever data they draw
        elif isinstance(node, ast.Dict):  # tolerance dicts: TOL = dict(rtol=...) is a Call, {...} too
            if all(isinstance(k, ast.Constant) and k.value in UNCHECKED_KEYWORDS for k in node.keys if k):
                mark(node)
    return skip


def candidates(tree: ast.AST, skip: set[int], drawing: set[int]):
    """(node, change) for every mutation point, in source order."""
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or getattr(node, "lineno", None) in drawing:
            continue
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAPS:
            found.append((node, f"{SYMBOL[type(node.op)]} -> {SYMBOL[SWAPS[type(node.op)]]}"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            found.append((node, f"drop '{SYMBOL[type(node.op)]} {ast.unparse(node.right)}'"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            found.append((node, f"** {ast.unparse(node.right)} -> ** ({ast.unparse(node.right)} + 1)"))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            found.append((node, "drop unary -"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in METHOD_SWAPS:
                found.append((node, f"{node.func.attr} -> {METHOD_SWAPS[node.func.attr]}"))
            if node.func.attr in DROPPABLE_CALLS and not node.args:
                found.append((node, f"drop {node.func.attr}"))
    return sorted(found, key=lambda pair: (pair[0].lineno, pair[0].col_offset, pair[1]))


class _Apply(ast.NodeTransformer):
    def __init__(self, target_id: int, change: str):
        self.target_id, self.change = target_id, change

    def visit(self, node):
        if id(node) != self.target_id:
            return self.generic_visit(node)
        change = self.change
        if change.startswith("drop '"):
            return node.left
        if change.startswith("** "):
            node.right = ast.BinOp(node.right, ast.Add(), ast.Constant(1))
        elif change == "drop unary -":
            return node.operand
        elif change.startswith("drop "):  # drop sqrt: x.sqrt() -> x
            return node.func.value
        elif isinstance(node, (ast.BinOp, ast.AugAssign)):
            node.op = SWAPS[type(node.op)]()
        else:  # a method swap
            node.func.attr = METHOD_SWAPS[node.func.attr]
        return node


def mutants_of(snippet: str, source: str) -> list[Mutant]:
    """Every mutant of ``source``, the text of ``snippet`` (snippets/x.py)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    seen: dict[tuple[str, str], int] = {}
    found = []
    for node, change in candidates(tree, unchecked_nodes(tree), drawing_lines(source)):
        text = lines[node.lineno - 1].split("#")[0].strip()
        nth = seen.get((text, change), 0)
        seen[(text, change)] = nth + 1
        found.append(Mutant(snippet, node.lineno, node.col_offset, change, text, nth,
                            (node.end_lineno, node.end_col_offset), type(node).__name__))
    return found


def mutated_code(source: str, filename: str, mutant: Mutant):
    """The snippet's code object with ``mutant`` applied (compiled from the tree: line numbers kept).
    The node is found in a fresh parse by its type and span: which nodes may be mutated was decided
    once, in mutants_of."""
    tree = ast.parse(source)
    span = (mutant.line, mutant.col, *mutant.end)
    target = next((node for node in ast.walk(tree) if type(node).__name__ == mutant.node_type
                   and (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset) == span), None)
    if target is None:
        raise LookupError(f"no mutation point for {mutant.name}")
    tree = _Apply(id(target), mutant.change).visit(tree)
    return compile(ast.fix_missing_locations(tree), filename, "exec")
