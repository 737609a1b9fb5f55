"""Tooling around the product: sample and fixture generators, format writers, benchmarks."""
