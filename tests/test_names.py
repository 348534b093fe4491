"""Execution, state machine and activity names follow AWS's rule wherever they enter."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import run_sync
from runtime.adapters import Services, build_registry
from runtime.callbacks.registry import CallbackRegistry, InvalidName, name_problem, valid_name
from runtime.cli import main
from runtime.server.endpoint import LocalEndpoint

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}

# botocore's Name documentation (StartExecution "name"), written out independently of
# the implementation's pattern.
_SPECIALS = set(' <>{}[]?*"#%\\^|~`$&,;:/')


def _aws_refuses(char: str) -> bool:
    code = ord(char)
    return (
        char in _SPECIALS
        or char.isspace()
        or code <= 0x1F
        or 0x7F <= code <= 0x9F
        or code in (0xFFFE, 0xFFFF)
        or 0xD800 <= code <= 0xDFFF
    )


@given(st.text(min_size=0, max_size=90))
def test_the_rule_is_awss_documented_one(name: str) -> None:
    refused = not name or len(name) > 80 or any(_aws_refuses(c) for c in name)
    assert (name_problem(name) is not None) == refused


@given(st.characters(codec="utf-8") | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
def test_each_character_alone(char: str) -> None:
    assert (name_problem(char) is None) == (not _aws_refuses(char)), unicodedata.name(char, "?")


def test_lengths() -> None:
    assert valid_name("x" * 80) == "x" * 80
    with pytest.raises(InvalidName, match="Invalid Name: ''"):
        valid_name("")
    with pytest.raises(InvalidName):
        valid_name("x" * 81)


@pytest.mark.parametrize("name", ["a b", "a/b", "x" * 81, "tab\tname", "a\ufffe"])
def test_the_library_refuses_a_bad_execution_name_before_running(name: str) -> None:
    with pytest.raises(InvalidName):
        run_sync(PASS, name=name)
    with pytest.raises(InvalidName):
        run_sync(PASS, state_machine_name=name)


def test_the_library_accepts_names_aws_accepts() -> None:
    result = run_sync(PASS, name="run-2026.01_15(é)", state_machine_name="Orders+v2")
    assert result.arn.endswith(":execution:Orders+v2:run-2026.01_15(é)")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--name", "two words"], "--name 'two words'"),
        (["--name", "x" * 81], "--name"),
        (["--state-machine", "a:b"], "--state-machine 'a:b'"),
    ],
)
@pytest.mark.parametrize("command", ["exec", "start"])
def test_the_cli_names_the_flag_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    argv: list[str],
    flag: str,
) -> None:
    definition = tmp_path / "m.asl.json"
    definition.write_text(json.dumps(PASS))
    store = ["--store", str(tmp_path / "s.db")]
    assert main([command, str(definition), *argv, *store]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err
    assert "not allowed" in err or "at most 80" in err
    assert not (tmp_path / "s.db").exists()  # nothing stored, nothing run


def test_a_file_name_that_is_no_state_machine_name_says_how_to_set_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "my machine.asl.json"
    definition.write_text(json.dumps(PASS))
    assert main(["exec", str(definition), "--no-store", "--quiet"]) == 2
    assert "--state-machine" in capsys.readouterr().err
    assert main(["exec", str(definition), "--no-store", "--quiet", "--state-machine", "M"]) == 0


def test_a_nested_execution_name_is_checked_as_startexecution_does() -> None:
    services = Services.create(machines={"Child": PASS})
    parent = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
                    "Name": "not ok",
                },
                "End": True,
            }
        },
    }
    result = run_sync(parent, adapters=build_registry(services))
    assert result.error == "StepFunctions.InvalidNameException"
    assert result.cause is not None and result.cause.startswith("Invalid Name: 'not ok'")


def test_the_endpoint_refuses_an_activity_name_with_a_noncharacter() -> None:
    with LocalEndpoint(CallbackRegistry()) as endpoint:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        with pytest.raises(client.exceptions.InvalidName):
            client.create_activity(name="worker\ufffe")
        assert client.create_activity(name="worker-1")["activityArn"].endswith(":worker-1")
