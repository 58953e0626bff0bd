"""Fixtures of the test suite.

The per-test ``WHARF_HOME`` and working folder (``wharf_home``) live in the repository's root
``conftest.py``, so that they also apply to the doctests under ``src/`` and in Markdown files.
"""
