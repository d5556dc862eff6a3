"""Benchmarks that run offline against loopback servers and print figures with ratios."""
