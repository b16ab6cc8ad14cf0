"""Metrics: prediction metrics, membership attacks, heatmap coverage, bootstrap intervals, cost, published values."""
