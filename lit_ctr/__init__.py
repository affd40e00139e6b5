"""lit-ctr: CTR prediction with the factorization-machine family on PyTorch Lightning."""

__version__ = "0.1.0"
