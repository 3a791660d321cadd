"""Benchmarks, each reporting ratios to a baseline measured in the same run.

Run them from the repository root as modules (`python -m bench.perf`, `python -m
bench.files_bench`, `python -m bench.streams.bench`), so that they import one another as
`bench.…`; bench/README.md says what each measures.
"""
