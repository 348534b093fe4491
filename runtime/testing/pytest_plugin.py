"""pytest support for state machines (installed as the ``asl_runtime`` plugin).

Fixtures:

    def test_order(asl_run):
        result = asl_run("machine.asl.json", {"id": 1}, functions={"Charge": charge})
        assert result.status == "SUCCEEDED"

``asl_run`` runs on a fresh :class:`~runtime.engine.clock.VirtualClock` (``asl_clock``), so
Waits and retry delays take no wall time.

Suites: every ``*.asl-test.yaml`` (``.yml``, ``.json``) file pytest meets is collected, one
pytest item per case (``pytest tests/``), and ``pytest --asl-suite FILE`` (repeatable) runs
the suites named, MockConfigFiles with a sidecar included; alone on the command line it
runs only them. A suite with a mistake fails its collection with every problem, one
located line each; a failing case shows each broken expectation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime.api import Definition, ExecutionResult, run_sync
from runtime.engine.clock import VirtualClock

__all__ = [
    "SUITE_SUFFIXES",
    "AslCaseItem",
    "AslSuiteFile",
    "asl_clock",
    "asl_run",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
]

#: Files collected as suites wherever pytest looks.
SUITE_SUFFIXES = (".asl-test.yaml", ".asl-test.yml", ".asl-test.json")
_EXPLICIT = pytest.StashKey[set[Path]]()


@pytest.fixture
def asl_clock() -> VirtualClock:
    """A virtual clock starting at the current real time."""
    return VirtualClock()


@pytest.fixture
def asl_run(asl_clock: VirtualClock) -> Callable[..., ExecutionResult]:
    """``asl_run(definition, input=None, **options)``: :func:`runtime.run_sync` on ``asl_clock``.

    ``definition`` may be a dict, JSON/YAML text, or a path (``str`` ending in .json/.yaml
    or a :class:`~pathlib.Path`).
    """

    def runner(definition: Definition, input: Any = None, **options: Any) -> ExecutionResult:
        if isinstance(definition, str) and definition.endswith((".json", ".yaml", ".yml")):
            definition = Path(definition)
        options.setdefault("clock", asl_clock)
        return run_sync(definition, input, **options)

    return runner


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("asl_runtime", "state machine test suites (asl-runtime)")
    group.addoption(
        "--asl-suite",
        action="append",
        default=[],
        metavar="FILE",
        help="run this asl test suite (or MockConfigFile with its .expect.yaml), one item "
        "per case (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    named = [Path(name) for name in config.getoption("asl_suite", default=None) or []]
    missing = [str(path) for path in named if not path.is_file()]
    if missing:
        raise pytest.UsageError(f"--asl-suite: no such file: {', '.join(missing)}")
    config.stash[_EXPLICIT] = {path.resolve() for path in named}
    if named:
        paths = [str(path) for path in named]
        # Alone on the command line, the suites are what to run; beside test paths, more.
        given = config.args_source == pytest.Config.ArgsSource.ARGS
        config.args = [*config.args, *paths] if given else paths


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    explicit = parent.config.stash.get(_EXPLICIT, set())
    if file_path.name.endswith(SUITE_SUFFIXES) or file_path.resolve() in explicit:
        return AslSuiteFile.from_parent(parent, path=file_path)
    return None


class AslSuiteFile(pytest.File):
    """A suite file: its cases, prepared (definitions compiled, names checked) at once."""

    def collect(self) -> Any:
        from runtime.testing import SuiteError, load_suite, prepare

        try:
            ready = prepare([load_suite(self.path)])
        except SuiteError as exc:
            raise self.CollectError(str(exc)) from None
        for prepared in ready:
            yield AslCaseItem.from_parent(self, name=prepared.case.name, prepared=prepared)


class AslCaseFailed(Exception):
    """Raised by a case item whose expectations did not hold (or that could not run)."""


class AslCaseItem(pytest.Item):
    """One case of a suite."""

    def __init__(self, *, prepared: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prepared = prepared

    def runtest(self) -> None:
        from runtime.testing import run_prepared

        result = run_prepared(self.prepared)
        if not result.passed:
            raise AslCaseFailed("\n".join(result.failures))

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, AslCaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        case = self.prepared.case
        document = case.where.document
        found = document.position(case.pointer) if document is not None else None
        return self.path, (found[0] - 1 if found else None), f"asl case {case.name}"
