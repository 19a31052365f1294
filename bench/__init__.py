"""k8saudit's benchmark suite: `python -m bench` (see README, "Performance").

Not part of the pass/fail tests: it measures, it never asserts. Every contender runs in its own
child process against the same replay API server (itself another process), so wall time and
peak RSS belong to that contender alone.
"""
