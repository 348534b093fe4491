"""The samples in samples/ validate, and each MockConfigFile test case ends as documented.

Each sample is run through the library API (``runtime.run_sync`` with a MockConfigFile test
case) and through ``asl exec --json``; the expected outcomes below are what the README and
the samples' Comments promise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from asl.source import load_file
from asl.validate import validate
from runtime import MockConfig, VirtualClock, run_sync
from runtime.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
#: 2026-01-15T00:00:00Z: a fixed start, so the nightly report's date is known.
START = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
DAY = 86400.0

ORDER_SHIPPED = {
    "orderId": "ord-1042",
    "status": "SHIPPED",
    "paymentId": "pay-55120",
    "reservationId": "res-7731",
    "trackingNumbers": ["TRK-0001", "TRK-0002", "TRK-0003"],
    "notification": "4f8a1c2e-9b7d-4e3f-a6b5-0c1d2e3f4a5b",
}


def report(breaches: list[str]) -> dict[str, Any]:
    return {
        "report": "nightly-reports/reports/2026-01-15.json",
        "etag": '"6805f2cfc46c0f04559748bb039d69ae"',
        "services": 3,
        "totalRequests": 1176670,
        "breaches": breaches,
    }


ORDERS_INPUT = {"scheduledTime": "2026-01-15T00:00:00Z", "myTargetTable": "orders"}
ARCHIVED_SUNDAY = {
    "day": "2026-01-17",
    "archived": 3,
    "archive": "s3://log-archive/logs/2026-01-17/",
    "weeklyReport": "s3://log-archive/reports/2026-01-17/",
}

#: History events of a failed task call: Lambda's legacy ARN form has its own.
TASK_FAILED = {"TaskFailed", "LambdaFunctionFailed"}

#: (sample, test case) -> (status, output or (error, cause), failed task calls).
EXPECTED: dict[tuple[str, str], tuple[str, Any, int]] = {
    ("order_pipeline", "HappyPath"): ("SUCCEEDED", ORDER_SHIPPED, 2),
    (
        "order_pipeline",
        "PaymentDeclined",
    ): (
        "FAILED",
        ("PaymentDeclined", "The card ending in 4242 was declined: insufficient funds."),
        1,
    ),
    ("nightly_report", "AllHealthy"): ("SUCCEEDED", report([]), 0),
    ("nightly_report", "BudgetBreached"): ("SUCCEEDED", report(["checkout", "accounts"]), 1),
    **{
        ("datapipeline_preconditions", case): ("SUCCEEDED", ORDERS_INPUT, 0)
        for case in ("AllMet", "RatesArriveLater")
    },
    ("datapipeline_preconditions", "ManifestLate"): (
        "FAILED",
        (
            "DataPipeline.PreconditionNotMet",
            "LoadOrders: ManifestExists: not met within 3600 seconds: S3 object "
            "s3://orders-landing/2026-01-15/_MANIFEST exists",
        ),
        13,
    ),
    ("datapipeline_preconditions", "LoadFails"): (
        "FAILED",
        ("Worker.ExitCode3", "load-orders: duplicate key in part-00007"),
        0,  # activity failures are ActivityFailed events
    ),
    **{
        ("log_archive_weekly_emr", case): ("SUCCEEDED", ARCHIVED_SUNDAY, 0)
        for case in ("Sunday", "LogsArriveLate")
    },
    ("log_archive_weekly_emr", "LogsLate"): (
        "FAILED",
        ("LogsLate", "The web logs of 2026-01-17 did not arrive in time."),
        0,
    ),
    ("log_archive_weekly_emr", "AnalysisFailed"): (
        "FAILED",
        (
            "States.TaskFailed",
            '{"Id":"s-3H8XXXXXXAHO","Name":"weekly page views","Status":{"State":"FAILED",'
            '"FailureDetails":{"Reason":"Hive script failed"}}}',
        ),
        1,
    ),
}


def sample_dirs() -> list[Path]:
    # Samples with local Lambda handlers (asl.toml) are covered by test_samples_aws.py.
    return sorted(
        p
        for p in SAMPLES.iterdir()
        if (p / "input.json").is_file() and not (p / "asl.toml").is_file()
    )


def definition_file(sample: Path) -> Path:
    return next(p for p in sorted(sample.glob("machine.asl.*")))


def test_every_sample_and_test_case_has_an_expectation() -> None:
    found = set()
    for sample in sample_dirs():
        cases = MockConfig.load(sample / "MockConfigFile.json").test_cases["machine"]
        found |= {(sample.name, case) for case in cases}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("sample", sample_dirs(), ids=lambda p: p.name)
def test_sample_validates_without_diagnostics(sample: Path) -> None:
    definition = load_file(definition_file(sample)).value
    assert [d for d in validate(definition) if d.severity == "ERROR"] == []


@pytest.mark.parametrize(("sample", "case"), sorted(EXPECTED))
def test_library_api_runs_each_test_case(sample: str, case: str) -> None:
    folder = SAMPLES / sample
    mocks = MockConfig.load(folder / "MockConfigFile.json").test_case(case, "machine")
    result = run_sync(
        definition_file(folder),
        json.loads((folder / "input.json").read_text()),
        mocks=mocks,
        clock=VirtualClock(start=START),
    )
    status, outcome, task_failures = EXPECTED[sample, case]
    assert result.status == status
    if status == "SUCCEEDED":
        assert result.output == outcome
    else:
        assert (result.error, result.cause) == outcome
    assert sum(event in TASK_FAILED for event in result.event_types) == task_failures


def test_order_pipeline_skips_its_day_long_wait_and_backs_off() -> None:
    folder = SAMPLES / "order_pipeline"
    mocks = MockConfig.load(folder / "MockConfigFile.json").test_case("HappyPath")
    result = run_sync(
        folder / "machine.asl.json",
        json.loads((folder / "input.json").read_text()),
        mocks=mocks,
        clock=VirtualClock(start=START),
    )
    # A one-day Wait plus retry delays of 2 s and 4 s (IntervalSeconds 2, BackoffRate 2).
    assert result.stop_time - result.start_time == pytest.approx(DAY + 6)
    assert mocks.calls["ChargePayment"] == 3
    assert mocks.calls["ShipLine"] == 3


def test_invalid_order_is_rejected_before_any_task() -> None:
    folder = SAMPLES / "order_pipeline"
    result = run_sync(folder / "machine.asl.json", {"order": {"id": "o", "total": 0}})
    assert (result.status, result.error) == ("FAILED", "InvalidOrder")
    assert "TaskScheduled" not in result.event_types


@pytest.mark.parametrize(("sample", "case"), sorted(EXPECTED))
def test_asl_exec_json_runs_each_test_case(
    sample: str, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = SAMPLES / sample
    code = main(
        [
            "exec",
            str(definition_file(folder)),
            "--input",
            str(folder / "input.json"),
            "--mock-config",
            str(folder / "MockConfigFile.json"),
            "--test-case",
            case,
            "--clock",
            "virtual",
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    status, outcome, _ = EXPECTED[sample, case]
    assert (code, doc["status"]) == (0 if status == "SUCCEEDED" else 1, status)
    if status == "FAILED":
        assert (doc["error"], doc["cause"]) == outcome
    elif sample == "nightly_report":
        # The report is named after the real start date here; compare the rest.
        assert doc["output"]["report"].startswith("nightly-reports/reports/")
        assert {**doc["output"], "report": outcome["report"]} == outcome
    else:
        assert doc["output"] == outcome
    assert doc["events"][0] == "ExecutionStarted"
