"""Check-yourself questions and "Remember" points, read from a page's Markdown.

A question is a collapsible block, hidden until opened:

    ??? question "What shape is `torch.ones(4, 1) + torch.ones(3)`?"
        **Answer:** `torch.Size([4, 3])`.

        Why, in plain words.

        ```python
        --8<-- "snippets/broadcasting.py:quiz_shape"
        ```

Every code span in the **Answer:** paragraph is a claim: the test harness runs the page and requires each to
appear in what the Python blocks inside the question print. The review sheet and the flashcards take the
question, the answer and the explanation (without code) from here, so all three say the same thing.
An extra class (`??? question misconception "..."`) marks a question aimed at the page's misconception.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

QUESTION_RE = re.compile(
    r'^(?P<indent>[ \t]*)\?\?\?\+?[ \t]+question(?P<classes>(?:[ \t]+[\w-]+)*)[ \t]+"(?P<title>[^"]*)"[ \t]*$')
ANSWER_MARK = "**Answer:**"
CODE_SPAN_RE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
CHECK_YOURSELF = "Check yourself"
MISCONCEPTION = "misconception"


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


@dataclass
class Question:
    start: int  # index of the `??? question` line
    end: int  # index one past its body
    title: str
    classes: list[str]
    answer_line: int | None  # index of the line that starts the **Answer:** paragraph
    answer: str  # that paragraph, lines joined
    claims: list[str]  # its code spans: each must appear in what the question's code prints
    explanation: list[str] = field(default_factory=list)  # the body after the answer, dedented, code removed
    section: str = ""  # the `## ` heading it stands under


def outside_fences(lines: list[str]):
    """(index, line) for each line that is neither inside a fenced block nor one of its fence lines."""
    in_fence = None
    for i, line in enumerate(lines):
        fence = FENCE_RE.match(line)
        if in_fence is None and fence:
            in_fence = fence["fence"]
        elif in_fence is not None:
            if fence and fence["fence"].startswith(in_fence[0]) and len(fence["fence"]) >= len(in_fence):
                in_fence = None
        else:
            yield i, line


def questions(lines: list[str]) -> list[Question]:
    """Every `??? question` block in the page lines (raw or with includes expanded), in page order."""
    found, section = [], ""
    for i, line in outside_fences(lines):
        if line.startswith("## "):
            section = line[3:].strip()
        m = QUESTION_RE.match(line)
        if not m:
            continue
        indent = _indent(line)
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
            end += 1
        while end > i + 1 and not lines[end - 1].strip():
            end -= 1
        body = textwrap.dedent("\n".join(lines[i + 1:end])).splitlines()
        answer_line, paragraph, after = None, [], i + 1
        for j in range(i + 1, end):
            stripped = lines[j].strip()
            if answer_line is None and stripped.startswith(ANSWER_MARK):
                answer_line = j
            if answer_line is not None:
                if not stripped:
                    after = j
                    break
                paragraph.append(stripped)
                after = j + 1
        answer = " ".join(paragraph)
        rest = body[after - (i + 1):] if answer_line is not None else body
        found.append(Question(i, end, m["title"], m["classes"].split(), answer_line, answer,
                              CODE_SPAN_RE.findall(answer), without_code(rest), section))
    return found


def without_code(lines: list[str]) -> list[str]:
    """The lines with fenced blocks (and the blank lines around them) removed, for prose-only views."""
    text = "\n".join(line for _, line in outside_fences(lines)).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text).splitlines() if text else []


def remember_points(lines: list[str]) -> list[str]:
    """The bullets of the page's `## Remember` section, each joined onto one line."""
    points, inside = [], False
    for line in lines:
        if line.startswith("## "):
            inside = line[3:].strip() == "Remember"
            continue
        if not inside:
            continue
        if line.startswith("- "):
            points.append(line[2:].strip())
        elif line.startswith("  ") and line.strip() and points:
            points[-1] += " " + line.strip()
    return points
