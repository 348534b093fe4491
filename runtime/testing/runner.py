"""Prepare and run the cases of suites: a definition, its mocks and functions, a virtual clock.

Preparing a case checks everything a run could otherwise get wrong quietly: the definition
validates, the mocks' states are Task states of it, ``functions`` bind Lambda functions it
calls, and every state an expectation names exists (``path`` lists top-level states).
:func:`prepare` raises :class:`~runtime.testing.suite.SuiteError` with every problem of
every case, so nothing runs until the suite is right.

A case never reaches AWS unless it says ``allow_aws: true``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl.errors import ASLError, DefinitionError, SourceError
from asl.graph.text import visible
from asl.model import StateMachine
from asl.source import escape_pointer
from runtime.testing.suite import Case, Suite, SuiteError

__all__ = ["CaseResult", "Prepared", "prepare", "run_case", "run_prepared"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A case ready to run: its compiled machine and how its Tasks are answered."""

    case: Case
    machine: StateMachine
    #: The state machine's name (the MockConfigFile key, the resource or the file stem).
    state_machine_name: str
    #: Makes fresh mocks for one run (they count invocations), or None.
    mocks: Callable[[], Any] | None
    #: Launch options for :func:`runtime.durable.launch.services_from`.
    options: Mapping[str, Any]
    #: The definition's file (``file#resource`` for a template): coverage is per label.
    label: str = ""
    #: What reading a template had to invent (placeholder ARNs...), one line each.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case."""

    case: Case
    #: ``passed``, ``failed`` (an expectation did not hold) or ``error`` (it could not run).
    outcome: str
    #: One located line per expectation that did not hold (or the error).
    failures: tuple[str, ...] = ()
    #: Wall seconds the run took.
    seconds: float = 0.0
    #: The execution (None when it could not run).
    result: Any = field(default=None, repr=False)
    machine: StateMachine | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


class _Definitions:
    """Definitions read once per (file, resource, substitutions) across the cases."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], Any] = {}

    def get(self, case: Case) -> tuple[StateMachine, str, tuple[str, ...]]:
        settings = case.settings
        file, resource = settings["definition"], settings.get("resource")
        subs = tuple(sorted((settings.get("subs") or {}).items()))
        key = (file, resource, subs)
        if key not in self.cache:
            self.cache[key] = self.read(case, file, resource, dict(subs))
        found = self.cache[key]
        if isinstance(found, list):
            raise SuiteError(found)
        machine, name, notes = found
        return machine, name, notes

    @staticmethod
    def label(case: Case) -> str:
        file, resource = case.settings["definition"], case.settings.get("resource")
        shown = os.path.relpath(file)
        return f"{shown}#{resource}" if resource else shown

    @staticmethod
    def read(case: Case, file: str, resource: str | None, subs: dict[str, str]) -> Any:
        from asl.templates import read_definition
        from runtime.api import load_machine

        try:
            read = read_definition(file, resource=resource, subs=subs)
            machine = load_machine(read.document.value)
        except DefinitionError as exc:
            return [f"{file}: {d.location}: {d.message} [{d.code}]" for d in exc.diagnostics]
        except (SourceError, ASLError) as exc:
            return [f"{case.at('definition')}: {exc}"]
        name = read.resource or Path(file).name.split(".")[0]
        return machine, name, tuple(read.messages())


def prepare(suites: Iterable[Suite]) -> list[Prepared]:
    """Every case of ``suites`` made ready, or SuiteError listing every problem."""
    definitions = _Definitions()
    ready, problems = [], []
    for suite in suites:
        for case in suite.cases:
            try:
                ready.append(_prepare(case, definitions))
            except SuiteError as exc:
                # One line each, whatever a name or a value holds.
                problems += [visible(p) for p in exc.problems if visible(p) not in problems]
    if problems:
        raise SuiteError(problems)
    return ready


def _prepare(case: Case, definitions: _Definitions) -> Prepared:
    machine, resource_name, notes = definitions.get(case)
    settings = case.settings
    name = settings.get("state_machine") or resource_name
    mocks = _mocks(case, machine, name)
    options = _options(case, mocks is not None)
    problems = _binding_problems(case, options, machine)
    problems += _name_problems(case, machine)
    if problems:
        raise SuiteError(problems)
    return Prepared(case, machine, name, mocks, options, definitions.label(case), notes)


def _options(case: Case, mocked: bool) -> dict[str, Any]:
    settings = case.settings
    allow = bool(settings.get("allow_aws"))
    return {
        "lambdas": [_spec(case, k, v) for k, v in (settings.get("functions") or {}).items()],
        "config": settings.get("config"),
        "offline": not allow,
        "mock_config": settings.get("mock_config") if mocked else None,
        "allow_aws": allow,
    }


def _spec(case: Case, name: str, target: str) -> str:
    """``NAME=TARGET`` with a ``file.py:handler`` target made relative to the suite file."""
    path, colon, handler = target.partition(":")
    if colon and path.endswith(".py"):
        target = f"{(Path(case.where.source).parent / path).resolve()}:{handler}"
    return f"{name}={target}"


def _binding_problems(case: Case, options: Mapping[str, Any], machine: StateMachine) -> list[str]:
    from runtime.durable.launch import binding_problems

    found = binding_problems({"lambdas": options["lambdas"]}, machine)
    # "--lambda NAME=TARGET: ..." read as the suite's own key.
    return [f"{case.at('functions')}: {line.removeprefix('--lambda ')}" for line in found]


def _mocks(case: Case, machine: StateMachine, name: str) -> Callable[[], Any] | None:
    """A factory of the case's mocks: its test case, with inline ``mocks`` over it."""
    from runtime.adapters.mock_config import MockConfig, MockConfigError, MockedTasks

    settings = case.settings
    config_path, test_case = settings.get("mock_config"), settings.get("test_case")
    config = None
    if config_path is not None:
        try:
            config = MockConfig.load(str(config_path))
        except MockConfigError as exc:
            raise SuiteError([f"{case.at('mock_config')}: {p}" for p in exc.problems]) from exc
    inline = _inline_mocks(case, settings.get("mocks") or {}, config)
    if test_case is None and not inline:
        return None
    base: MockedTasks | None = None
    if config is not None and test_case is not None:
        try:
            wanted = settings.get("state_machine") or name
            if wanted not in config.test_cases and len(config.test_cases) == 1:
                wanted = next(iter(config.test_cases))
            base = config.test_case(test_case, wanted)
        except MockConfigError as exc:
            raise SuiteError([f"{case.at('test_case')}: {p}" for p in exc.problems]) from exc
    by_state = {**(base.by_state if base else {}), **{k: v for k, (v, _) in inline.items()}}
    locations = {**(base.locations if base else {}), **{k: w for k, (_, w) in inline.items()}}
    label = test_case or case.name

    def fresh() -> MockedTasks:
        return MockedTasks(by_state, test_case=label, locations=locations)

    problems = fresh().check(machine)
    if problems:
        raise SuiteError(problems)
    return fresh


def _inline_mocks(case: Case, raw: Mapping[str, Any], config: Any) -> dict[str, tuple[Any, str]]:
    """``mocks: {State: response}`` as (MockedResponse, location) by state.

    A response is a MockConfigFile response (``{"0": {"Return": ...}, "1-2": ...}``), one
    answer (``{"Return": ...}`` or ``{"Throw": ...}``) for the first invocation, or the name
    of a response in the case's ``mock_config``.
    """
    from asl.commandline import did_you_mean
    from runtime.adapters.mock_config import MockConfigError, MockedResponse

    out, problems = {}, []
    for state, body in raw.items():
        where = case.at("mocks", state)
        if isinstance(body, str):
            known = config.responses if config is not None else {}
            if body in known:
                out[state] = (known[body], where)
                continue
            hint = did_you_mean(body, known)
            why = f" (did you mean {hint!r}?)" if hint else ""
            if config is None:
                why = ": a response named by its name needs 'mock_config'"
            problems.append(f"{where}: no mocked response {body!r}{why}")
            continue
        if isinstance(body, dict) and body.keys() & {"Return", "Throw"}:
            body = {"0": body}
        try:
            response = MockedResponse.parse(state, body)
        except MockConfigError as exc:
            prefix = "/MockedResponses/" + escape_pointer(state)
            for line in exc.problems:
                rest = line.removeprefix(prefix)
                problems.append(f"{where}{rest}" if rest.startswith(("/", ":")) else line)
            continue
        out[state] = (MockedResponse(response.name, response.answers, where), where)
    if problems:
        raise SuiteError(problems)
    return out


def _name_problems(case: Case, machine: StateMachine) -> list[str]:
    """States named by the expectations (and the partial-run bounds) that do not exist."""
    from asl.commandline import did_you_mean

    expect, problems = case.expect, []
    top, every = machine.states, machine.all_states
    checks: list[tuple[str, Sequence[str], Mapping[str, Any]]] = [
        ("path", expect.get("path") or (), top),
        ("visited", expect.get("visited") or (), every),
        ("not_visited", expect.get("not_visited") or (), every),
        ("retries", list(expect.get("retries") or {}), every),
    ]
    for key, names, known in checks:
        for index, name in enumerate(names):
            if not isinstance(name, str) or name in known:
                continue
            token = name if key == "retries" else index
            hint = did_you_mean(name, known)
            if name in every:
                why = "is inside a Parallel or Map; 'path' lists the top-level states"
            else:
                why = "names no state of the definition" + (
                    f" (did you mean {hint!r}?)" if hint else ""
                )
            problems.append(f"{case.at('expect', key, token)}: {name!r} {why}")
    for key in ("start_at", "stop_after"):
        bound = case.settings.get(key)
        if bound is not None and bound not in top:
            problems.append(f"{case.at(key)}: {bound!r} is not a top-level state")
    return problems


def run_prepared(ready: Prepared, *, allow_aws: bool = False) -> CaseResult:
    """Run one prepared case and check its expectations.

    ``allow_aws`` lets every case's Tasks call AWS, as the case's own ``allow_aws: true``
    does (``asl test --allow-aws``); otherwise a case never reaches AWS.
    """
    from runtime.api import run_sync
    from runtime.durable.launch import services_from
    from runtime.engine.clock import RealClock, VirtualClock
    from runtime.testing.expect import check

    case, settings = ready.case, ready.case.settings
    allowed = allow_aws or bool(settings.get("allow_aws"))
    options = {**ready.options, "offline": not allowed, "allow_aws": allowed}
    wall = RealClock()  # how long the case took, for the reports
    started = wall.now()
    try:
        result = run_sync(
            ready.machine,
            case.input,
            clock=VirtualClock(case.start_time),
            mocks=ready.mocks() if ready.mocks else None,
            services=services_from(options),
            state_machine_name=ready.state_machine_name,
            allow_aws=allowed,
            start_at=settings.get("start_at"),
            stop_after=settings.get("stop_after"),
            variables=settings.get("variables"),
        )
    except (ASLError, ValueError, OSError) as exc:
        seconds = wall.now() - started
        message = f"{case.where(case.pointer)}: the case could not run: {exc}"
        return CaseResult(case, "error", (message,), seconds, machine=ready.machine)
    seconds = wall.now() - started
    failures = tuple(check(case, result))
    outcome = "failed" if failures else "passed"
    return CaseResult(case, outcome, failures, seconds, result, ready.machine)


def run_case(case: Case) -> CaseResult:
    """Prepare and run one case (SuiteError when it is not right)."""
    return run_prepared(prepare([Suite(Path(case.where.source), (case,))])[0])
