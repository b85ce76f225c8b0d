"""MkDocs hook: notebook pages (mkdocs-jupyter) load nothing from other hosts and show math like
every other page.

mkdocs-jupyter's template carries a MathJax loader (with an empty source unless a CDN is set) and
a mermaid loader that imports from cdnjs. Both are removed; notebook math is typeset by the site's
own KaTeX (javascripts/katex-init.js) and checked at build time by hooks/katex.py.

mkdocs-jupyter also leaves links in markdown cells as written (`../training/gradient-descent.md`),
which MkDocs neither rewrites nor validates for notebook pages. Here they are rewritten to the built
page's URL, and a link to a missing page or a missing heading is a warning naming the notebook
(so `mkdocs build --strict` fails), as it is for Markdown pages.
"""

import logging
import posixpath
import re
from pathlib import PurePosixPath
from urllib.parse import unquote

log = logging.getLogger("mkdocs.hooks.notebooks")

MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.DOTALL)


def download_button(page) -> str:
    """mkdocs-jupyter copies the notebook beside its page (include_source); link to it."""
    name = PurePosixPath(page.file.src_uri).name
    return (f'<p><a class="md-button" href="{name}" download>Download the notebook ({name})</a> '
            "Stored without outputs: run it to see them.</p>")


LINK = re.compile(r'href="(?P<path>[^":#?]+\.(?:md|ipynb))(?:#(?P<anchor>[^"]*))?"')
_files = None
_anchors_to_check = []  # (notebook, link as written, target file, anchor)


def on_files(files, **kwargs):
    global _files
    _files = files
    _anchors_to_check.clear()


def rewrite_links(output, page):
    """`../x/y.md#h` in a notebook's markdown -> the built page's URL relative to this page."""
    def replace(match):
        written, anchor = match["path"], match["anchor"]
        target_uri = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), unquote(written)))
        target = _files.get_file_from_path(target_uri) if _files else None
        if target is None:
            log.warning(f"Doc file '{page.file.src_uri}' contains a link '{written}', but the target "
                        f"'{target_uri}' is not found among documentation files.")
            return match.group(0)
        if anchor:
            _anchors_to_check.append((page.file.src_uri, f"{written}#{anchor}", target, anchor))
        url = target.url_relative_to(page.file)
        return f'href="{url}#{anchor}"' if anchor else f'href="{url}"'

    return LINK.sub(replace, output)


def on_post_build(config, **kwargs):
    for source, written, target, anchor in _anchors_to_check:
        built = PurePosixPath(config["site_dir"]) / target.dest_uri
        html = open(built, encoding="utf-8").read()
        if f'id="{anchor}"' not in html:
            log.warning(f"Doc file '{source}' contains a link '{written}', but there is no such anchor "
                        f"on this page.")


def on_post_page(output, page, **kwargs):
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    output = rewrite_links(MERMAID.sub("", MATHJAX.sub("", output)), page)
    return output.replace('<div class="jupyter-wrapper"', download_button(page) + '<div class="jupyter-wrapper"', 1)
