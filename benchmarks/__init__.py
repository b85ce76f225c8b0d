"""Timings of the from-scratch implementations on the pages against PyTorch's own: `python -m benchmarks`."""
