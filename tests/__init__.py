"""Test package: conftest is imported once, as tests.conftest."""
