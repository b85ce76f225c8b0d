"""MkDocs hook: notebook pages (mkdocs-jupyter) load nothing from other hosts and show math like
every other page.

mkdocs-jupyter's template carries a MathJax loader (with an empty source unless a CDN is set) and
a mermaid loader that imports from cdnjs. Both are removed; notebook math is typeset by the site's
own KaTeX (javascripts/katex-init.js) and checked at build time by hooks/katex.py.
"""

import re
from pathlib import PurePosixPath

MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.DOTALL)


def download_button(page) -> str:
    """mkdocs-jupyter copies the notebook beside its page (include_source); link to it."""
    name = PurePosixPath(page.file.src_uri).name
    return (f'<p><a class="md-button" href="{name}" download>Download the notebook ({name})</a> '
            "Stored without outputs: run it to see them.</p>")


def on_post_page(output, page, **kwargs):
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    output = MERMAID.sub("", MATHJAX.sub("", output))
    return output.replace('<div class="jupyter-wrapper"', download_button(page) + '<div class="jupyter-wrapper"', 1)
