// Math is typeset at build time (hooks/katex.py): the pages hold KaTeX's HTML, styled by
// katex.min.css, and no KaTeX runs here. What is left is layout.
// A formula wider than the page scrolls sideways: let keyboard users reach and scroll it.
// document$ emits on the first load and after every instant navigation.
document$.subscribe(() => {
  markScrollableFormulas();
  document.fonts.ready.then(markScrollableFormulas); // widths change once KaTeX's fonts arrive
});

function markScrollableFormulas() {
  for (const element of document.querySelectorAll("div.arithmatex")) {
    if (element.scrollWidth > element.clientWidth) element.tabIndex = 0;
    else element.removeAttribute("tabindex");
  }
}
window.addEventListener("resize", markScrollableFormulas);
