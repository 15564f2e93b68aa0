"""Helpers for single pages of the book (chapter 4 onwards), each with its own tests.

Modules
-------
quadratic   exact terminal mean and variance of SGD on a noisy one-dimensional quadratic
"""
