"""Mocks that cannot lie: every gap in a mocked run is an error at the state concerned.

Each case once looked green, or blamed another state: a Task with no mock was "caught" by
``States.ALL`` and the run failed at the Catch's target; a misspelt state name in a test
case was ignored; bindings and flags that matched nothing were dropped silently.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from runtime import MockConfig, MockConfigError, load_machine, run_sync
from runtime.adapters.base import AdapterRegistry, FunctionAdapter
from runtime.cli import main
from runtime.trace import LiveTrace

CHARGE = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NotifyFailure"}],
    "Next": "Done",
}
NOTIFY = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sns:publish",
    "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Message": "x"},
    "Next": "Failed",
}
MACHINE = {
    "StartAt": "Charge",
    "States": {
        "Charge": CHARGE,
        "NotifyFailure": NOTIFY,
        "Failed": {"Type": "Fail", "Error": "ChargeFailed"},
        "Done": {"Type": "Succeed"},
    },
}
PAID = {"Return": {"Payload": {"paid": True}}}
THROTTLED = {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}}
NOTIFIED = {"Return": {"MessageId": "m-1"}}


def mock_config(case: dict[str, str], **responses: Any) -> dict[str, Any]:
    return {
        "StateMachines": {"Orders": {"TestCases": {"Case": case}}},
        "MockedResponses": responses,
    }


def mocks(case: dict[str, str], **responses: Any) -> Any:
    return MockConfig.parse(mock_config(case, **responses)).test_case("Case", "Orders")


def states_of(result: Any, event_type: str) -> list[str]:
    return [
        e.details["name"] for e in result.history if e.type == event_type and e.details is not None
    ]


# -- the library ----------------------------------------------------------------------------


def test_an_unmocked_task_under_a_catch_all_fails_at_that_state() -> None:
    result = run_sync(MACHINE, mocks=mocks({"NotifyFailure": "Notified"}, Notified={"0": NOTIFIED}))
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    assert result.cause.startswith("An error occurred while executing the state 'Charge'")
    assert "no mock in the test case 'Case'" in result.cause
    # The Catch did not take it: NotifyFailure never ran and Charge never exited.
    assert states_of(result, "TaskStateEntered") == ["Charge"]
    assert states_of(result, "TaskStateExited") == []
    assert result.event_types[-3:] == ["TaskScheduled", "TaskStartFailed", "ExecutionFailed"]


def test_too_few_responses_for_the_retries_fail_at_that_state() -> None:
    result = run_sync(
        MACHINE,
        mocks=mocks(
            {"Charge": "Throttled", "NotifyFailure": "Notified"},
            Throttled={"0": THROTTLED},
            Notified={"0": NOTIFIED},
        ),
    )
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    assert "the state 'Charge'" in result.cause
    assert "No mocked response for invocation 1" in result.cause
    assert "'Throttled'" in result.cause and 'add a key "1"' in result.cause
    assert states_of(result, "TaskStateEntered") == ["Charge"]
    assert result.event_types.count("TaskFailed") == 2  # the throttle, then the missing answer


def test_a_misspelt_state_is_refused_before_the_run() -> None:
    with pytest.raises(MockConfigError) as info:
        run_sync(MACHINE, mocks=mocks({"Chrage": "Paid"}, Paid={"0": PAID}))
    (problem,) = info.value.problems
    assert problem == (
        "/StateMachines/Orders/TestCases/Case/Chrage: no state 'Chrage' in the definition "
        "(did you mean 'Charge'?)"
    )


def test_a_state_that_is_not_a_task_is_refused() -> None:
    with pytest.raises(MockConfigError, match="'Done' is a Succeed state"):
        run_sync(MACHINE, mocks=mocks({"Done": "Paid"}, Paid={"0": PAID}))


def test_nested_states_are_known_and_checked() -> None:
    machine = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Charge", "States": {"Charge": {**CHARGE}}},
                "End": True,
            }
        },
    }
    inner = machine["States"]["Fan"]["ItemProcessor"]["States"]["Charge"]  # type: ignore[index]
    del inner["Catch"], inner["Next"]
    inner["End"] = True
    ok = run_sync(machine, [1, 2], mocks=mocks({"Charge": "Paid"}, Paid={"0-1": PAID}))
    assert ok.status == "SUCCEEDED"
    with pytest.raises(MockConfigError, match="'Chargee'"):
        run_sync(machine, [1], mocks=mocks({"Chargee": "Paid"}, Paid={"0": PAID}))


def test_an_unserved_task_in_a_branch_is_not_caught_by_the_parallel() -> None:
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Notify", "States": {"Notify": {**NOTIFY, "End": True}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    del machine["States"]["Both"]["Branches"][0]["States"]["Notify"]["Next"]  # type: ignore[index]
    result = run_sync(machine, mocks=mocks({}))
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "'Notify'" in (result.cause or "")
    assert "Caught" not in states_of(result, "SucceedStateEntered")


def test_every_unknown_response_name_is_reported_at_once() -> None:
    raw = mock_config({"Charge": "Payd", "NotifyFailure": "Nope"}, Paid={"0": PAID})
    with pytest.raises(MockConfigError) as info:
        MockConfig.parse(raw)
    assert info.value.problems == (
        "/StateMachines/Orders/TestCases/Case/Charge: unknown mocked response 'Payd' "
        "(did you mean 'Paid'?)",
        "/StateMachines/Orders/TestCases/Case/NotifyFailure: unknown mocked response 'Nope'",
    )


def aws_registry(calls: list[str]) -> AdapterRegistry:
    """A registry whose SNS route is labelled AWS (a stand-in: nothing leaves the process)."""
    registry = AdapterRegistry()
    with registry.labelled("AWS"):
        registry.register(r"sns:publish$", FunctionAdapter(lambda p: calls.append("sns") or {}))
    return registry


def test_a_mocked_run_refuses_aws_unless_allowed() -> None:
    calls: list[str] = []
    case = mocks({"Charge": "Throttled"}, Throttled={"0-2": THROTTLED})
    refused = run_sync(MACHINE, mocks=case, adapters=aws_registry(calls))
    assert (refused.status, refused.error) == ("FAILED", "States.Runtime")
    assert "The state 'NotifyFailure' would call AWS" in (refused.cause or "")
    assert calls == []
    case = mocks({"Charge": "Throttled"}, Throttled={"0-2": THROTTLED})
    allowed = run_sync(MACHINE, mocks=case, adapters=aws_registry(calls), allow_aws=True)
    assert (allowed.status, allowed.error) == ("FAILED", "ChargeFailed")
    assert calls == ["sns"]


def test_the_trace_says_where_each_answer_came_from() -> None:
    machine = load_machine(MACHINE)
    case = mocks({"NotifyFailure": "Notified"}, Notified={"0": NOTIFIED})
    buf = io.StringIO()
    trace = LiveTrace(machine, virtual=True, console=Console(file=buf, width=120))
    result = run_sync(
        machine,
        mocks=case,
        functions={"charge": _no_money},
        observers=[trace.observe],
    )
    trace.close()
    out = buf.getvalue()
    assert result.error == "ChargeFailed"
    assert "✗ Charge  failed (attempt 1)  [local function]  RuntimeError: " in out
    assert "✓ NotifyFailure  Task  0ms  [mock]" in out


def _no_money(event: Any) -> Any:
    raise RuntimeError("no money")


# -- asl exec --------------------------------------------------------------------------------


def exec_files(tmp_path: Path, config: dict[str, Any] | None = None) -> list[str]:
    machine = tmp_path / "orders.asl.json"
    machine.write_text(json.dumps(MACHINE))
    argv = ["exec", str(machine), "--clock", "virtual", "--no-store", "--quiet"]
    if config is not None:
        path = tmp_path / "MockConfigFile.json"
        path.write_text(json.dumps(config, indent=2))
        argv += ["--mock-config", str(path), "--test-case", "Case"]
    return argv


def red_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]


def test_exec_names_the_unmocked_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = mock_config({"NotifyFailure": "Notified"}, Notified={"0": NOTIFIED})
    assert main(exec_files(tmp_path, config)) == 1
    (line,) = red_lines(capsys)
    assert "executing the state 'Charge'" in line
    assert "no mock in the test case 'Case'" in line


def test_exec_reports_each_problem_on_its_own_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = mock_config({"Chrage": "Paid", "Done": "Paid"}, Paid={"0": PAID})
    argv = [*exec_files(tmp_path, config), "--lambda", "charj=handlers.py:charge"]
    argv += ["--machine", f"Child={tmp_path / 'orders.asl.json'}"]
    assert main(argv) == 2
    lines = red_lines(capsys)
    where = f"{tmp_path / 'MockConfigFile.json'}"
    assert lines[0].startswith(f"error: {where}:6:11: /StateMachines/Orders/TestCases/Case/Chrage:")
    assert "did you mean 'Charge'?" in lines[0]
    assert "'Done' is a Succeed state" in lines[1]
    assert lines[2].startswith("error: --lambda charj=handlers.py:charge: no Task state calls")
    assert "(functions called: charge)" in lines[2]
    assert lines[3].startswith("error: --machine Child=")
    assert len(lines) == 4


def test_exec_reports_unknown_responses_with_their_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = mock_config({"Charge": "Payd"}, Paid={"0": PAID})
    assert main(exec_files(tmp_path, config)) == 2
    (line,) = red_lines(capsys)
    assert ":6:11: /StateMachines/Orders/TestCases/Case/Charge: unknown mocked response" in line


def test_exec_refuses_a_test_case_without_a_mock_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*exec_files(tmp_path), "--test-case", "Case"]) == 2
    assert red_lines(capsys) == ["error: --test-case Case: a test case needs --mock-config"]


def test_exec_with_a_mock_config_calls_no_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --offline: the mock config alone keeps AWS out; NotifyFailure has no mock.
    config = mock_config({"Charge": "Throttled"}, Throttled={"0-2": THROTTLED})
    assert main(exec_files(tmp_path, config)) == 1
    (line,) = red_lines(capsys)
    assert "executing the state 'NotifyFailure'" in line
    assert "no mock in the test case 'Case'" in line
