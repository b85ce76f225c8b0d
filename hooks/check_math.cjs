// Parse every formula with KaTeX, exactly as the browser will, and report the ones it rejects.
// stdin: JSON [{tex, display}, ...]; stdout: JSON [{index, message}, ...].
const katex = require("katex");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const problems = [];
  JSON.parse(input).forEach(({ tex, display }, index) => {
    try {
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
    } catch (error) {
      problems.push({ index, message: String(error.message || error) });
    }
  });
  process.stdout.write(JSON.stringify(problems));
});
