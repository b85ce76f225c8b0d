// After a search, highlight whole words only.
//
// A search result's link carries the words that matched (?h=gradient; javascripts/search-worker.js
// keeps stop words and fragments out of it), and Material marks every place where the page's
// text contains one of them, even inside a longer word: "rate" in "accurate", "grad" in
// "zero_grad". Here a mark that starts inside a word is undone, and a mark that stops inside a
// word grows to the end of it ("gradient" -> "gradients"), so that only whole words stay marked.
// Marks inside math are undone: a formula's letters are not words. Material marks a page when
// the search index has loaded, which may be after the page shows, so marks are fixed as they
// appear.
const WORD_CHARACTER = /[\p{L}\p{N}_]/u;
const WORD_START = /^[\p{L}\p{N}_]+/u;

new MutationObserver((records) => {
  const parents = new Set();
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeName === "MARK" && node.hasAttribute("data-md-highlight") && node.isConnected) {
        parents.add(node.parentNode);
        wholeWords(node);
      }
    }
  }
  for (const parent of parents) parent.normalize(); // join the text that undone marks leave
}).observe(document.body, { childList: true, subtree: true });

function wholeWords(mark) {
  const before = mark.previousSibling;
  const after = mark.nextSibling;
  const startsInsideWord = before?.nodeType === Node.TEXT_NODE && WORD_CHARACTER.test(before.data.slice(-1));
  if (startsInsideWord || mark.closest(".katex, .arithmatex")) {
    mark.replaceWith(mark.textContent);
    return;
  }
  const rest = after?.nodeType === Node.TEXT_NODE && after.data.match(WORD_START);
  if (rest) {
    mark.append(rest[0]);
    after.data = after.data.slice(rest[0].length);
  }
}
