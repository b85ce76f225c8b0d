// Render the math that pymdownx.arithmatex (generic mode) leaves as \( \) and \[ \] spans.
// document$ emits on the first load and after every instant navigation, so math is rendered
// again on each page the reader moves to without a full reload.
document$.subscribe(() => {
  for (const element of document.querySelectorAll(".arithmatex")) {
    const source = element.textContent.trim();
    const display = source.startsWith("\\[");
    katex.render(source.slice(2, -2), element, {
      displayMode: display,
      throwOnError: false, // the build already refused malformed TeX; never blank a page
    });
  }
  // Notebook pages (mkdocs-jupyter) keep $...$ and $$...$$ in their markdown cells.
  for (const element of document.querySelectorAll(".jp-RenderedMarkdown")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
    });
  }
  markScrollableFormulas();
  document.fonts.ready.then(markScrollableFormulas); // widths change once KaTeX's fonts arrive
});

// A formula wider than the page scrolls sideways: let keyboard users reach and scroll it.
function markScrollableFormulas() {
  for (const element of document.querySelectorAll("div.arithmatex")) {
    if (element.scrollWidth > element.clientWidth) element.tabIndex = 0;
    else element.removeAttribute("tabindex");
  }
}
window.addEventListener("resize", markScrollableFormulas);
