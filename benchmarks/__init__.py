"""Benchmarks of wirearchive; run each from the project root as `python -m benchmarks.NAME`."""
