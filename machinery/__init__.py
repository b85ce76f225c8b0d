"""The machinery behind the notes, importable by tests, hooks and benchmarks alike.

- `machinery.execute`: the one guarded executor: the state every run starts from (seeds, dtype, grad
  mode), the guards (sockets refused, a time limit, the CPU forced when asked), and running a code
  string or a whole file with tracebacks that name its lines. The test harness, the notebook test,
  the figure blocks of the build, the benchmarks and the mutation runner all run code through it.
- `machinery.notebooks`: the worked examples run cell by cell in this process (no Jupyter kernel) by
  that executor, with their outputs as Jupyter shows them and a record per cell; the build runs each
  notebook once this way, and the suite reads the build's record.
- `machinery.inventory`: which files are concept pages.
- `machinery.cache`: passed checks remembered by a digest of everything they read, so reruns skip them.
- `machinery.questions`: what a page asks and states for review: its check-yourself questions (with the
  answer paragraph the harness checks against the code's output) and its "Remember" points.
- `machinery.vocabulary`: the front matter a concept page gives search (questions, also-called words, code).
- `machinery.reading_path`: the home page's reading order, which the footer's Next/Previous follow.
- `machinery.benchmark_table`: the benchmark record's tables, as the optimizer pages show them.
- `machinery.build_log`: what a failed site build says, for the suite to report it plainly.
- `machinery.scaffold` (`make new CONCEPT=...`): a new page and snippet that already pass, from `templates/`.
"""
