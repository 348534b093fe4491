"""The test cases ``asl mock init`` builds, and the MockConfigFile they make.

A :class:`Plan` is one test case while it is searched for: each mocked state's ``Return``,
the invocations that throw first, and what the case must show. :func:`document` writes the
finished plans in AWS Step Functions Local's format, each state's answers keyed by the
invocations its run made (``"0"``, ``"0-2"``), equal answers of one state shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Plan", "document", "title"]


@dataclass
class Plan:
    """One test case as it is searched for."""

    name: str
    purpose: str
    returns: dict[str, Any]
    #: state -> (invocations that throw, the Throw), from the first invocation on.
    throws: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    #: state -> the Return of its first invocation that does not throw (later ones
    #: return ``returns``): a Choice in a loop sees it once, then leaves the loop.
    first: dict[str, Any] = field(default_factory=dict)
    #: Choice states whose outcome the case forces: never changed to escape a dead end.
    pinned: frozenset[str] = frozenset()
    goal: Callable[[Any], int] = lambda result: 2 if result.succeeded else 0
    result: Any = None
    calls: dict[str, int] = field(default_factory=dict)


def document(machine: str, cases: list[Plan]) -> dict[str, Any]:
    """The MockConfigFile of ``cases`` (each run: its ``calls`` say how many answers each
    state needs)."""
    responses: dict[str, Any] = {}
    by_content: dict[str, str] = {}
    test_cases: dict[str, dict[str, str]] = {}
    for case in cases:
        mapping = {}
        for state, count in case.calls.items():
            if not count:
                continue
            answers = _keyed(case, state, count)
            text = state + "\n" + json.dumps(answers, sort_keys=True)
            name = by_content.get(text)
            if name is None:
                name = _response_name(state, case, responses)
                by_content[text] = name
                responses[name] = answers
            mapping[state] = name
        test_cases[case.name] = mapping
    return {"StateMachines": {machine: {"TestCases": test_cases}}, "MockedResponses": responses}


def _keyed(case: Plan, state: str, count: int) -> dict[str, Any]:
    thrown, throw = case.throws.get(state, (0, {}))
    thrown = min(thrown, count)
    answers: dict[str, Any] = {}
    if thrown:
        answers[_span(0, thrown - 1)] = {"Throw": throw}
    if count > thrown and state in case.first:
        answers[str(thrown)] = {"Return": case.first[state]}
        thrown += 1
    if count > thrown:
        answers[_span(thrown, count - 1)] = {"Return": case.returns[state]}
    return answers


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def _response_name(state: str, case: Plan, taken: Mapping[str, Any]) -> str:
    thrown = case.throws.get(state)
    if state in case.first and thrown is None:
        stem = title(state, "ReturnsChanging")
    elif thrown is None:
        stem = title(state, "Return")
    else:
        error = thrown[1]["Error"].split(".")[-1]
        stem = title(state, f"Throws{error}")
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}{n}", n + 1
    return name


def title(state: str, suffix: str) -> str:
    """A name for a test case or response: the state's words joined, then ``suffix``."""
    words = re.findall(r"[A-Za-z0-9]+", state)
    stem = "".join(w[:1].upper() + w[1:] for w in words) or "State"
    return stem + suffix
