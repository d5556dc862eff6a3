"""Benchmarks that run offline against loopback servers and print figures with ratios.

``agentthink bench`` (``agentthink.bench.cli.main``): ``policies`` (the policy lab: ``lab``,
``sim_server``, ``world``, shipped worlds in ``worlds/``), ``budget`` (``budget_fuzz``),
``throughput``, ``overhead`` (``overhead`` and ``boundary``). See BENCHMARKS.md.
"""
