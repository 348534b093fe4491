"""The pytest plugin: each case of a suite is a pytest item, collected from
``*.asl-test.yaml`` files or named with ``--asl-suite``.

The runs are in subprocesses: an in-process run re-imports the project's modules beside the
ones already loaded, and the two copies disagree about their cached YAML loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MACHINE = {
    "StartAt": "Greet",
    "States": {
        "Greet": {
            "Type": "Pass",
            "Parameters": {"greeting.$": "States.Format('Hello, {}', $.name)"},
            "End": True,
        }
    },
}
SUITE = """\
definition: greet.asl.json
cases:
  Ada:
    input: {name: Ada}
    expect: {output: {greeting: "Hello, Ada"}}
  Wrong:
    input: {name: Bob}
    expect: {output: {greeting: "Hello, Ada"}}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".asl.json", greet=json.dumps(MACHINE))
    pytester.makefile(".asl-test.yaml", greet=SUITE)
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    return pytester


def test_suite_files_are_collected_one_item_per_case(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*asl case Wrong*",
            "*greet.asl-test.yaml:8:*/cases/Wrong/expect/output: expected*Hello, Ada*Hello, Bob*",
        ]
    )


def test_asl_suite_alone_runs_only_the_suites(project: pytest.Pytester) -> None:
    (project.path / "renamed.yaml").write_text(SUITE)
    result = project.runpytest_subprocess("--asl-suite", "renamed.yaml", "-k", "Ada")
    result.assert_outcomes(passed=1, deselected=1)


def test_asl_suite_takes_a_mock_config_with_its_sidecar(pytester: pytest.Pytester) -> None:
    config = SAMPLES / "order_pipeline" / "MockConfigFile.json"
    result = pytester.runpytest_subprocess("--asl-suite", str(config))
    result.assert_outcomes(passed=2)


def test_a_missing_suite_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--asl-suite", "nowhere.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--asl-suite: no such file: nowhere.yaml*"])


def test_a_suite_mistake_fails_collection_with_located_lines(project: pytest.Pytester) -> None:
    (project.path / "greet.asl-test.yaml").write_text(
        SUITE.replace("expect: {output", "expcet: {output")
    )
    result = project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*greet.asl-test.yaml:5:5: /cases/Ada/expcet: unknown key 'expcet' (did you mean*"]
    )
    assert "Traceback" not in result.stdout.str()
