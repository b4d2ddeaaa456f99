"""Speed of skillroute alone: import, cold start, latency, throughput, overhead, memory.

Entry point: `benchmarks.speed.run.run_speed`, called by ``python -m benchmarks --speed``.
Kept import-free so a child process can import `benchmarks.speed.synthetic` without
pulling in the rest of the harness (or torch).
"""
