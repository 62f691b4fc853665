"""Hypothesis settings for the hostile-input properties.

``HYPOTHESIS_PROFILE=long`` selects the long profile (``make fuzz-props``); anything else,
or nothing, the bounded one that ``make test`` runs: the whole tests/fuzz suite stays within
about a minute on two shared cores. The settings are objects applied per test, never
loaded globally, so other tests' hypothesis settings are left as they are.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# deadline: per-example wall time, generous for two shared cores (the hard guard is
# fuzz.invariants.bounds: SIGALRM at HANG_SECONDS, a watchdog kill at 3x).
settings.register_profile(
    "fuzz-ci", max_examples=200, deadline=5000, suppress_health_check=_SUPPRESS, print_blob=True
)
settings.register_profile(
    "fuzz-long",
    max_examples=5000,
    deadline=10000,
    suppress_health_check=_SUPPRESS,
    print_blob=True,
)

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FUZZ = settings.get_profile("fuzz-long" if LONG else "fuzz-ci")
HANG_SECONDS = 10.0


def scaled(n: int) -> settings:
    """The active profile with ``n`` examples in CI and 20x that in the long profile."""
    return settings(FUZZ, max_examples=n * 20 if LONG else n)
