"""Testing support: test suites (``asl test``), coverage, and the pytest plugin.

    >>> from runtime.testing import load_suite, prepare, run_prepared  # doctest: +SKIP
    >>> results = [run_prepared(p) for p in prepare([load_suite("orders.asl-test.yaml")])]

Modules: :mod:`~runtime.testing.suite` (reading suite files and sidecars),
:mod:`~runtime.testing.runner` (preparing and running cases),
:mod:`~runtime.testing.expect` (checking expectations), :mod:`~runtime.testing.trail`
(facts read from a history), :mod:`~runtime.testing.coverage` and
:mod:`~runtime.testing.coverage_html`, :mod:`~runtime.testing.reports` (terminal, JUnit,
JSON), :mod:`~runtime.testing.pytest_plugin` (fixtures and suite collection),
:mod:`~runtime.testing.teststate` (the TestState API).
"""

from __future__ import annotations

from collections.abc import Sequence

from runtime.testing.coverage import Coverage
from runtime.testing.runner import CaseResult, Prepared, prepare, run_case, run_prepared
from runtime.testing.suite import Case, Suite, SuiteError, load_suite
from runtime.testing.trail import trail_of

__all__ = [
    "Case",
    "CaseResult",
    "Coverage",
    "Prepared",
    "Suite",
    "SuiteError",
    "load_suite",
    "measure_coverage",
    "prepare",
    "run_case",
    "run_prepared",
]


def measure_coverage(ready: Sequence[Prepared], results: Sequence[CaseResult]) -> list[Coverage]:
    """Coverage per definition (in order of first use) over the executions of ``results``."""
    found: dict[str, Coverage] = {}
    for prepared, result in zip(ready, results, strict=True):
        cov = found.get(prepared.label)
        if cov is None:
            cov = found[prepared.label] = Coverage(prepared.machine, prepared.label)
        if result.result is not None:
            cov.add(trail_of(result.result), prepared.case.id)
    return list(found.values())
