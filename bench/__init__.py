"""``make bench``: throughput, start-up and memory figures for asl-runtime, beside its peers.

The harness prints figures and never asserts them: a slow run is information, not a failure.
Entry point: ``python bench/run.py --shared ../shared`` (see ``bench/README.md``).
"""
