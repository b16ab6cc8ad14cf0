"""The pipeline package: one entry module per DVC stage (``python -m stages.<stage>``) and the libraries they use."""
