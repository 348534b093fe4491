"""Mocked task results in AWS Step Functions Local's MockConfigFile format (SPEC.md E.4).

The file is read unchanged::

    {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": ...}, "1-2": {"Throw": {...}}}}}

Each mocked Task state needs a response for every invocation (retries, loops and Map
iterations count); a missing one fails the execution, as Step Functions Local does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl.errors import ASLError
from runtime.adapters.base import TaskCall
from runtime.engine.errors import TaskFailure

__all__ = ["MockConfig", "MockConfigError", "MockedResponse", "MockedTasks"]


class MockConfigError(ASLError):
    """Raised when a MockConfigFile is malformed or names an unknown machine or case."""


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """The answers of one mocked response, by zero-based invocation index."""

    name: str
    answers: Mapping[int, Mapping[str, Any]]

    @classmethod
    def parse(cls, name: str, raw: Any) -> MockedResponse:
        if not isinstance(raw, dict):
            raise MockConfigError(f"MockedResponses/{name}: expected an object")
        answers: dict[int, Mapping[str, Any]] = {}
        for key, answer in raw.items():
            where = f"MockedResponses/{name}/{key}"
            first, _, last = key.partition("-")
            if not first.isdigit() or (last and not last.isdigit()):
                raise MockConfigError(f"{where}: keys are 'N' or 'A-B' invocation indexes")
            lo, hi = int(first), int(last or first)
            if hi < lo:
                raise MockConfigError(f"{where}: range end is below its start")
            if not isinstance(answer, dict) or len({"Return", "Throw"} & answer.keys()) != 1:
                raise MockConfigError(f"{where}: needs exactly one of Return or Throw")
            throw = answer.get("Throw")
            if throw is not None and not (
                isinstance(throw, dict)
                and isinstance(throw.get("Error"), str)
                and isinstance(throw.get("Cause", ""), str)
            ):
                raise MockConfigError(f"{where}/Throw: needs string Error and Cause")
            for index in range(lo, hi + 1):
                answers[index] = answer
        return cls(name, answers)


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A parsed MockConfigFile."""

    test_cases: Mapping[str, Mapping[str, Mapping[str, str]]]
    responses: Mapping[str, MockedResponse]

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MockConfigError(f"{path}: {exc}") from exc
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: Any) -> MockConfig:
        if not isinstance(raw, dict):
            raise MockConfigError("a MockConfigFile is a JSON object")
        machines = raw.get("StateMachines")
        responses = raw.get("MockedResponses")
        if not isinstance(machines, dict) or not isinstance(responses, dict):
            raise MockConfigError("StateMachines and MockedResponses objects are required")
        cases: dict[str, dict[str, dict[str, str]]] = {}
        for machine, spec in machines.items():
            test_cases = spec.get("TestCases") if isinstance(spec, dict) else None
            if not isinstance(test_cases, dict):
                raise MockConfigError(f"StateMachines/{machine}: TestCases object required")
            cases[machine] = test_cases
        parsed = {name: MockedResponse.parse(name, r) for name, r in responses.items()}
        for machine, test_cases in cases.items():
            for case, states in test_cases.items():
                for state, response in states.items():
                    if response not in parsed:
                        raise MockConfigError(
                            f"StateMachines/{machine}/TestCases/{case}/{state}: "
                            f"unknown mocked response {response!r}"
                        )
        return cls(cases, parsed)

    def test_case(self, test_case: str, state_machine: str | None = None) -> MockedTasks:
        """The mocks of one test case; the machine may be omitted when there is one."""
        if state_machine is None:
            if len(self.test_cases) != 1:
                names = ", ".join(sorted(self.test_cases)) or "none"
                raise MockConfigError(f"name the state machine (the file has: {names})")
            state_machine = next(iter(self.test_cases))
        machine = self.test_cases.get(state_machine)
        if machine is None:
            raise MockConfigError(f"no state machine {state_machine!r} in the mock config")
        case = machine.get(test_case)
        if case is None:
            known = ", ".join(sorted(machine)) or "none"
            raise MockConfigError(f"no test case {test_case!r} for {state_machine} ({known})")
        return MockedTasks({s: self.responses[r] for s, r in case.items()})


@dataclass
class MockedTasks:
    """The adapter serving one test case's mocked states; counts invocations per state."""

    by_state: Mapping[str, MockedResponse]
    calls: dict[str, int] = field(default_factory=dict)

    def states(self) -> list[str]:
        return list(self.by_state)

    def replayed(self, call: TaskCall) -> None:
        """A resumed execution reused this invocation's recorded answer: count it."""
        self.calls[call.state_name] = self.calls.get(call.state_name, 0) + 1

    async def invoke(self, call: TaskCall) -> Any:
        response = self.by_state[call.state_name]
        index = self.calls.get(call.state_name, 0)
        self.calls[call.state_name] = index + 1
        answer = response.answers.get(index)
        if answer is None:
            raise TaskFailure(
                "States.Runtime",
                f"No mocked response for invocation {index} of the state "
                f"'{call.state_name}' (mocked response '{response.name}').",
            )
        if call.resource.kind == "activity":
            call.on_started("mock")  # a worker took the task
        if call.resource.pattern:
            call.on_submitted(None)
        if "Throw" in answer:
            throw = answer["Throw"]
            raise TaskFailure(throw["Error"], throw.get("Cause"))
        return answer["Return"]
