"""Sostenuto: rights infrastructure for generative AI in music."""

__version__ = "0.1.0"
