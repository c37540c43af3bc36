"""Benchmarks for speechcoach: accuracy on real clips, built passages, and speed.

Run ``python -m benchmarks.accuracy`` (writes ``benchmarks/RESULTS.md``) or
``python -m benchmarks.speed``. The real-speech corpus is read at run time from
``<repo>/../shared/corpus/real`` (``SPEECHCOACH_CORPUS`` overrides); it is never copied here.
"""
