"""MkDocs hook: what to know first under each concept page's title, "Linked from" at its end.

A concept page names its prerequisites in its front matter (`prerequisites:`, paths under docs/);
they are shown under the title as links, titled as those pages title themselves, and a name that is
no page fails the strict build.

When the file list is known, every page's Markdown (and every notebook's Markdown cells) is read for
links to other pages; each concept page (docs/<section>/<page>.md) then ends with the list of pages
that link to it, titled as they title themselves. Nothing is typed by hand, so the list cannot go
stale; tests/test_site.py checks it against the links of the built site.

A page that holds the marker `<!-- concept map -->` (the home page) gets, in its place, the same
prerequisites drawn as a map: inline SVG, one box per concept page linking to it, grouped in columns by
navigation section and in bands by depth, one arrow per prerequisite. Built here, loading nothing.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import posixpath
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data

from machinery.inventory import PAGE_LINK, is_concept, resolve

FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2", re.S | re.M)
HEADING = re.compile(r"^#\s+(.+)$", re.M)
SECTION_TITLE = "Linked from"
log = logging.getLogger("mkdocs.hooks.links")
_linked_from: dict[str, set[str]] = {}  # page -> pages that link to it
_titles: dict[str, str] = {}


def prose_of(file) -> tuple[str, str]:
    """The page's Markdown without code (with its prerequisites as links, as it shows them), and its title."""
    text = Path(file.abs_src_path).read_text(encoding="utf-8")
    if file.src_uri.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        body = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        title = HEADING.search(body)
        return body, title.group(1).strip() if title else file.src_uri
    body, meta = get_data(text)
    heading = HEADING.search(body)
    here = posixpath.dirname(file.src_uri)
    shown = "".join(f"]({posixpath.relpath(n, here)})" for n in meta.get("prerequisites") or [])
    return FENCE.sub("", body) + shown, meta.get("title") or (heading.group(1).strip() if heading else file.src_uri)


def on_files(files, config, **kwargs):
    _linked_from.clear()
    _titles.clear()
    pages = {f.src_uri for f in files.documentation_pages()} | {f.src_uri for f in files if f.src_uri.endswith(".ipynb")}
    for file in files:
        if file.src_uri not in pages:
            continue
        body, _titles[file.src_uri] = prose_of(file)
        if MAP_MARKER in body:  # the concept map drawn there links to every concept page
            for target in filter(is_concept, pages - {file.src_uri}):
                _linked_from.setdefault(target, set()).add(file.src_uri)
        for match in PAGE_LINK.finditer(body):
            target = resolve(file.src_uri, match["target"])
            if target in pages and target != file.src_uri:
                _linked_from.setdefault(target, set()).add(file.src_uri)
        if file.src_uri.endswith(".md"):  # notebooks: hooks/notebooks.py checks their links
            for line, target in broken_links(file, pages):
                log.warning(f"docs/{file.src_uri}:{line}: the link '{target}' leads to no page "
                            f"(docs/{resolve(file.src_uri, target)} "
                            "does not exist)")
    return files


def broken_links(file, pages: set[str]) -> list[tuple[int, str]]:
    """(line, target) for each link of the page's Markdown, outside code, to a page that does not exist.
    MkDocs' own warning names the page but not the line; this one names both."""
    text = Path(file.abs_src_path).read_text(encoding="utf-8")
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731  (keeps every line where it was)
    text = re.sub(r"`[^`\n]*`", blank, FENCE.sub(blank, text))
    found = []
    for match in PAGE_LINK.finditer(text):
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("/"):
            continue  # another site, or an absolute path: MkDocs' validation judges those
        if resolve(file.src_uri, target) not in pages:
            found.append((text.count("\n", 0, match.start()) + 1, target))
    return found


def on_page_markdown(markdown, page, **kwargs):
    if MAP_MARKER in markdown:
        markdown = markdown.replace(MAP_MARKER, concept_map(page, kwargs["config"], kwargs["files"]))
    if not is_concept(page.file.src_uri):
        return markdown
    here = posixpath.dirname(page.file.src_uri)
    needs = page.meta.get("prerequisites")
    if needs is None:
        log.warning(f"Doc file '{page.file.src_uri}' names no prerequisites (front matter "
                    "`prerequisites:`, a list of pages under docs/, [] for a place to start)")
        needs = []
    unknown = [n for n in needs if n not in _titles]
    if unknown:
        log.warning(f"Doc file '{page.file.src_uri}' names prerequisites that are no page: {unknown}")
    known = [f"[{_titles[n]}]({posixpath.relpath(n, here)})" for n in needs if n in _titles]
    first = ("Know first: " + ", ".join(known) + "." if known else
             "Know first: nothing; this is a place to start.") + "\n{: .prerequisites }"
    markdown = HEADING.sub(lambda m: f"{m.group(0)}\n\n{first}\n", markdown, count=1)
    sources = sorted(_linked_from.get(page.file.src_uri, ()), key=lambda s: (_titles[s].lower(), s))
    items = "\n".join(f"- [{_titles[s]}]({posixpath.relpath(s, here)})" for s in sources) or "- (no page links here yet)"
    return f"{markdown.rstrip()}\n\n## {SECTION_TITLE}\n\nPages that link to this one:\n\n{items}\n"


# ---------------------------------------------------------------------------------------------
# The concept map: the same prerequisites drawn as a graph, on the page that asks for it
# ---------------------------------------------------------------------------------------------

MAP_MARKER = "<!-- concept map -->"  # replaced by the map: inline SVG, a link to every concept page
NODE_W, LINE_H, PAD, GUTTER, ROW_GAP, STACK_GAP, MARGIN, HEADER = 136, 14, 7, 30, 24, 8, 10, 22
WRAP = 22  # characters per line of a box's label: what NODE_W holds at the map's font size (extra.css)


class Box(NamedTuple):
    x: float
    y: float
    height: float
    lines: list[str]  # the page's title, wrapped
    column: int  # its section's column
    band: float  # the top of its band: the rows of pages at its depth


def concept_graph(files, config) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each concept page's prerequisites, in navigation order, and the title of its navigation section."""
    section = {}
    for item in config["nav"] or []:
        for title, children in item.items() if isinstance(item, dict) else ():
            for child in children if isinstance(children, list) else ():
                section[child if isinstance(child, str) else next(iter(child.values()))] = title
    order = list(section)
    pages = sorted((f for f in files.documentation_pages() if is_concept(f.src_uri)),
                   key=lambda f: (order.index(f.src_uri) if f.src_uri in section else len(order), f.src_uri))
    needs = {f.src_uri: get_data(Path(f.abs_src_path).read_text(encoding="utf-8"))[1].get("prerequisites") or []
             for f in pages}
    needs = {page: [n for n in named if n in needs] for page, named in needs.items()}  # others: warned per page
    return needs, {page: section.get(page) or page.split("/")[0].title() for page in needs}


def map_layout(needs: dict[str, list[str]], section: dict[str, str]) -> tuple[dict[str, Box], list[str], float]:
    """Each page's box, the sections in column order, and the map's height. A page sits in its section's
    column, in the band of its depth (the longest chain of prerequisites under it): arrows point down."""
    depth = {}

    def depth_of(page, path=()):
        if page in path:
            log.warning(f"prerequisites lead in a circle: {' -> '.join(path + (page,))}")
            return 0
        if page not in depth:
            depth[page] = 1 + max((depth_of(n, path + (page,)) for n in needs[page]), default=-1)
        return depth[page]

    for page in needs:
        depth_of(page)
    sections = list(dict.fromkeys(section.values()))  # navigation order, which wins ties below
    if len(sections) <= 7:  # the column order whose arrows cross the fewest columns
        sections = list(min(itertools.permutations(sections), key=lambda order: sum(
            abs(order.index(section[page]) - order.index(section[n])) for page in needs for n in needs[page])))
    lines = {page: textwrap.wrap(_titles.get(page, page), WRAP, break_on_hyphens=False) for page in needs}
    height = {page: 2 * PAD + LINE_H * len(lines[page]) for page in needs}
    cells = {}  # (section, depth) -> its pages, stacked in navigation order
    for page in needs:
        cells.setdefault((section[page], depth[page]), []).append(page)
    stack = {cell: sum(height[p] for p in pages) + STACK_GAP * (len(pages) - 1) for cell, pages in cells.items()}
    bands = [max(h for (_, d), h in stack.items() if d == row) for row in range(max(depth.values(), default=0) + 1)]
    tops = [MARGIN + HEADER + sum(bands[:row]) + ROW_GAP * row for row in range(len(bands))]
    boxes = {}
    for (name, row), pages in cells.items():
        y = tops[row] + (bands[row] - stack[name, row]) / 2  # centred in its band
        for page in pages:
            column = sections.index(name)
            boxes[page] = Box(MARGIN + column * (NODE_W + GUTTER), y, height[page], lines[page], column, tops[row])
            y += height[page] + STACK_GAP
    return boxes, sections, tops[-1] + bands[-1] + MARGIN


def rounded(points: list[tuple[float, float]], radius: float = 6) -> str:
    """An SVG path along horizontal and vertical segments through the points, corners rounded."""
    sign = lambda v: (v > 0) - (v < 0)  # noqa: E731
    path = f"M {points[0][0]:.1f} {points[0][1]:.1f}"
    for (x0, y0), (x1, y1), (x2, y2) in zip(points, points[1:], points[2:]):
        r = min(radius, (abs(x1 - x0) + abs(y1 - y0)) / 2, (abs(x2 - x1) + abs(y2 - y1)) / 2)
        ux, uy, vx, vy = sign(x1 - x0), sign(y1 - y0), sign(x2 - x1), sign(y2 - y1)
        path += f" L {x1 - ux * r:.1f} {y1 - uy * r:.1f} Q {x1:.1f} {y1:.1f} {x1 + vx * r:.1f} {y1 + vy * r:.1f}"
    return path + f" L {points[-1][0]:.1f} {points[-1][1]:.1f}"


def arrow_paths(needs: dict[str, list[str]], boxes: dict[str, Box]) -> list[tuple[str, str, str]]:
    """(prerequisite, page, SVG path) for every prerequisite: from box to box along the gaps between the
    columns and between the bands, never across another box. Each arrow has its own lane in a gap."""
    ends = []  # (prerequisite, page, the side the arrow leaves by, the side it enters by)
    for page, named in needs.items():
        for need in named:
            a, b = boxes[need], boxes[page]
            if a.column != b.column:
                ends.append((need, page, *(("right", "left") if b.column > a.column else ("left", "right"))))
            elif any(c.column == a.column and a.y < c.y < b.y for c in boxes.values()):
                ends.append((need, page, "right", "right"))  # boxes in between: round them on the right
            else:
                ends.append((need, page, "bottom", "top"))
    ports = {}  # (page, side) -> the pages at the other end of its arrows on that side, top to bottom
    for need, page, out, into in ends:
        ports.setdefault((need, out), []).append(page)
        ports.setdefault((page, into), []).append(need)
    for others in ports.values():
        others.sort(key=lambda other: (boxes[other].y, boxes[other].x))

    def port(page, side, other):
        box = boxes[page]
        if side in ("top", "bottom"):
            return box.x + NODE_W / 2, box.y + (box.height if side == "bottom" else 0)
        spread = ports[page, side]
        share = (spread.index(other) + 1) / (len(spread) + 1)  # evenly along the side
        return box.x + (NODE_W if side == "right" else 0), box.y + box.height * share

    # The vertical runs: gap g lies right of column g. In a gap, a run that starts higher gets a lane
    # nearer the column it goes to, so that runs going the same way cross only where one nests in another.
    runs = {}  # gap -> [(start y, goes right, arrow, run)]
    for i, (need, page, out, into) in enumerate(ends):
        a, b, y = boxes[need], boxes[page], port(need, out, page)[1]
        if out == "right" and into == "right":
            runs.setdefault(a.column, []).append((y, False, i, 0))
        elif out != "bottom":
            right = b.column > a.column
            first, last = (a.column, b.column - 1) if right else (a.column - 1, b.column)
            runs.setdefault(first, []).append((y, right, i, 0))
            if last != first:
                runs.setdefault(last, []).append((b.band, right, i, 1))
    lane = {}
    for gap, found in runs.items():
        left = MARGIN + gap * (NODE_W + GUTTER) + NODE_W
        spacing = GUTTER / (len(found) + 1)
        rightward = sorted(r for r in found if r[1])
        leftward = sorted(r for r in found if not r[1])
        for k, (_, _, i, j) in enumerate(leftward + rightward[::-1]):
            lane[i, j] = left + spacing * (k + 1)

    paths, crossings = [], {}
    for i, (need, page, out, into) in enumerate(ends):
        (x1, y1), (x2, y2) = port(need, out, page), port(page, into, need)
        if out == "bottom":
            paths.append((need, page, f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}"))
        elif (i, 1) not in lane:  # one gap: out to the lane, down, in
            paths.append((need, page, rounded([(x1, y1), (lane[i, 0], y1), (lane[i, 0], y2), (x2, y2)])))
        else:  # across columns: down the first gap, along the gap above the page's band, down the last gap
            band = boxes[page].band
            above = band - ROW_GAP / 2 + 4 * crossings.setdefault(band, 0)
            crossings[band] += 1
            paths.append((need, page, rounded([(x1, y1), (lane[i, 0], y1), (lane[i, 0], above),
                                               (lane[i, 1], above), (lane[i, 1], y2), (x2, y2)])))
    return paths


def concept_map(page, config, files) -> str:
    """The map as one raw-HTML block: a figure holding an SVG whose boxes link to the pages."""
    needs, section = concept_graph(files, config)
    if not needs:
        return ""
    boxes, sections, height = map_layout(needs, section)
    width = MARGIN + len(sections) * (NODE_W + GUTTER)  # the last gap holds arrows too
    out = ['<figure class="concept-map" data-search-exclude>',
           '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" role="group" '
           'aria-label="Map of the concept pages: an arrow points from a page to each page that lists it under '
           'Know first">',
           '<defs><marker id="concept-map-head" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="5" '
           'markerHeight="5" orient="auto"><path d="M 0 0 L 8 4 L 0 8 z"/></marker></defs>']
    for column, name in enumerate(sections):
        x = MARGIN + column * (NODE_W + GUTTER)
        out.append(f'<rect class="concept-map-column" x="{x - GUTTER / 4:.1f}" y="{MARGIN / 2:.1f}" '
                   f'width="{NODE_W + GUTTER / 2:.1f}" height="{height - MARGIN:.1f}" rx="6"/>')
        out.append(f'<text class="concept-map-section" x="{x + NODE_W / 2:.1f}" y="{MARGIN + HEADER / 2:.1f}" '
                   f'text-anchor="middle">{html.escape(name)}</text>')
    for need, target, d in arrow_paths(needs, boxes):
        out.append(f'<path class="concept-map-arrow" data-from="{need}" data-to="{target}" d="{d}" '
                   'marker-end="url(#concept-map-head)"/>')
    for target, box in boxes.items():
        href = get_relative_url(files.get_file_from_path(target).url, page.file.url)
        title = html.escape(_titles.get(target, target), quote=True)
        # xlink:href, not href: Material's instant navigation assigns a.href on every [href] element of
        # a page it loads, which an SVG link refuses (a TypeError in the console); the browser follows both
        out.append(f'<a xlink:href="{href}" aria-label="{title}"><rect x="{box.x:.1f}" y="{box.y:.1f}" '
                   f'width="{NODE_W}" height="{box.height:.1f}" rx="4"/><text text-anchor="middle">')
        out += [f'<tspan x="{box.x + NODE_W / 2:.1f}" y="{box.y + PAD + LINE_H * (k + 1) - 3.5:.1f}">'
                f'{html.escape(line)}</tspan>' for k, line in enumerate(box.lines)]
        out.append("</text></a>")
    return "\n".join(out + ["</svg>", "</figure>"])
