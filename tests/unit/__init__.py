"""Unit tests of the engine: each module, then small fixture rulebooks end to end.

A package (this file) so that these modules never clash with same-named test modules elsewhere
under ``tests/``.
"""
