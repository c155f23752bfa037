"""`perfpack load`: open-loop HTTP load with latency measured from each request's intended start.

plan.py parses what the user asks for (URL, scenario file, thresholds); engine.py is the one-core raw
HTTP/1.1 generator; result.py turns counts into the summary, thresholds and verdict; distributed.py runs
the same engine on Locust workers; cli.py is the thin click layer.
"""
