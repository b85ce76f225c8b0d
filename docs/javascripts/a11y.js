// Name two ARIA widgets of the theme that screen readers would otherwise announce without a label
// (axe-core: aria-dialog-name, aria-progressbar-name), and let keyboard users scroll a table that is
// wider than the page (axe-core: scrollable-region-focusable). Runs again after each instant navigation.
document$.subscribe(() => {
  document.querySelector(".md-search[role=dialog]")?.setAttribute("aria-label", "Search the notes");
  document.querySelector(".md-progress[role=progressbar]")?.setAttribute("aria-label", "Loading page");
  for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap")) {
    if (wrap.scrollWidth > wrap.clientWidth) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Table, scrolls sideways");
    }
  }
});
