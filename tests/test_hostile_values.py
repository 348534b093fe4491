"""Hostile values end in AWS's error or one clear line, never a traceback: huge numbers,
deep nesting, numbers no double holds, lone surrogates, a full disk, malformed histories."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime import run_sync
from runtime.durable.store import Store
from runtime.durable.store.errors import StoreError
from runtime.durable.store.records import ExecutionInfo


def pass_params(params: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": params, "End": True}}}


def jsonata(expr: str) -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% " + expr + " %}", "End": True}},
    }


RANGE = pass_params({"r.$": "States.ArrayRange(0, $.x, 1)"})


@pytest.mark.parametrize("x", [1e308, 2**80, 1e20])
def test_array_range_with_a_huge_bound_is_an_intrinsic_failure(x: Any) -> None:
    result = run_sync(RANGE, {"x": x})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and "States.ArrayRange" in result.cause


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(
        *[
            st.one_of(
                st.integers(-(10**30), 10**30),
                st.floats(allow_nan=False, allow_infinity=False),
            )
        ]
        * 3
    )
)
def test_array_range_never_raises_a_python_error(args: tuple[Any, Any, Any]) -> None:
    machine = pass_params({"r.$": "States.ArrayRange($.a, $.b, $.c)"})
    result = run_sync(machine, dict(zip("abc", args, strict=True)))
    if result.status == "SUCCEEDED":
        assert len(result.output["r"]) <= 1000  # AWS's ArrayRange limit
    else:
        assert result.error == "States.Runtime"


def test_array_range_of_exactly_1000_items_is_allowed() -> None:
    assert len(run_sync(RANGE, {"x": 999}).output["r"]) == 1000
    assert run_sync(RANGE, {"x": 1000}).status == "FAILED"


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, "1e999", "-1e999", '{"a": 1e400}', "NaN", "Infinity"],
    ids=["deep", "1e999", "-1e999", "nested-1e400", "NaN", "Infinity"],
)
def test_string_to_json_refuses_what_json_cannot_hold(text: str) -> None:
    machine = pass_params({"r.$": "States.StringToJson($.s)"})
    result = run_sync(machine, {"s": text})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and "States.StringToJson" in result.cause


@pytest.mark.parametrize("text", ["1e999", "[" * 5000 + "]" * 5000, "NaN"])
def test_jsonata_parse_refuses_what_json_cannot_hold(text: str) -> None:
    result = run_sync(jsonata("$parse($states.input.s)"), {"s": text})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


def test_jsonata_over_deep_input_fails_as_an_evaluation_error() -> None:
    deep = json.loads("[" * 900 + "]" * 900)
    result = run_sync(jsonata("$count($states.input.a)"), {"a": deep})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


def test_jsonata_range_is_bounded() -> None:
    result = run_sync(jsonata("$count($range(0, 9900000, 1))"))
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert run_sync(jsonata("$count($range(1, 1000, 1))")).output == 1000


def _info(definition: Any) -> ExecutionInfo:
    return ExecutionInfo(
        arn="arn:aws:states:us-east-1:123456789012:execution:M:e",
        name="e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:M",
        state_machine_name="M",
        definition=definition,
        options={},
    )


def test_a_lone_surrogate_is_stored_and_read_back(tmp_path: Path) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "\ud800"}}}
    with Store.open(tmp_path / "s.db") as store:
        store.begin_execution(_info(definition), {"k": "\udfff"}, 0.0)
        record = store.get_execution("e")
    assert record.input == {"k": "\udfff"}


def test_a_full_disk_is_one_store_error_naming_the_cause(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        conn: sqlite3.Connection = store._conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="full") as raised:
            store.begin_execution(_info({"StartAt": "A"}), "x" * 100_000, 0.0)
        assert "no transaction is active" not in str(raised.value)
        assert not conn.in_transaction


def test_a_report_of_a_history_with_a_malformed_map_index_draws(tmp_path: Path) -> None:
    from runtime.report import parse_events
    from runtime.report.visits import build_visits

    events = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {
            "id": 2,
            "previousEventId": 1,
            "type": "MapStateEntered",
            "stateEnteredEventDetails": {"name": "M"},
        },
        {"id": 3, "previousEventId": 2, "type": "MapStateStarted"},
        {
            "id": 4,
            "previousEventId": 3,
            "type": "MapIterationStarted",
            "mapIterationStartedEventDetails": {"name": "M", "index": "not a number"},
        },
    ]
    lanes, _ = build_visits(parse_events(events))
    assert any("M[0]" in lane.label for lane in lanes)


def test_a_store_that_fills_up_mid_run_is_one_line_and_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli import main as asl

    machine = tmp_path / "m.json"
    states = {f"P{i}": {"Type": "Pass", "Next": f"P{i + 1}"} for i in range(10)}
    states["P10"] = {"Type": "Succeed"}
    machine.write_text(json.dumps({"StartAt": "P0", "States": states}))
    db = tmp_path / "s.db"
    real_record = Store.record
    written: list[int] = []

    def record(self: Store, arn: str, event: Any, fence: int | None = None) -> None:
        if len(written) >= 5:  # the disk is full from the sixth event on
            with self._write():
                raise sqlite3.OperationalError("database or disk is full")
        written.append(event.id)
        real_record(self, arn, event, fence)

    monkeypatch.setattr(Store, "record", record)
    args = ["exec", str(machine), "--store", str(db), "--quiet", "--name", "full"]
    assert asl(args) != 0
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "database or disk is full" in err and "asl resume full" in err
    with Store.open(db) as store:
        record_ = store.get_execution("full")
        assert record_.status == "RUNNING"
        # The run's lease could not be released on a full disk; it expires (30 s) here.
        owner = store.lease_owner(record_.arn, time.time())
        if owner is not None:
            store.release_lease(record_.arn, owner)
    monkeypatch.setattr(Store, "record", real_record)  # space freed
    assert asl(["resume", "full", "--store", str(db), "--quiet"]) == 0
    with Store.open(db) as store:
        assert store.get_execution("full").status == "SUCCEEDED"
