"""Datasets: generators of the real on-disk formats, their readers, and the prepared packed arrays."""
