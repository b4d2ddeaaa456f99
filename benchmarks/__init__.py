"""Accuracy and speed benchmarks of skillroute against peer routers.

Run ``python -m benchmarks --help``. Nothing here is imported by the library; the
benchmarks may print and may import heavy optional dependencies (semantic-router).
"""
