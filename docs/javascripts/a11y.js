// Name two ARIA widgets of the theme that screen readers would otherwise announce without a label
// (axe-core: aria-dialog-name, aria-progressbar-name). Runs again after each instant navigation.
document$.subscribe(() => {
  document.querySelector(".md-search[role=dialog]")?.setAttribute("aria-label", "Search the notes");
  document.querySelector(".md-progress[role=progressbar]")?.setAttribute("aria-label", "Loading page");
});
