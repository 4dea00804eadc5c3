"""Repository root: makes `testcases` importable as a package for the test modules.

The harness itself is a pytest plugin registered by its entry point (pip install),
so nothing else is needed here.
"""
