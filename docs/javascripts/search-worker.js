// The site's search query policy, run around Material for MkDocs' own search worker.
//
// Material turns every word of a query into a prefix ("what is a gradient" becomes
// "what* is* a* gradient*", and "a*" matches "adam" and "affine"), and version 9 has no setting
// to change that: custom query transforms and custom workers were removed in 9.0. So
// overrides/main.html starts this file as the search worker, with Material's worker URL in
// ?worker=. This file loads Material's worker unchanged and rewrites each query before Material
// sees it:
//
//   * stop words ("what", "is", "a", "to") are dropped, unless they are part of code such as
//     torch.where (a query of stop words only is searched for those words, whole);
//   * words of one or two letters ("lr", "l1") match whole words only, never as prefixes;
//   * longer words match as a whole word, weighted WHOLE times, and as a prefix of their root
//     ("gradients" -> gradients^10 gradient*), so whole-word matches outrank prefix matches;
//   * a word that no indexed word starts with is taken for a typo and replaced by the indexed
//     words closest to it (braodcasting -> broadcasting).
//
// Material then searches, ranks and highlights as usual. Its results come back through this
// file, which reports one term per word the reader typed (so "Missing:" and the ?h= that a
// result link carries name the reader's words, never a stop word or a fragment) and re-ranks
// by the share of the reader's words each result contains.

const SETUP = 0, QUERY = 2, RESULT = 3 // Material's message types (SearchMessageType)
const WHOLE = 10 // weight of a whole-word match; a prefix match weighs 1

let index // the lunr index Material builds, caught below: to look words up before searching
let separator // Material's word separator, from the search index's config (mkdocs.yml)
const pending = [] // per query sent on to Material, in order: the reader's words and their terms

// Registered before Material's worker is loaded, so it sees each message first.
addEventListener("message", ({ data: message }) => {
  if (message.type === SETUP) separator = new RegExp(message.data.config.separator)
  if (message.type === QUERY) {
    const words = rewrite(message.data)
    pending.push(words)
    message.data = words.map(word => word.clauses.join(" ")).join(" ")
  }
})

// Material's results go out through postMessage: fix their terms and order on the way.
const send = postMessage.bind(self)
self.postMessage = message => {
  if (message.type === RESULT) rerank(message.data, pending.shift())
  send(message)
}

importScripts(new URL(location.href).searchParams.get("worker"))
const build = lunr.Builder.prototype.build
lunr.Builder.prototype.build = function () {
  return (index = build.call(this))
}

// The reader's query as words, each with the lunr clauses that search for it and the terms
// Material will report for those clauses.
function rewrite(query) {
  const words = []
  for (const part of query.trim().toLowerCase().split(/\s+/)) {
    const code = /\w[._]\w|\(/.test(part) // torch.where, zero_grad, backward()
    for (const token of part.split(separator))
      for (const word of token.split(/[*^~:+]+/)) // lunr's query syntax is not for readers
        if (word) words.push({ word, code })
  }
  let kept = words.filter(({ word, code }) => code || lunr.stopWordFilter(word))
  if (!kept.length) kept = words // only stop words: look for them, as whole words
  for (const word of kept) {
    word.clauses = []
    word.terms = []
    for (const form of spellings(word.word)) {
      const whole = new Set([form])
      if (form.length > 2 && kept !== words)
        for (const root of roots(form)) {
          word.clauses.push(root) // a prefix: Material appends the *
          word.terms.push(root)
          for (const term of indexed(`${root}*`)) // the same word, inflected: gradient(s)
            if (inflection(form).test(term.slice(root.length))) whole.add(term)
        }
      for (const term of whole) {
        word.clauses.push(`${term}^${WHOLE}`) // whole word only (Material adds no * after a ^)
        word.terms.push(term)
      }
    }
  }
  return kept
}

// The indexed words a lunr pattern (with * or without) matches.
function indexed(pattern) {
  return index.tokenSet.intersect(lunr.TokenSet.fromString(pattern)).toArray()
}

// The word itself, and the indexed words closest to it if it looks like a typo: one edit away
// (two for words of 8 letters or more), a swap of two neighbouring letters counting as one edit,
// that are in at least five times as many sections as the word (braodcasting -> broadcasting,
// gradient decent -> descent); at most three, the most frequent first. A word that no indexed
// word starts with is replaced by them.
function spellings(word) {
  if (word.length < 5 || /\d/.test(word)) return [word]
  const sections = term => Object.keys(index.invertedIndex[term]?.text ?? {}).length
  const near = index.tokenSet.intersect(lunr.TokenSet.fromFuzzyString(word, word.length >= 8 ? 2 : 1))
    .toArray().filter(term => sections(term) >= 5 * Math.max(1, sections(word)))
    .sort((a, b) => sections(b) - sections(a)).slice(0, 3)
  return indexed(`${word}*`).length ? [word, ...near] : near.length ? near : [word]
}

// The endings that make an indexed word starting with a word's root the same word, inflected
// ("gradient" -> "gradients", "initialize" -> "initialization"), and so a whole-word match.
// "-ing" counts only for a word that has it: "rate" must not find "rating" as a whole word.
function inflection(word) {
  return word.endsWith("ing") ? /^(|s|es|e|ed|d|y|ies|ly|ation|ations|ity|ities|ing|ings)$/
    : /^(|s|es|e|ed|d|y|ies|ly|ation|ations|ity|ities)$/
}

// Where a word's prefix search starts: the word without a common English ending, so that
// "gradients" finds "gradient", "moving" finds "move" and "initialization" finds "initialize",
// plus the other spelling of -ise/-ize words ("factorization" also finds "factorisation").
const ENDINGS = ["ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s", "e", "y"]
function roots(word) {
  let root = word
  const ending = ENDINGS.find(end => word.endsWith(end) && word.length - end.length >= 3 &&
                                     !(end === "s" && /[siu]s$/.test(word))) // loss, basis, focus
  if (ending) root = word.slice(0, -ending.length)
  if (ending && /([^aeiouls])\1$/.test(root)) root = root.slice(0, -1) // embedding -> embed
  const other = root.length >= 6 && /i[sz]/.test(root)
    ? root.replace(/i([sz])/g, (_, letter) => `i${letter === "s" ? "z" : "s"}`) : null
  return other ? [root, other] : [root]
}

// Material ranks by lunr's score times (1 + boost^2), where boost is 1 for a page (0 for one of
// its sections) plus the share of query terms found. Recompute that share over the reader's
// words instead of over the terms of the rewritten query, report one term per word, and sort
// again: pages by their best entry, entries within a page by score.
function rerank(result, words) {
  if (!words?.length || !result.items) return
  for (const group of result.items) {
    for (const item of group) {
      const found = Object.values(item.terms).filter(Boolean).length
      const total = Object.keys(item.terms).length
      if (!total) continue // the page entry Material adds to a group without a score
      const raw = item.score / (1 + (+!item.parent + found / total) ** 2)
      const terms = {}
      let share = 0
      for (const { word, terms: forms } of words) {
        const matched = forms.find(form => item.terms[form])
        if (matched) terms[matched] = true
        else terms[word] = false
        if (matched) share += 1 / words.length
      }
      item.terms = terms
      item.score = raw * (1 + (+!item.parent + share) ** 2)
    }
    group.sort((a, b) => b.score - a.score)
  }
  result.items.sort((a, b) => b[0].score - a[0].score)
  // Suggestions, as Material makes them (the words of the best title that has every word the
  // reader typed, the last one as a prefix), from the reader's words instead of the rewritten
  // query's terms, which no title holds all of.
  if ("suggest" in result) {
    const titles = index.query(query => {
      for (const { word } of words)
        query.term(word, { fields: ["title"], presence: lunr.Query.presence.REQUIRED,
                           wildcard: lunr.Query.wildcard.TRAILING })
    })
    result.suggest = titles.length ? Object.keys(titles[0].matchData.metadata) : []
  }
}
