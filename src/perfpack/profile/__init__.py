"""`perfpack profile`: where a program's CPU time and memory go, as a summary an agent can read.

Engines: py-spy (sampling, outside the process) for Python, cProfile where sampling is impossible,
perf for native programs; memray or tracemalloc for memory at the peak. See docs/profile.md.
"""
