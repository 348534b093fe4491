"""Task routing from launch options: what ``asl exec`` was told, rebuilt anywhere.

``asl exec``, ``asl resume`` and ``asl serve`` all turn the same options (mock config
and test case, local Lambda handlers, nested state machines, AWS region and endpoints,
offline) into the :class:`~runtime.adapters.Services` and mocks of a run. The store keeps
them with each execution (``ExecutionInfo.options``) so a resumed execution routes its
tasks exactly as the first run did.

A mock config makes the run strict: ``--test-case`` is required with it and refused
without it, no AWS service is called unless ``allow_aws``, and :func:`binding_problems`
finds ``--lambda``/``--machine`` bindings that no Task state of the run could use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asl.errors import ASLError

__all__ = [
    "LaunchError",
    "activities_from",
    "activity_problems",
    "binding_problems",
    "mocks_from",
    "services_from",
]


class LaunchError(ASLError):
    """Raised when launch options are inconsistent (e.g. a mock config without a case)."""


def _pairs(specs: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise LaunchError(f"{flag} takes NAME=VALUE, got {spec!r}")
        pairs[name] = value
    return pairs


def parse_endpoints(specs: list[str]) -> dict[str, str]:
    """``--endpoint-url`` values (``SERVICE=URL`` or ``URL`` for every service) by service."""
    endpoints = {}
    for spec in specs:
        service, sep, url = spec.partition("=")
        if sep and "://" not in service:
            endpoints[service] = url
        else:
            endpoints["*"] = spec
    return endpoints


def mocks_from(options: Mapping[str, Any], state_machine_name: str) -> Any:
    """The MockConfigFile test case the options name, or None."""
    if not options.get("mock_config"):
        if options.get("test_case"):
            raise LaunchError(
                f"--test-case {options['test_case']}: a test case needs --mock-config"
            )
        return None
    if not options.get("test_case"):
        raise LaunchError("--mock-config needs --test-case")
    from runtime.adapters.mock_config import MockConfig

    config = MockConfig.load(options["mock_config"])
    chosen = options.get("state_machine")
    wanted = chosen or state_machine_name
    if wanted not in config.test_cases and not chosen and len(config.test_cases) == 1:
        wanted = next(iter(config.test_cases))
    return config.test_case(options["test_case"], wanted)


def services_from(
    options: Mapping[str, Any], *, callbacks: Any = None, activities: Any = None
) -> Any:
    """Services (AWS clients, local handlers, nested machines) for the options.

    ``callbacks`` and ``activities`` share one callback registry and activity queues
    between runs (``asl serve`` and its endpoint); fresh ones otherwise.
    """
    from runtime.adapters import Services

    endpoints = parse_endpoints(options.get("endpoints") or [])
    functions = None
    lambdas = list(options.get("lambdas") or [])
    if lambdas or options.get("config"):
        from runtime.adapters.local_lambda import LocalFunctions

        functions = LocalFunctions.from_options(options.get("config"), lambdas)
        functions.load_all()
    machines = {
        name: Path(path)
        for name, path in _pairs(list(options.get("machines") or []), "--machine").items()
    }
    buckets = {
        name: Path(path)
        for name, path in _pairs(list(options.get("buckets") or []), "--bucket").items()
    }
    region = options.get("region")
    # A mocked run calls no AWS service unless told to (runtime.api refuses it too).
    aws = not options.get("offline") and (
        not options.get("mock_config") or bool(options.get("allow_aws"))
    )
    settings = None
    if aws:  # the AWS adapters' module is imported only for a run that may call AWS
        from runtime.adapters.aws import AwsSettings

        settings = AwsSettings(region=region, endpoints=endpoints)
    services = Services.create(
        aws=aws,
        settings=settings,
        functions=functions,
        machines=machines,
        buckets=buckets,
        region=region or "us-east-1",
        callbacks=callbacks,
    )
    if activities is not None:
        services.activities = activities
    if options.get("connections"):
        from runtime.adapters.http import load_connections

        services.connections = load_connections(options["connections"])
    return services


def activities_from(options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``--activity NAME=COMMAND`` bindings as ``run(activities=...)`` takes them:
    each activity is worked by running its command (see ``command_work``); None if none."""
    import shlex

    from runtime.callbacks.worker import command_work

    specs = _pairs(list(options.get("activity_commands") or []), "--activity")
    return {name: command_work(shlex.split(command)) for name, command in specs.items()} or None


def activity_problems(options: Mapping[str, Any], machine: Any) -> list[str]:
    """The ``--activity`` bindings that are malformed or that no Task state uses."""
    import shlex

    from runtime.api import _activities_of

    used = _activities_of(machine.definition)
    problems = []
    for spec in options.get("activity_commands") or []:
        name, sep, command = spec.partition("=")
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            problems.append(f"--activity {spec}: {exc}")
            continue
        if not sep or not name or not argv:
            problems.append(f"--activity takes NAME=COMMAND, got {spec!r}")
        elif name not in used:
            known = ", ".join(sorted(used)) or "none"
            problems.append(
                f"--activity {spec}: no Task state uses the activity {name!r} "
                f"(activities used: {known})"
            )
    return problems


def binding_problems(options: Mapping[str, Any], machine: Any) -> list[str]:
    """The ``--lambda NAME=...`` and ``--machine NAME=...`` bindings no Task state uses.

    The Tasks of ``machine`` and of the ``--machine`` children are looked at (nested
    states included); a kind whose names are computed at run time (``FunctionName.$``, a
    JSONata expression) is not checked, since any binding may serve it.
    """
    from runtime.api import load_machine

    machines = _pairs(list(options.get("machines") or []), "--machine")
    definitions = [machine.definition]
    for path in machines.values():
        try:
            definitions.append(load_machine(Path(path)).definition)
        except ASLError:
            continue  # reported when a Task starts it
    calls = _Calls()
    for definition in definitions:
        calls.scan(definition)
    problems = []
    for spec in options.get("lambdas") or []:
        name = spec.partition("=")[0].strip()
        if not calls.dynamic_functions and _function(name) not in calls.functions:
            known = ", ".join(sorted(calls.functions)) or "none"
            problems.append(
                f"--lambda {spec}: no Task state calls the function {name!r} "
                f"(functions called: {known})"
            )
    for name, path in machines.items():
        if not calls.dynamic_machines and not calls.starts(name):
            known = ", ".join(sorted(calls.machines)) or "none"
            problems.append(
                f"--machine {name}={path}: no Task state starts the state machine {name!r} "
                f"(state machines started: {known})"
            )
    return problems


def _function(name: str) -> str:
    from runtime.adapters.lambda_ import parse_function_name

    ref = parse_function_name(name)
    return ref.name if ref is not None else name


class _Calls:
    """The Lambda functions and state machines a definition's Task states name."""

    def __init__(self) -> None:
        self.functions: set[str] = set()
        self.machines: set[str] = set()
        self.dynamic_functions = False
        self.dynamic_machines = False

    def starts(self, name: str) -> bool:
        return any(name in (arn, arn.rsplit(":", 1)[-1]) for arn in self.machines)

    def scan(self, scope: Any) -> None:
        states = scope.get("States") if isinstance(scope, Mapping) else None
        for state in (states or {}).values():
            if not isinstance(state, Mapping):
                continue
            for branch in state.get("Branches") or ():
                self.scan(branch)
            for key in ("Iterator", "ItemProcessor"):
                self.scan(state.get(key))
            if state.get("Type") == "Task":
                self._task(state)

    def _task(self, state: Mapping[str, Any]) -> None:
        resource = str(state.get("Resource", ""))
        args = state.get("Parameters") or state.get("Arguments") or {}
        args = args if isinstance(args, Mapping) else {}
        if ":lambda:" in resource and ":function:" in resource:
            self.functions.add(_function(resource))
        elif ":states:::lambda:invoke" in resource:
            self.dynamic_functions |= self._add(args, "FunctionName", self.functions, _function)
        elif ":states:::states:startExecution" in resource:
            self.dynamic_machines |= self._add(args, "StateMachineArn", self.machines, str)

    @staticmethod
    def _add(args: Mapping[str, Any], field: str, into: set[str], norm: Any) -> bool:
        """Add the field's literal value; True when it is computed at run time."""
        value = args.get(field)
        if isinstance(value, str) and not value.startswith("{%"):
            into.add(norm(value))
            return False
        return True
