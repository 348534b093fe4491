"""Task routing from launch options: what ``asl exec`` was told, rebuilt anywhere.

``asl exec``, ``asl resume`` and ``asl serve`` all turn the same options (mock config
and test case, local Lambda handlers, nested state machines, AWS region and endpoints,
offline) into the :class:`~runtime.adapters.Services` and mocks of a run. The store keeps
them with each execution (``ExecutionInfo.options``) so a resumed execution routes its
tasks exactly as the first run did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asl.errors import ASLError

__all__ = ["LaunchError", "mocks_from", "services_from"]


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


def mocks_from(options: Mapping[str, Any], state_machine_name: str) -> Any:
    """The MockConfigFile test case the options name, or None."""
    if not options.get("mock_config"):
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
    from runtime.adapters.aws import AwsSettings

    endpoints = {}
    for spec in options.get("endpoints") or []:
        service, sep, url = spec.partition("=")
        if sep and "://" not in service:
            endpoints[service] = url
        else:
            endpoints["*"] = spec
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
    services = Services.create(
        aws=not options.get("offline"),
        settings=AwsSettings(region=region, endpoints=endpoints),
        functions=functions,
        machines=machines,
        buckets=buckets,
        region=region or "us-east-1",
        callbacks=callbacks,
    )
    if activities is not None:
        services.activities = activities
    return services
