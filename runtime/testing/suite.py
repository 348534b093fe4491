"""Test suites: YAML or JSON files of cases, each a run of a definition with expectations.

A suite file (``orders.asl-test.yaml``)::

    definition: machine.asl.json          # or a template, with resource: and subs:
    mock_config: MockConfigFile.json      # optional
    input_file: input.json                # default input of every case
    cases:
      HappyPath:
        test_case: HappyPath              # a test case of the mock config
        expect: {status: SUCCEEDED, path: [ValidateOrder, PrepareOrder]}
      Declined:
        mocks: {ChargePayment: {Throw: {Error: Declined, Cause: no}}}
        expect: {status: FAILED, error: Declined}

Every key a case may give can also be given at the top as the default of every case.
A MockConfigFile is accepted unchanged too, with its expectations in a sidecar file
beside it: ``MockConfigFile.json`` → ``MockConfigFile.expect.yaml`` (or ``.yml``,
``.json``), a suite whose cases are named after the test cases (see :func:`load_suite`).

Every problem of a suite is a :class:`SuiteError` line naming its place:
``file:line:column: /JSON/Pointer: message``. Paths are relative to the suite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from asl.commandline import did_you_mean
from asl.errors import ASLError, SourceError
from asl.graph.text import visible
from asl.source import Document, escape_pointer, load_file

__all__ = [
    "SIDECAR_SUFFIXES",
    "Case",
    "Suite",
    "SuiteError",
    "Where",
    "is_mock_config",
    "load_suite",
    "sidecar_of",
]

#: The sidecar of ``X.json`` is the first of ``X.expect.yaml``, ``.yml``, ``.json`` found.
SIDECAR_SUFFIXES = (".expect.yaml", ".expect.yml", ".expect.json")

#: Keys a case may give (and the suite, as every case's default), with their JSON types.
CASE_KEYS: dict[str, tuple[type, ...]] = {
    "definition": (str,),
    "resource": (str,),
    "subs": (dict,),
    "mock_config": (str,),
    "state_machine": (str,),
    "test_case": (str,),
    "mocks": (dict,),
    "functions": (dict,),
    "config": (str,),
    "allow_aws": (bool,),
    "input": (object,),
    "input_file": (str,),
    "start_time": (str, int, float),
    "start_at": (str,),
    "stop_after": (str,),
    "variables": (dict,),
    "expect": (dict,),
    "description": (str,),
}
#: Keys only the top of a suite has.
SUITE_KEYS: dict[str, tuple[type, ...]] = {**CASE_KEYS, "cases": (dict,)}
#: Expectation keys and their JSON types (see runtime.testing.expect).
EXPECT_KEYS: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "output": (object,),
    "output_contains": (object,),
    "error": (str,),
    "cause": (str,),
    "path": (list,),
    "visited": (list,),
    "not_visited": (list,),
    "variables": (dict,),
    "retries": (dict,),
    "events": (list,),
    "events_contain": (list,),
}
STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_PATH_KEYS = ("definition", "mock_config", "config", "input_file")
_JSON_NAMES = {str: "a string", dict: "an object", list: "a list", bool: "true or false"}


class SuiteError(ASLError):
    """Raised when a suite is malformed or does not fit its definition; ``problems`` lists
    every problem, one located line each."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Where:
    """Places in one file: ``where("/cases/A")`` is ``file:line:column: /cases/A``."""

    source: str
    document: Document | None = None

    def __call__(self, pointer: str) -> str:
        probe, found = pointer, None
        while self.document is not None and found is None:
            found = self.document.position(probe)
            if not probe:
                break
            probe = probe.rpartition("/")[0]
        place = f"{self.source}:{found[0]}:{found[1]}" if found else self.source
        # A name may hold a line break or a control character: spelled, it stays one line.
        return visible(f"{place}: {pointer or '/'}")


@dataclass(frozen=True, slots=True)
class Case:
    """One case of a suite: what to run and what to expect (paths already absolute)."""

    name: str
    #: The suite file and the case's JSON Pointer in it (``/cases/<name>``).
    where: Where
    pointer: str
    #: The case's settings, defaults merged in (keys of :data:`CASE_KEYS`).
    settings: Mapping[str, Any]
    #: The input (``input``, else ``input_file``'s content, else ``{}``).
    input: Any = None
    #: Start time of the virtual clock (epoch seconds), or None for now.
    start_time: float | None = None
    #: Where each setting was given: the case's pointer or the suite's top.
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def expect(self) -> Mapping[str, Any]:
        value = self.settings.get("expect") or {}
        return value if isinstance(value, Mapping) else {}

    @property
    def id(self) -> str:
        """``file::case``, as the reports and pytest name it."""
        return f"{self.where.source}::{self.name}"

    def at(self, key: str, *tokens: str | int) -> str:
        """The located place of a setting (``expect``, ``path``, ``2``...)."""
        pointer = self.origins.get(key, self.pointer) + "/" + escape_pointer(key)
        pointer += "".join("/" + escape_pointer(str(token)) for token in tokens)
        return self.where(pointer)


@dataclass(frozen=True, slots=True)
class Suite:
    """A suite file and its cases, in file order."""

    path: Path
    cases: tuple[Case, ...]


def is_mock_config(value: Any) -> bool:
    """True for a MockConfigFile's JSON value (StateMachines and MockedResponses)."""
    return isinstance(value, dict) and {"StateMachines", "MockedResponses"} <= value.keys()


def sidecar_of(mock_config: Path) -> Path | None:
    """The expectations file beside a MockConfigFile, or None when there is none."""
    stem = mock_config.name.rsplit(".", 1)[0]
    for suffix in SIDECAR_SUFFIXES:
        candidate = mock_config.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _load(path: Path) -> Document:
    try:
        return load_file(path)
    except SourceError as exc:
        raise SuiteError(str(exc)) from exc


def load_suite(path: str | os.PathLike[str]) -> Suite:
    """Read a suite file, or a MockConfigFile with its sidecar (or the sidecar itself).

    Raises :class:`SuiteError` listing every problem found in the file (unknown keys,
    wrong types, files that do not exist); the names a case gives of states are checked
    against its definition when the case is prepared (:mod:`runtime.testing.runner`).
    """
    given = Path(path)
    sidecar_name = next((s for s in SIDECAR_SUFFIXES if given.name.endswith(s)), None)
    if sidecar_name is not None:
        return _from_sidecar(given, _mock_config_of(given, sidecar_name))
    document = _load(given)
    if is_mock_config(document.value):
        sidecar = sidecar_of(given)
        if sidecar is None:
            names = ", ".join(given.name.rsplit(".", 1)[0] + s for s in SIDECAR_SUFFIXES)
            raise SuiteError(
                f"{given}: a MockConfigFile is run as a suite with its expectations in a "
                f"sidecar file beside it ({names}); none found"
            )
        return _from_sidecar(sidecar, given)
    return _Reader(given, document).suite()


def _mock_config_of(sidecar: Path, suffix: str) -> Path:
    stem = sidecar.name.removesuffix(suffix)
    for ext in (".json", ".yaml", ".yml"):
        candidate = sidecar.with_name(stem + ext)
        if candidate.is_file():
            return candidate
    raise SuiteError(f"{sidecar}: no MockConfigFile {stem}.json beside this sidecar file")


def _from_sidecar(sidecar: Path, mock_config: Path) -> Suite:
    """A sidecar is a suite whose cases are the test cases of its MockConfigFile."""
    from runtime.adapters.mock_config import MockConfig, MockConfigError

    try:
        config = MockConfig.load(mock_config)
    except MockConfigError as exc:
        raise SuiteError(list(exc.problems)) from exc
    reader = _Reader(sidecar, _load(sidecar))
    return reader.suite(sidecar_of=(mock_config, config.test_cases))


class _Reader:
    """Checks one suite document and turns it into cases."""

    def __init__(self, path: Path, document: Document) -> None:
        self.path = path
        self.where = Where(str(path), document)
        self.value = document.value
        self.problems: list[str] = []

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append(visible(f"{self.where(pointer)}: {message}"))

    def suite(self, sidecar_of: tuple[Path, Mapping[str, Any]] | None = None) -> Suite:
        if not isinstance(self.value, dict):
            raise SuiteError(f"{self.where('')}: a suite is an object with 'cases'")
        allowed = dict(SUITE_KEYS)
        if sidecar_of is not None:
            for implied in ("mock_config", "test_case"):
                allowed.pop(implied)
        defaults = self.settings(self.value, "", allowed)
        raw_cases = self.value.get("cases")
        if not isinstance(raw_cases, dict) or not raw_cases:
            self.problem("", "a suite needs 'cases': an object of named cases")
            raise SuiteError(self.problems)
        if sidecar_of is not None:
            defaults["mock_config"] = str(sidecar_of[0])
            self.match_test_cases(sidecar_of[0], sidecar_of[1], defaults, raw_cases)
        cases = [self.case(name, raw, defaults, sidecar_of) for name, raw in raw_cases.items()]
        if self.problems:
            raise SuiteError(self.problems)
        return Suite(self.path, tuple(c for c in cases if c is not None))

    def match_test_cases(
        self,
        mock_config: Path,
        machines: Mapping[str, Any],
        defaults: dict[str, Any],
        raw_cases: Mapping[str, Any],
    ) -> None:
        """Each test case of the machine has expectations, and each case is a test case."""
        machine = defaults.get("state_machine")
        if machine is None and len(machines) == 1:
            machine = next(iter(machines))
        if not isinstance(machine, str) or machine not in machines:
            known = ", ".join(machines) or "none"
            self.problem(
                "/state_machine" if machine else "",
                f"name the state machine of {mock_config.name} with 'state_machine' "
                f"(it has: {known})",
            )
            return
        defaults["state_machine"] = machine
        test_cases = machines[machine]
        for name in test_cases:
            if name not in raw_cases:
                self.problem("/cases", f"test case {name!r} of {mock_config.name} has no case")
        for name in raw_cases:
            if name not in test_cases:
                hint = did_you_mean(name, test_cases)
                more = f" (did you mean {hint!r}?)" if hint else ""
                self.problem(
                    "/cases/" + escape_pointer(name),
                    f"no test case {name!r} for {machine} in {mock_config.name}{more}",
                )

    def settings(
        self, raw: Mapping[str, Any], pointer: str, allowed: Mapping[str, tuple[type, ...]]
    ) -> dict[str, Any]:
        out = {}
        for key, value in raw.items():
            at = f"{pointer}/{escape_pointer(key)}"
            if key == "cases" and "cases" in allowed:
                continue
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                more = f" (did you mean {hint!r}?)" if hint else ""
                self.problem(at, f"unknown key {key!r}{more}")
                continue
            if not self.typed(at, value, allowed[key]):
                continue
            if key in _PATH_KEYS:
                value = self.file(at, value)
            elif key == "expect":
                self.check_expect(at, value)
            elif key in ("functions", "subs"):
                self.check_strings(at, value)
            out[key] = value
        return out

    def typed(self, at: str, value: Any, types: tuple[type, ...]) -> bool:
        if object in types or (isinstance(value, types) and not _is_bool_number(value, types)):
            return True
        wanted = " or ".join(_JSON_NAMES.get(t, "a number") for t in types)
        self.problem(at, f"expected {wanted}")
        return False

    def file(self, at: str, value: str) -> str:
        full = (self.path.parent / value).resolve()
        if not full.exists():
            self.problem(at, f"no file {value} (looked in {self.path.parent or '.'})")
        return str(full)

    def check_strings(self, at: str, value: Mapping[str, Any]) -> None:
        for key, item in value.items():
            if not isinstance(item, str):
                self.problem(f"{at}/{escape_pointer(key)}", "expected a string")

    def check_expect(self, at: str, expect: Mapping[str, Any]) -> None:
        for key, value in expect.items():
            place = f"{at}/{escape_pointer(key)}"
            if key not in EXPECT_KEYS:
                hint = did_you_mean(key, EXPECT_KEYS)
                more = f" (did you mean {hint!r}?)" if hint else ""
                self.problem(place, f"unknown expectation {key!r}{more}")
            elif self.typed(place, value, EXPECT_KEYS[key]):
                for message, where in _expect_value_problems(key, value):
                    self.problem(place + where, message)

    def case(
        self,
        name: str,
        raw: Any,
        defaults: Mapping[str, Any],
        sidecar_of: tuple[Path, Mapping[str, Any]] | None,
    ) -> Case | None:
        pointer = "/cases/" + escape_pointer(name)
        if not isinstance(raw, dict):
            self.problem(pointer, "a case is an object (input, mocks, expect...)")
            return None
        allowed = dict(CASE_KEYS)
        if sidecar_of is not None:
            allowed.pop("mock_config")
            allowed.pop("test_case")
        own = self.settings(raw, pointer, allowed)
        settings = {**defaults, **own}
        if sidecar_of is not None:
            settings["test_case"] = name
        origins = {key: (pointer if key in own else "") for key in settings}
        if "definition" not in settings:
            self.problem(pointer, "no 'definition' for this case (give it here or at the top)")
        if "test_case" in settings and "mock_config" not in settings:
            self.problem(pointer + "/test_case", "a test case needs 'mock_config'")
        if "expect" not in settings:
            self.problem(pointer, "no 'expect' for this case: a case must assert something")
        for conflict in (("input", "input_file"),):
            if all(k in own for k in conflict):
                self.problem(pointer, f"give one of {' or '.join(conflict)}, not both")
        case_input = self.input(settings, origins)
        start = self.start_time(settings, origins)
        return Case(name, self.where, pointer, settings, case_input, start, origins)

    def input(self, settings: Mapping[str, Any], origins: Mapping[str, str]) -> Any:
        if "input" in settings and (
            "input_file" not in settings or origins["input"] >= origins["input_file"]
        ):
            return settings["input"]
        file = settings.get("input_file")
        if file is None or not Path(file).is_file():
            return {}
        try:
            return load_file(file).value if file.endswith((".yaml", ".yml")) else _json(file)
        except (SourceError, ValueError) as exc:
            self.problem(origins["input_file"] + "/input_file", f"cannot read the input: {exc}")
            return {}

    def start_time(self, settings: Mapping[str, Any], origins: Mapping[str, str]) -> float | None:
        value = settings.get("start_time")
        if value is None or isinstance(value, int | float):
            return value
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None:
            message = "expected an ISO 8601 time with a zone, e.g. 2026-01-15T00:00:00Z"
            self.problem(origins["start_time"] + "/start_time", message)
            return None
        return stamp.timestamp()


def _json(file: str) -> Any:
    from runtime.engine.events import loads

    return loads(Path(file).read_text("utf-8"))


def _is_bool_number(value: Any, types: tuple[type, ...]) -> bool:
    """``True`` is an int to Python, but not a number to a suite."""
    return isinstance(value, bool) and bool not in types


def _expect_value_problems(key: str, value: Any) -> Iterator[tuple[str, str]]:
    """Problems inside one expectation's value: (message, pointer below it)."""
    if key == "status" and value not in STATUSES:
        yield f"status is one of {', '.join(STATUSES)}", ""
    if key in ("path", "visited", "not_visited", "events", "events_contain"):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                yield "expected a string", f"/{index}"
    if key == "retries":
        for state, count in value.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                yield "expected a count (0 or more)", f"/{escape_pointer(state)}"
