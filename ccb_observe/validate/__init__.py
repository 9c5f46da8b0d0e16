"""Validation of generated files with the real tools and our own lints."""
