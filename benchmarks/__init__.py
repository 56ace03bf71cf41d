"""dltoys against PyTorch CPU on identical models: ``make bench`` (``python -m benchmarks.run``).

- :mod:`benchmarks.cases`: the reference models, each built twice (dltoys and
  PyTorch) with the same weights, batch and dtype.
- :mod:`benchmarks.worker`: what one process measures at one BLAS thread count
  (interleaved timed steps, the loss guard, the matmul peak, memory).
- :mod:`benchmarks.toys`: the whole toys (the quick tour's wall time; cnn-digits and
  transformer-lm's GPT against the same training written in PyTorch), in one more process.
- :mod:`benchmarks.run`: starts one worker per thread setting and the toys' process, prints
  the tables and writes ``benchmarks/RESULTS.md``; ``--smoke`` is the quick CI check.

Benchmark code only: nothing under ``src/`` imports it, and torch stays a
benchmark and test dependency.
"""
