"""A fast slice of ``make fuzz`` (tests/fuzz/run.py): the same generators and the same
judge, in-process and on a few hundred cases, so every ``make test`` hunts a little.

The full run (20,000 cases in worker processes limited to 1 GiB and 10 s a case) is
``make fuzz``; a finding there is replayed here by adding its case to ``FOUND``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance_cases import case_files
from tests.fuzz.cases import definitions, expressions
from tests.fuzz.check import check

pytestmark = pytest.mark.skipif(not case_files(), reason="no ../shared/conformance cases")


@pytest.fixture(autouse=True)
def _short_jsonata_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endless JSONata loop ends as D1012 after 1 s instead of 10 (as in the workers)."""
    from asl.jsonata import engine

    monkeypatch.setattr(engine, "EVALUATION_TIMEOUT_SECONDS", 1.0)


def _deep(n: int) -> Any:
    value: Any = []
    for _ in range(n):
        value = [value]
    return value


#: Cases that once were findings, kept as regression tests.
FOUND: list[dict[str, Any]] = [
    {
        "kind": "expression",
        "id": "intrinsic-overflow",
        "language": "intrinsic",
        "text": "States.ArrayRange(0, $.x, 1)",
        "input": {"x": 1e308},
    },
    {
        "kind": "expression",
        "id": "string-to-json-1e999",
        "language": "intrinsic",
        "text": "States.StringToJson($.s)",
        "input": {"s": "1e999"},
    },
    {
        "kind": "expression",
        "id": "jsonata-deep-input",
        "language": "jsonata",
        "text": "$count($states.input.a)",
        "input": {"a": _deep(900)},
    },
]


def _verdicts(cases: list[dict[str, Any]]) -> list[str]:
    findings = []
    for case in cases:
        verdict = check(case)
        if "finding" in verdict:
            findings.append(f"{case['id']}: {verdict['finding']}")
    return findings


def test_mutated_recorded_definitions_end_cleanly() -> None:
    assert _verdicts(list(definitions(60, seed=11))) == []


def test_generated_expressions_end_cleanly() -> None:
    assert _verdicts(list(expressions(160, seed=11))) == []


def test_former_findings_end_cleanly() -> None:
    assert _verdicts(FOUND) == []
