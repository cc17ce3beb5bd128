"""通办 benchmarks (issue 8): production-like server, mixed load, ceilings, scale, integrity.

Entry point: ``bench/run.py`` (``make bench`` / ``make bench-quick``); see bench/README.md.
"""
