"""Start-up: ``asl exec`` imports what its run needs, no more (issue #16, goal 2).

Each case runs the ``asl`` command's ``main`` in a fresh interpreter and lists the
modules loaded by the end: a behavioural check of the import set, never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ONE_PASS = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}}'

#: Modules a one-Pass-state run has no use for, and why each was imported before.
NEVER = (
    "boto3",  # AWS service adapters, imported only for a Task that calls AWS
    "botocore",
    "starlette",  # the API server and web console
    "uvicorn",
    "httpx",
    "jsonschema",  # a well-formed definition is checked by asl.validate.quickschema
    "yaml",  # a JSON file needs no YAML loader
    "psycopg",  # the PostgreSQL store
    "croniter",  # schedules
    "multiprocessing",  # Distributed Map worker processes
    "concurrent.futures.process",
    "runtime.distributed",  # Distributed Map (its Map Run, readers, writers)
    "runtime.durable.store",  # the store, with --no-store
    "runtime.server",
    "runtime.report",
    "runtime.testing",
    "runtime.adapters.sdk",  # each service adapter, loaded for a Task of its service
    "runtime.adapters.lambda_",
    "runtime.adapters.sagemaker",
    "runtime.adapters.sns",
    "runtime.adapters.batch",
    "runtime.adapters.emr",
    "runtime.adapters.simple",
    "runtime.adapters.nested",
    "runtime.adapters.http",
    "runtime.adapters.local_lambda",
    "runtime.adapters.mock_config",
    "runtime.adapters.activity",  # activity queues, made for an activity Task or worker
)

#: What a run that may not call AWS (--offline, or mocked without --allow-aws) never
#: needs: the AWS adapters' settings and client pool.
OFFLINE_NEVER = ("runtime.adapters.aws",)


def _loaded(
    tmp_path: Path, argv: list[str], exit_code: int = 0
) -> tuple[dict[str, object], set[str]]:
    """Run ``asl`` with ``argv`` in a fresh interpreter: its stdout and the modules loaded."""
    listing = tmp_path / "modules.json"
    code = (
        "import json, sys\n"
        "from runtime.cli import main\n"
        "code = main(sys.argv[2:])\n"
        "with open(sys.argv[1], 'w') as f: json.dump(sorted(sys.modules), f)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(listing), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == exit_code, done.stderr
    modules = set(json.loads(listing.read_text()))
    stdout = json.loads(done.stdout) if "--json" in argv else {"text": done.stdout}
    return stdout, modules


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(
        module
        for module in modules
        if any(module == n or module.startswith(n + ".") for n in names)
    )


@pytest.fixture
def one_pass(tmp_path: Path) -> Path:
    path = tmp_path / "one.asl.json"
    path.write_text(ONE_PASS)
    return path


def test_a_json_run_without_a_store_imports_nothing_it_does_not_use(
    tmp_path: Path, one_pass: Path
) -> None:
    out, modules = _loaded(
        tmp_path, ["exec", str(one_pass), "--clock", "virtual", "--no-store", "--json"]
    )
    assert out["status"] == "SUCCEEDED" and out["output"] == 1
    # --json prints no rich output; --no-store opens no database.
    assert _heavy(modules, (*NEVER, "rich", "sqlite3")) == []
    # What it does use is there: the check would otherwise prove nothing.
    assert {"runtime.engine.interpreter", "anyio", "asl.compiler"} <= modules


def test_the_trace_imports_rich_but_no_service_or_store(tmp_path: Path, one_pass: Path) -> None:
    out, modules = _loaded(tmp_path, ["exec", str(one_pass), "--clock", "virtual", "--no-store"])
    assert out["text"].strip() == "1"
    assert "rich.console" in modules  # the live trace and its summary are printed with rich
    assert _heavy(modules, (*NEVER, "sqlite3")) == []


PUBLISH = {
    "StartAt": "Publish",
    "States": {
        "Publish": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"},
            "End": True,
        }
    },
}


def test_an_unserved_task_still_fails_naming_its_state(tmp_path: Path) -> None:
    path = tmp_path / "publish.asl.json"
    path.write_text(json.dumps(PUBLISH))
    argv = ["exec", str(path), "--clock", "virtual", "--no-store", "--json", "--offline"]
    out, modules = _loaded(tmp_path, argv, exit_code=1)
    assert out["status"] == "FAILED" and out["error"] == "States.Runtime"
    assert (
        "No adapter is configured for the resource 'arn:aws:states:::sns:publish' of the "
        "state 'Publish'" in str(out["cause"])
    )
    assert _heavy(modules, (*NEVER, *OFFLINE_NEVER, "rich", "sqlite3")) == []


def test_a_mocked_task_imports_no_service_adapter(tmp_path: Path) -> None:
    path = tmp_path / "publish.asl.json"
    path.write_text(json.dumps(PUBLISH))
    mocks = tmp_path / "mocks.json"
    mocks.write_text(
        json.dumps(
            {
                "StateMachines": {"publish": {"TestCases": {"ok": {"Publish": "Sent"}}}},
                "MockedResponses": {"Sent": {"0": {"Return": {"MessageId": "m-1"}}}},
            }
        )
    )
    argv = ["exec", str(path), "--clock", "virtual", "--no-store", "--json"]
    out, modules = _loaded(tmp_path, [*argv, "--mock-config", str(mocks), "--test-case", "ok"])
    assert out["status"] == "SUCCEEDED" and out["output"] == {"MessageId": "m-1"}
    # The mock answers: no boto3, no SNS adapter, though AWS was not turned off.
    allowed = ("runtime.adapters.mock_config",)
    never = (*NEVER, *OFFLINE_NEVER, "rich")
    assert _heavy(modules, tuple(n for n in never if n not in allowed)) == []
