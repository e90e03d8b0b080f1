"""Benchmarks of the instrument module (issue 4): `python -m bench` (BENCH_SCALE shrinks)."""
