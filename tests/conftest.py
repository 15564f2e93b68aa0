"""Shared test settings.

Hypothesis draws its examples at random. ``make test`` (and so CI) must give the same
verdict on every run, so the default profile is derandomized: the same examples each
time. To explore new examples, run ``HYPOTHESIS_PROFILE=explore make unit``.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
