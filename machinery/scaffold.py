"""A new concept page and its snippet that pass the page's checks from the start: `make new
CONCEPT=dropout SECTION=training` (or `python -m machinery.scaffold dropout training`). Only the
records (verified/ by `make matrix`, mutation/report.json by `make mutate`) are left to make.

Writes, from the templates in machinery/templates/ (a placeholder computation, a running sum checked
against torch.cumsum, with TODO markers wherever a human writes):

- docs/<section>/<concept>.md: front matter (title, description, a tag of tests/tags.tsv, prerequisites,
  questions, aka, code), the one-paragraph answer, the math, "From scratch" included from the snippet,
  the check against PyTorch, a misconception admonition, Remember, Check yourself and See also;
- snippets/<concept_with_underscores>.py, the code the page includes, runnable alone;

adds the page to its section of `nav:` in mkdocs.yml, and, since every concept page must be linked
from another one, names the section's last page as its prerequisite and adds a link to the new page to
that page's "See also". Then it prints what to fill in next.
"""

from __future__ import annotations

import argparse
import csv
import posixpath
import re
import sys
from pathlib import Path

from mkdocs.utils.meta import get_data

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
CONCEPT_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class ScaffoldError(Exception):
    pass


def fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", template)
    if left:
        raise ScaffoldError(f"template placeholders without a value: {sorted(set(left))}")
    return template


def section_pages(mkdocs_yml: str, section: str) -> tuple[list[str], int]:
    """The pages of ``section`` listed in nav (in order), and the index of the line after the last one."""
    lines = mkdocs_yml.splitlines(keepends=True)
    item = re.compile(rf"^(\s+)- (?:[^:\n]+:\s+)?({re.escape(section)}/[\w.-]+\.(?:md|ipynb))\s*$")
    found, after = [], -1
    for i, line in enumerate(lines):
        match = item.match(line)
        if match:
            found.append(match.group(2))
            after = i + 1
    return found, after


def known_tags(root: Path) -> set[str]:
    with open(root / "tests" / "tags.tsv", encoding="utf-8", newline="") as f:
        return {row["tag"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}


def page_title(page: Path) -> str:
    return get_data(page.read_text(encoding="utf-8"))[1].get("title") or page.stem


def link_from(page: Path, here: str, target: str, title: str) -> None:
    """Add ``- [title](target): TODO ...`` to the end of the page's "## See also" list (or a new section)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    link = posixpath.relpath(target, posixpath.dirname(here))
    bullet = f"- [{title}]({link}): TODO: one line on why a reader of this page goes there next."
    start = next((i for i, line in enumerate(lines) if line.strip() == "## See also"), None)
    if start is None:
        lines += ["", "## See also", "", bullet]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
        last = max((i for i in range(start + 1, end) if lines[i].startswith(("- ", "  "))), default=start + 1)
        lines.insert(last + 1, bullet)
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")


def scaffold(concept: str, section: str, root: Path = ROOT, title: str | None = None) -> list[str]:
    """Write the page and snippet, list the page in nav and link it from the section's last page;
    returns what was written or changed (paths relative to ``root``)."""
    if not CONCEPT_NAME.match(concept):
        raise ScaffoldError(f"CONCEPT={concept!r}: lower-case words joined by hyphens, as in the page's "
                            "address (learning-rate-finder)")
    tags = known_tags(root)
    if section not in tags:
        raise ScaffoldError(f"SECTION={section!r} is no section with a tag in tests/tags.tsv "
                            f"(sections: {', '.join(sorted(p.name for p in (root / 'docs').iterdir() if p.is_dir() and p.name in tags))})")
    src = f"{section}/{concept}.md"
    page = root / "docs" / src
    snippet_rel = f"snippets/{concept.replace('-', '_')}.py"
    snippet = root / snippet_rel
    for path in (page, snippet):
        if path.exists():
            raise ScaffoldError(f"{path.relative_to(root)} exists already: nothing written")
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    listed, after = section_pages(text, section)
    if after < 0:
        raise ScaffoldError(f"mkdocs.yml's nav lists no page of docs/{section}/: add the section by hand first")
    neighbour = next((p for p in reversed(listed) if p.endswith(".md") and (root / "docs" / p).exists()), None)

    title = title or concept.replace("-", " ").capitalize()
    values = {
        "concept": concept,
        "title": title,
        "tag": section,
        "snippet": snippet_rel,
        "prerequisites": ("prerequisites:  # concept pages to read first (paths under docs/), [] for a place to start\n"
                          f"  - {neighbour}" if neighbour else "prerequisites: []  # concept pages to read first"),
        "see_also": (f"- [{page_title(root / 'docs' / neighbour)}]({posixpath.relpath(neighbour, section)}): "
                     "TODO: why a reader goes there next." if neighbour else ""),
    }
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(fill((TEMPLATES / "concept.md").read_text(encoding="utf-8"), values).replace("\n\n\n", "\n\n"),
                    encoding="utf-8")
    snippet.write_text(fill((TEMPLATES / "concept.py").read_text(encoding="utf-8"), values), encoding="utf-8")
    lines = text.splitlines(keepends=True)
    indent = re.match(r"^(\s*)", lines[after - 1]).group(1)
    lines.insert(after, f"{indent}- {src}\n")
    config.write_text("".join(lines), encoding="utf-8")
    changed = [f"docs/{src}", snippet_rel, "mkdocs.yml"]
    if neighbour:
        link_from(root / "docs" / neighbour, neighbour, src, title)
        changed.append(f"docs/{neighbour}")
    return changed


NEXT_STEPS = """\
Wrote {changed}.
The placeholder (a running sum checked against torch.cumsum) passes the page's checks now:

    make check PAGE=docs/{src}

Next, replace each TODO, section by section, checking as you go:
  1. {snippet}: the concept from scratch (section `scratch`), its check against PyTorch's own
     implementation at an argued tolerance (`check`), the misconception shown (`misconception`), and
     the quiz sections that print and assert each answer (`quiz_*`). It must run alone:
     .venv/bin/python {snippet}
  2. docs/{src}: front matter (description, tags from tests/tags.tsv, prerequisites, 3 to 6
     questions, aka, code), the one-paragraph answer, the math, Remember, Check yourself (each
     **Answer:** code span is printed by the code under it), See also.
  3. {neighbour}the home page's "Start here" list, if a learner should meet the page in order.
Before committing: `make matrix` (records the page in verified/) and `make mutate ONLY={stem}`
(records the snippet in mutation/report.json); the full suite asks for both.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m machinery.scaffold", description=__doc__.split("\n\n")[0])
    parser.add_argument("concept", help="the page's name, hyphenated: dropout, learning-rate-finder")
    parser.add_argument("section", help="its folder under docs/: tensors, models, losses, training, optimizers")
    parser.add_argument("--title", help="the page's title (default: the concept, capitalised)")
    args = parser.parse_args(argv)
    try:
        changed = scaffold(args.concept, args.section, title=args.title)
    except ScaffoldError as error:
        print(f"make new: {error}", file=sys.stderr)
        return 2
    neighbour = changed[3] if len(changed) > 3 else None
    print(NEXT_STEPS.format(
        changed=", ".join(changed), src=f"{args.section}/{args.concept}.md", snippet=changed[1],
        stem=Path(changed[1]).stem,
        neighbour=(f"{neighbour}: its new See also line links here; say why a reader goes on.\n     And "
                   if neighbour else "A link from another concept page (the suite asks for one), and ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
