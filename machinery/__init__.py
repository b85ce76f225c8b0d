"""The machinery behind the notes, importable by tests, hooks and benchmarks alike.

- `machinery.questions`: what a page asks and states for review: its check-yourself questions (with the
  answer paragraph the harness checks against the code's output) and its "Remember" points.
"""
