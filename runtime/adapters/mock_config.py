"""Mocked task results in AWS Step Functions Local's MockConfigFile format (SPEC.md E.4).

The file is read unchanged::

    {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": ...}, "1-2": {"Throw": {...}}}}}

Mocks cannot lie. Before a run, every problem is reported at once, each at its place in
the file (``file:line:column: /JSON/Pointer: message``): a malformed response, a test case
naming a response that does not exist, a state name that is not a Task state of the
definition (nested states of Parallel and Map included). During a run, each mocked Task
state needs a response for every invocation (retries, loops and Map iterations count); a
missing one is :class:`~runtime.engine.errors.UnservedTask` (``States.Runtime``, which no
Catch handles) naming the state and the response.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl.errors import ASLError, SourceError
from asl.model import StateMachine
from asl.source import escape_pointer
from runtime.adapters.base import TaskCall
from runtime.engine.errors import TaskFailure, UnservedTask

__all__ = ["MockConfig", "MockConfigError", "MockedResponse", "MockedTasks"]


class MockConfigError(ASLError):
    """Raised when a MockConfigFile is malformed, names an unknown machine or case, or does
    not fit the definition; ``problems`` lists every problem, one located line each."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class _Where:
    """Turns a JSON Pointer into ``file:line:column: /pointer`` for messages."""

    source: str = ""
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __call__(self, *tokens: str) -> str:
        pointer = "".join("/" + escape_pointer(token) for token in tokens)
        if not self.source:
            return pointer
        found, probe = None, pointer
        while found is None and probe:
            found = self.positions.get(probe)
            probe = probe.rpartition("/")[0]
        place = f"{self.source}:{found[0]}:{found[1]}" if found else self.source
        return f"{place}: {pointer}"


def _answers(name: str, raw: Any, where: _Where) -> Iterator[str | tuple[int, Any]]:
    """The (index, answer) pairs of one response, or the problems found in it."""
    if not isinstance(raw, dict):
        yield f"{where('MockedResponses', name)}: expected an object"
        return
    for key, answer in raw.items():
        at = where("MockedResponses", name, key)
        first, _, last = key.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            yield f"{at}: keys are 'N' or 'A-B' invocation indexes"
            continue
        lo, hi = int(first), int(last or first)
        if hi < lo:
            yield f"{at}: range end is below its start"
            continue
        if not isinstance(answer, dict) or len({"Return", "Throw"} & answer.keys()) != 1:
            yield f"{at}: needs exactly one of Return or Throw"
            continue
        throw = answer.get("Throw")
        if throw is not None:
            problem = _throw_problem(throw)
            if problem is not None:
                yield f"{at}/Throw: {problem}"
                continue
        for index in range(lo, hi + 1):
            yield index, answer


def _throw_problem(throw: Any) -> str | None:
    """What is wrong with a ``Throw`` object, or None.

    ``Error`` and ``Cause`` are both optional: Step Functions Local accepts a Throw without
    either (issue 19: published MockConfigFiles rely on it). Without ``Error`` the task
    fails with no error name, the way SendTaskFailure without ``error`` fails it here
    (:meth:`runtime.callbacks.registry.CallbackRegistry.send_task_failure`): an empty
    error that ``States.ALL`` catches; without ``Cause`` it has no cause. Any other key
    is refused, so a misspelt ``Erorr`` is not silently an empty error.
    """
    if not isinstance(throw, dict):
        return "expected an object with Error and/or Cause"
    unknown = sorted(set(throw) - {"Error", "Cause"})
    if unknown:
        return f"unknown field {unknown[0]!r} (a Throw has only Error and Cause)"
    for key in ("Error", "Cause"):
        if key in throw and not isinstance(throw[key], str):
            return f"{key} must be a string"
    return None


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """The answers of one mocked response, by zero-based invocation index."""

    name: str
    answers: Mapping[int, Mapping[str, Any]]
    #: Where it is in its file (``file:line:column: /MockedResponses/<name>``).
    location: str = ""

    @classmethod
    def parse(cls, name: str, raw: Any) -> MockedResponse:
        """One response; raises MockConfigError listing its problems."""
        response, problems = cls._parse(name, raw, _Where())
        if problems:
            raise MockConfigError(problems)
        return response

    @classmethod
    def _parse(cls, name: str, raw: Any, where: _Where) -> tuple[MockedResponse, list[str]]:
        answers: dict[int, Mapping[str, Any]] = {}
        problems = []
        for item in _answers(name, raw, where):
            if isinstance(item, str):
                problems.append(item)
            else:
                answers[item[0]] = item[1]
        return cls(name, answers, where("MockedResponses", name)), problems

    def answered(self) -> str:
        """The invocations it answers, as keys: ``0-2, 5``."""
        spans: list[list[int]] = []
        for index in sorted(self.answers):
            if spans and spans[-1][1] == index - 1:
                spans[-1][1] = index
            else:
                spans.append([index, index])
        return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans) or "none"


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A parsed MockConfigFile."""

    test_cases: Mapping[str, Mapping[str, Mapping[str, str]]]
    responses: Mapping[str, MockedResponse]
    where: _Where = field(default_factory=_Where, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        """Read a MockConfigFile; problems are reported with their line and column."""
        from asl.source import load_file

        try:
            document = load_file(path, format="json")
        except SourceError as exc:
            raise MockConfigError(str(exc)) from exc
        return cls.parse(document.value, _Where(str(path), document.positions))

    @classmethod
    def parse(cls, raw: Any, where: _Where | None = None) -> MockConfig:
        """Parse a MockConfigFile's JSON value; raises MockConfigError listing every problem."""
        where = where or _Where()
        if not isinstance(raw, dict):
            raise MockConfigError(f"{where()}: a MockConfigFile is a JSON object")
        machines = raw.get("StateMachines")
        responses = raw.get("MockedResponses")
        if not isinstance(machines, dict) or not isinstance(responses, dict):
            raise MockConfigError(
                f"{where()}: StateMachines and MockedResponses objects are required"
            )
        problems: list[str] = []
        parsed = {}
        for name, body in responses.items():
            parsed[name], found = MockedResponse._parse(name, body, where)
            problems += found
        cases: dict[str, dict[str, dict[str, str]]] = {}
        for machine, spec in machines.items():
            test_cases = spec.get("TestCases") if isinstance(spec, dict) else None
            if not isinstance(test_cases, dict):
                problems.append(f"{where('StateMachines', machine)}: TestCases object required")
                continue
            cases[machine] = test_cases
            problems += _unknown_responses(machine, test_cases, parsed, where)
        if problems:
            raise MockConfigError(problems)
        return cls(cases, parsed, where)

    def test_case(self, test_case: str, state_machine: str | None = None) -> MockedTasks:
        """The mocks of one test case; the machine may be omitted when there is one."""
        if state_machine is None:
            if len(self.test_cases) != 1:
                names = ", ".join(sorted(self.test_cases)) or "none"
                raise MockConfigError(f"name the state machine (the file has: {names})")
            state_machine = next(iter(self.test_cases))
        machine = self.test_cases.get(state_machine)
        if machine is None:
            known = ", ".join(sorted(self.test_cases)) or "none"
            raise MockConfigError(
                f"{self.where('StateMachines')}: no state machine {state_machine!r} "
                f"in the mock config ({known})"
            )
        case = machine.get(test_case)
        if case is None:
            known = ", ".join(sorted(machine)) or "none"
            raise MockConfigError(
                f"{self.where('StateMachines', state_machine, 'TestCases')}: no test case "
                f"{test_case!r} for {state_machine} ({known})"
            )
        return MockedTasks(
            {s: self.responses[r] for s, r in case.items()},
            test_case=test_case,
            locations={
                s: self.where("StateMachines", state_machine, "TestCases", test_case, s)
                for s in case
            },
        )


def _unknown_responses(
    machine: str,
    test_cases: Mapping[str, Any],
    responses: Mapping[str, MockedResponse],
    where: _Where,
) -> Iterator[str]:
    for case, states in test_cases.items():
        if not isinstance(states, dict):
            yield f"{where('StateMachines', machine, 'TestCases', case)}: expected an object"
            continue
        for state, response in states.items():
            if not isinstance(response, str) or response not in responses:
                at = where("StateMachines", machine, "TestCases", case, state)
                yield f"{at}: unknown mocked response {response!r}{_hint(response, responses)}"


def _hint(name: Any, known: Mapping[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class MockedTasks:
    """The adapter serving one test case's mocked states; counts invocations per state."""

    by_state: Mapping[str, MockedResponse]
    calls: dict[str, int] = field(default_factory=dict)
    #: The test case's name, for messages.
    test_case: str = ""
    #: Where each state of the test case is in the file, for messages.
    locations: Mapping[str, str] = field(default_factory=dict)

    def states(self) -> list[str]:
        return list(self.by_state)

    def check(self, machine: StateMachine) -> list[str]:
        """What is wrong before a run: each state of the test case that is not a Task
        state of ``machine`` (nested ones included), one located line each."""
        problems = []
        states = machine.all_states
        for name in self.by_state:
            at = self.locations.get(name) or f"test case {self.test_case!r}"
            state = states.get(name)
            if state is None:
                tasks = [n for n, s in states.items() if s.type == "Task"]
                problems.append(f"{at}: no state {name!r} in the definition{_hint(name, tasks)}")
            elif state.type != "Task" and getattr(state, "item_reader", None) is None:
                # A Map state with an ItemReader is mocked too: the mock answers its read.
                problems.append(
                    f"{at}: {name!r} is a {state.type} state; only Task states (and a "
                    "Distributed Map's ItemReader) are mocked"
                )
        return problems

    def replayed(self, call: TaskCall) -> None:
        """A resumed execution reused this invocation's recorded answer: count it."""
        self.calls[call.state_name] = self.calls.get(call.state_name, 0) + 1

    async def invoke(self, call: TaskCall) -> Any:
        response = self.by_state[call.state_name]
        index = self.calls.get(call.state_name, 0)
        self.calls[call.state_name] = index + 1
        answer = response.answers.get(index)
        if answer is None:
            where = f" ({response.location})" if response.location else ""
            raise UnservedTask(
                f"No mocked response for invocation {index} of the state "
                f"'{call.state_name}': its mocked response '{response.name}'{where} answers "
                f"invocations {response.answered()} (retries, loops and Map iterations each "
                f'count); add a key "{index}".'
            )
        if call.resource.kind == "activity":
            call.on_started("mock")  # a worker took the task
        if call.resource.pattern:
            call.on_submitted(None)
        if "Throw" in answer:
            throw = answer["Throw"]  # Error and Cause optional: see _throw_problem
            raise TaskFailure(throw.get("Error", ""), throw.get("Cause"))
        return answer["Return"]
