"""Mengxiang's inference pipelines: pure Python, no Django.

Every pipeline takes images (RGB uint8 numpy arrays), text and parameters, reports progress
through a plain callback and returns results that say which engine made them. Run them from a
terminal with ``python -m inference --help``.
"""
