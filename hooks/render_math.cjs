// Render every formula of the site with KaTeX, once per build, in one Node process.
// stdin: JSON [{tex, display}, ...]; stdout: JSON [{html} | {error}, ...], in the same order.
// throwOnError and strict "error": TeX that KaTeX would only warn about, or render in red, is an
// error here, which hooks/katex.py reports as a warning naming the page (a failed strict build).
// output "htmlAndMathml": the HTML is what readers see, the MathML what screen readers read.
const katex = require("katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ tex, display }) => {
    try {
      return {
        html: katex.renderToString(tex, {
          displayMode: display,
          throwOnError: true,
          strict: "error",
          output: "htmlAndMathml",
        }),
      };
    } catch (error) {
      return { error: String(error.message || error) };
    }
  });
  process.stdout.write(JSON.stringify(results));
});
