"""Runnable comparisons of genpipe against hand-written code and its peers.

``python -m benchmarks`` runs every workload; ``python -m benchmarks.chain``
(or any other workload module) runs one. ``--smoke`` runs tiny sizes to check
that the benchmarks still work, without judging any number.
"""
