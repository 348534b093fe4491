"""The service-integration samples: SageMaker training, SageMaker tuning, AWS Batch + SNS.

Each sample runs offline: its Lambda functions are the local Python handlers named in its
``asl.toml``, and its AWS calls (SageMaker, Batch, SNS, the aws-sdk integration) are the
mocked responses of a MockConfigFile test case. Every test case is run through the library
API (``runtime.run_sync``) and through ``asl exec --json`` in a subprocess, as the README
shows it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from asl.source import load_file
from asl.validate import validate
from runtime import ExecutionResult, MockConfig, VirtualClock, run_sync
from runtime.adapters import Services
from runtime.adapters.local_lambda import LocalFunctions
from runtime.adapters.mock_config import MockedTasks

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ASL = Path(sys.executable).with_name("asl")
#: The execution names the mocked job names were written for (job names embed them).
NAMES = {
    "sagemaker_train_transform": "run-20260115",
    "sagemaker_tune_best": "nightly-0115",
    "batch_notify": "nightly-etl-0115",
}

TRAINING_JOB = "churn-xgb-run-20260115"
BEST_JOB = "churn-xgb-nightly-0115-007-3f9c2a1b"
MODEL_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model/"

TRAINED = {
    "model": MODEL_ARN + TRAINING_JOB,
    "modelArtifacts": (
        f"s3://ml-pipeline-artifacts/models/churn-xgb/{TRAINING_JOB}/output/model.tar.gz"
    ),
    "predictions": f"s3://ml-pipeline-artifacts/predictions/{TRAINING_JOB}",
    "approved": True,
    "validationAuc": 0.9047,
    "trainingRows": 84000,
    "billableSeconds": 870,
}
REGISTERED = {
    "model": BEST_JOB,
    "modelArn": MODEL_ARN + BEST_JOB,
    "artifacts": (
        f"s3://ml-pipeline-artifacts/tuning/churn-xgb-nightly-0115/{BEST_JOB}/output/model.tar.gz"
    ),
    "tuningJob": "churn-xgb-nightly-0115",
    "objective": {"metric": "validation:auc", "value": 0.9131},
    "hyperParameters": {
        "eta": 0.18734520283437387,
        "max_depth": 7,
        "subsample": 0.8412907581016722,
    },
    "predictions": f"s3://ml-pipeline-artifacts/predictions/{BEST_JOB}",
    "approval": "PendingManualApproval",
    "registeredBy": "register-model",
}
BATCH_SUCCEEDED = {
    "jobId": "4e1f7c2a-9d3b-4a6e-b8c5-1f2e3d4c5b6a",
    "jobName": "nightly-etl-2026-01-15",
    "status": "SUCCEEDED",
    "output": "s3://raw-events-curated/events/dt=2026-01-15/",
    "notification": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a",
}
BELOW_THRESHOLD = (
    "The best training job churn-xgb-nightly-0115-011-8d41e07c reached validation:auc 0.8412, "
    "below the minimum of 0.88."
)
OUT_OF_MEMORY = (
    "Job nightly-etl-2026-01-15 (7b2c9e4f-1a3d-4c5b-8e6f-2d3c4b5a6978) FAILED after "
    "2 attempt(s): OutOfMemoryError: Container killed due to memory usage (exit code 137)"
)


def failed_training_job(cause: str) -> bool:
    """The cause of a failed createTrainingJob.sync: the DescribeTrainingJob response."""
    job: dict[str, str] = json.loads(cause)
    return job["TrainingJobStatus"] == "Failed" and job["FailureReason"].startswith(
        "AlgorithmError: "
    )


#: (sample, test case) -> (status, output on success or (error, cause check) on failure).
EXPECTED: dict[tuple[str, str], tuple[str, Any]] = {
    ("sagemaker_train_transform", "Happy"): ("SUCCEEDED", TRAINED),
    (
        "sagemaker_train_transform",
        "TrainingFailed",
    ): ("FAILED", ("States.TaskFailed", failed_training_job)),
    ("sagemaker_tune_best", "Happy"): ("SUCCEEDED", REGISTERED),
    (
        "sagemaker_tune_best",
        "NoGoodModel",
    ): ("FAILED", ("ModelBelowThreshold", BELOW_THRESHOLD.__eq__)),
    ("batch_notify", "Succeeded"): ("SUCCEEDED", BATCH_SUCCEEDED),
    ("batch_notify", "JobFailed"): ("FAILED", ("States.TaskFailed", OUT_OF_MEMORY.__eq__)),
}


def sample_input(sample: str) -> Any:
    return json.loads((SAMPLES / sample / "input.json").read_text(encoding="utf-8"))


def mocks_for(sample: str, case: str) -> MockedTasks:
    return MockConfig.load(SAMPLES / sample / "MockConfigFile.json").test_case(case, "machine")


def run_case(
    sample: str, case: str, payload: Any = None, mocks: MockedTasks | None = None
) -> ExecutionResult:
    """One test case through the library API, with the sample's local handlers."""
    folder = SAMPLES / sample
    functions = LocalFunctions.from_config(folder / "asl.toml")
    return run_sync(
        folder / "machine.asl.json",
        sample_input(sample) if payload is None else payload,
        services=Services.create(functions=functions),
        mocks=mocks or mocks_for(sample, case),
        clock=VirtualClock(),
        name=NAMES[sample],
        state_machine_name="machine",
    )


def check_outcome(status: str, output: Any, error: Any, cause: Any, expected: Any) -> None:
    want_status, outcome = expected
    assert status == want_status
    if want_status == "SUCCEEDED":
        assert output == outcome
    else:
        want_error, cause_ok = outcome
        assert error == want_error
        assert cause_ok(cause), cause


def scheduled(result: ExecutionResult, resource: str) -> list[dict[str, Any]]:
    """The parameters of each TaskScheduled event for ``resource`` (e.g. "publish")."""
    return [
        json.loads(event.details["parameters"])
        for event in result.history
        if event.type == "TaskScheduled" and event.details and event.details["resource"] == resource
    ]


def load_handlers(sample: str) -> ModuleType:
    path = SAMPLES / sample / "handlers.py"
    spec = importlib.util.spec_from_file_location(f"_sample_handlers_{sample}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- every sample and test case ------------------------------------------------------------


def test_every_test_case_has_an_expectation() -> None:
    found = {
        (sample, case)
        for sample in NAMES
        for case in MockConfig.load(SAMPLES / sample / "MockConfigFile.json").test_cases["machine"]
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize("sample", sorted(NAMES))
def test_sample_validates_without_diagnostics(sample: str) -> None:
    definition = load_file(SAMPLES / sample / "machine.asl.json").value
    assert list(validate(definition)) == []


@pytest.mark.parametrize("sample", sorted(NAMES))
def test_every_configured_handler_loads(sample: str) -> None:
    functions = LocalFunctions.from_config(SAMPLES / sample / "asl.toml")
    functions.load_all()
    assert len(functions) >= 1


@pytest.mark.parametrize(("sample", "case"), sorted(EXPECTED))
def test_library_api_runs_each_test_case(sample: str, case: str) -> None:
    result = run_case(sample, case)
    check_outcome(result.status, result.output, result.error, result.cause, EXPECTED[sample, case])


@pytest.mark.parametrize(("sample", "case"), sorted(EXPECTED))
def test_asl_exec_json_runs_each_test_case(sample: str, case: str, tmp_path: Path) -> None:
    folder = SAMPLES / sample
    command = [
        str(ASL),
        "exec",
        str(folder / "machine.asl.json"),
        "--input",
        str(folder / "input.json"),
        "--config",
        str(folder / "asl.toml"),
        "--mock-config",
        str(folder / "MockConfigFile.json"),
        "--test-case",
        case,
        "--clock",
        "virtual",
        "--name",
        NAMES[sample],
        "--json",
        "--no-store",
        "--quiet",
    ]
    # Fake credentials: a call that escaped its mock would fail, never reach an account.
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False
    )
    doc = json.loads(done.stdout)
    expected = EXPECTED[sample, case]
    assert done.returncode == (0 if expected[0] == "SUCCEEDED" else 1), done.stderr
    check_outcome(doc["status"], doc["output"], doc["error"], doc["cause"], expected)
    assert doc["events"][0] == "ExecutionStarted"


# -- sagemaker_train_transform ---------------------------------------------------------------


def test_training_waits_out_the_instance_quota_then_trains() -> None:
    mocks = mocks_for("sagemaker_train_transform", "Happy")
    result = run_case("sagemaker_train_transform", "Happy", mocks=mocks)
    assert result.succeeded
    # ResourceLimitExceeded once, retried after IntervalSeconds 300 on the virtual clock.
    assert mocks.calls["TrainModel"] == 2
    assert result.stop_time - result.start_time == pytest.approx(300)
    first, request = scheduled(result, "createTrainingJob.sync")
    assert first == request
    assert request["TrainingJobName"] == TRAINING_JOB
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in request["InputDataConfig"]
    }
    prefix = "s3://ml-pipeline-artifacts/datasets/churn-xgb/run-20260115"
    assert channels == {"train": f"{prefix}/train/", "validation": f"{prefix}/validation/"}
    [model] = scheduled(result, "createModel")
    assert model["PrimaryContainer"]["ModelDataUrl"] == TRAINED["modelArtifacts"]
    [transform] = scheduled(result, "createTransformJob.sync")
    assert transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == f"{prefix}/test/"


def test_failed_training_is_published_before_the_execution_fails() -> None:
    result = run_case("sagemaker_train_transform", "TrainingFailed")
    [alert] = scheduled(result, "publish")
    assert alert["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:ml-pipeline-alerts"
    assert alert["Message"].startswith(
        "Execution run-20260115 of churn-xgb failed with States.TaskFailed: {"
    )
    assert scheduled(result, "createModel") == []
    assert result.event_types[-2:] == ["FailStateEntered", "ExecutionFailed"]


def test_a_dataset_handler_error_is_a_lambda_function_error() -> None:
    payload = {**sample_input("sagemaker_train_transform"), "rows": 10}
    result = run_case("sagemaker_train_transform", "TrainingFailed", payload)
    # The handler raised ValueError: Lambda names the error after the exception type.
    assert (result.status, result.error) == ("FAILED", "ValueError")
    body = json.loads(result.cause or "")
    assert body["errorMessage"] == "Need at least 100 rows to train and evaluate a model, got 10."
    assert scheduled(result, "createTrainingJob.sync") == []


def test_evaluation_rejects_an_overfitted_model() -> None:
    evaluate: Callable[[Any, Any], Any] = load_handlers("sagemaker_train_transform").evaluate_model
    metrics = [
        {"MetricName": "train:auc", "Value": 0.99},
        {"MetricName": "validation:auc", "Value": 0.9},
    ]
    verdict = evaluate({"metrics": metrics, "minimumAuc": 0.85, "predictions": "s3://p"}, None)
    assert verdict == {
        "approved": False,
        "validationAuc": 0.9,
        "overfitGap": 0.09,
        "predictions": "s3://p",
    }


# -- sagemaker_tune_best ---------------------------------------------------------------------


def test_the_best_training_job_becomes_the_model() -> None:
    result = run_case("sagemaker_tune_best", "Happy")
    [tuning] = scheduled(result, "createHyperParameterTuningJob.sync")
    assert tuning["HyperParameterTuningJobName"] == "churn-xgb-nightly-0115"
    [describe] = scheduled(result, "describeTrainingJob")
    assert describe == {"TrainingJobName": BEST_JOB}
    [model] = scheduled(result, "createModel")
    assert model["ModelName"] == BEST_JOB
    assert model["PrimaryContainer"]["ModelDataUrl"] == REGISTERED["artifacts"]


def test_no_good_model_stops_before_any_model_is_created() -> None:
    mocks = mocks_for("sagemaker_tune_best", "NoGoodModel")
    result = run_case("sagemaker_tune_best", "NoGoodModel", mocks=mocks)
    assert result.error == "ModelBelowThreshold"
    assert mocks.calls == {"Tune": 1}
    assert "LambdaFunctionScheduled" not in result.event_types
    assert scheduled(result, "invoke") == []


def test_a_higher_threshold_rejects_the_tuned_model() -> None:
    payload = {**sample_input("sagemaker_tune_best"), "minimumAuc": 0.95}
    result = run_case("sagemaker_tune_best", "Happy", payload)
    assert (result.status, result.error) == ("FAILED", "ModelBelowThreshold")
    assert "validation:auc 0.9131, below the minimum of 0.95." in (result.cause or "")


# -- batch_notify ----------------------------------------------------------------------------


def test_the_job_is_sized_by_the_plan_and_success_is_published() -> None:
    result = run_case("batch_notify", "Succeeded")
    [job] = scheduled(result, "submitJob.sync")
    assert job["ContainerOverrides"]["ResourceRequirements"] == [
        {"Type": "VCPU", "Value": "8"},
        {"Type": "MEMORY", "Value": "16384"},
    ]
    assert job["Parameters"]["input"] == "s3://raw-events/events/dt=2026-01-15/"
    [message] = scheduled(result, "publish")
    assert message["Subject"] == "Batch job nightly-etl-2026-01-15 succeeded"
    assert message["MessageAttributes"]["status"]["StringValue"] == "SUCCEEDED"
    assert "after 1 attempt(s)" in message["Message"]


def test_a_failed_job_is_explained_and_published() -> None:
    result = run_case("batch_notify", "JobFailed")
    [message] = scheduled(result, "publish")
    assert message["Subject"] == "Batch job nightly-etl failed"
    assert message["Message"] == OUT_OF_MEMORY
    assert message["MessageAttributes"]["status"]["StringValue"] == "FAILED"


def test_plan_sizes_the_container_by_input_size() -> None:
    plan: Callable[[Any, Any], Any] = load_handlers("batch_notify").plan_batch_job
    sizes = [
        (plan({"runDate": "d", "source": {"bucket": "b", "sizeGiB": gib}}, None)["vcpus"])
        for gib in (1, 10, 11, 100, 500)
    ]
    assert sizes == ["2", "2", "8", "8", "32"]


def test_explain_failure_handles_errors_without_a_job_description() -> None:
    explain: Callable[[Any, Any], Any] = load_handlers("batch_notify").explain_failure
    cause = "Job queue not found (Service: AWSBatch; Status Code: 400; Error Code: ClientException)"
    event = {"Error": "Batch.ClientException", "Cause": cause, "jobName": "nightly-etl"}
    assert explain(event, None) == {
        "summary": f"Job nightly-etl could not run: Batch.ClientException: {cause}"
    }
