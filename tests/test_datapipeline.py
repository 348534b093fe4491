"""``asl import-datapipeline``: AWS's documented Data Pipeline examples become definitions
that validate and run to SUCCEEDED offline on the emitted mocks, with a schedule that
``asl schedule create --cli-input-json`` takes and a report naming every object.

The fixtures in tests/data/datapipeline are our own, written after the shapes of the
Data Pipeline developer guide's examples: hello world (a ShellCommandActivity on a
daily schedule), an S3 → S3 CopyActivity with an S3KeyExists precondition, an EMR
word count on a weekly schedule, a ShellCommandActivity with S3 staging, and the
DynamoDB export template (an EmrActivity with a DynamoDBDataExists precondition).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from asl.datapipeline import PipelineError, convert_pipeline, read_pipeline
from asl.datapipeline.expressions import Untranslatable, joda_to_picture, translate_text
from asl.validate import validate
from runtime import MockConfig, VirtualClock, run_sync
from runtime.cli import main

DATA = Path(__file__).resolve().parent / "data" / "datapipeline"
EXAMPLES = sorted(p.stem for p in DATA.glob("*.json"))
#: 2026-01-16T00:00:00Z, the virtual start of each run.
START = datetime(2026, 1, 16, tzinfo=UTC).timestamp()


def convert(name: str, tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / name
    code = main(
        [
            "import-datapipeline",
            str(DATA / f"{name}.json"),
            "--out",
            str(out),
            "--emit-mocks",
            *extra,
        ]
    )
    assert code == 0
    return out


def run_converted(out: Path, case: str = "Default", **changes: Any) -> Any:
    mocks = MockConfig.load(out / "MockConfigFile.json").test_case(case, "machine")
    payload = json.loads((out / "input.json").read_text()) | changes
    return run_sync(out / "machine.asl.json", payload, mocks=mocks, clock=VirtualClock(START))


def scheduled(result: Any) -> list[Any]:
    """The parameters of each task call (TaskScheduled) and activity task (its input)."""
    calls = []
    for event in result.history:
        if event.type == "TaskScheduled":
            calls.append(json.loads(event.details["parameters"]))
        elif event.type == "ActivityScheduled":
            given = event.details["input"]
            calls.append(json.loads(given) if isinstance(given, str) else given)
    return calls


def test_there_are_the_five_documented_examples() -> None:
    assert EXAMPLES == [
        "dynamodb_export",
        "emr_weekly",
        "hello_world",
        "s3_copy_precondition",
        "shell_staging",
    ]


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_validates_and_runs_offline_on_its_mocks(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = convert(name, tmp_path)
    report = capsys.readouterr().out
    machine = json.loads((out / "machine.asl.json").read_text())
    assert validate(machine) == []  # no error, no warning
    assert main(["validate", str(out / "machine.asl.json")]) == 0
    result = run_converted(out)
    assert result.status == "SUCCEEDED", result.cause
    # The report lists every object of the pipeline.
    ids = [obj["id"] for obj in json.loads((DATA / f"{name}.json").read_text())["objects"]]
    for ident in ids:
        assert any(line.startswith(f"{ident} (") for line in report.splitlines()), ident


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_schedule_is_what_asl_schedule_create_takes(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = convert(name, tmp_path)
    store = str(tmp_path / "store.db")
    code = main(
        [
            "schedule",
            "create",
            "--cli-input-json",
            str(out / "schedule.json"),
            "--state-machine",
            str(out / "machine.asl.json"),
            "--store",
            store,
            "--mock-config",
            str(out / "MockConfigFile.json"),
            "--test-case",
            "Default",
            "--offline",
        ]
    )
    assert code == 0
    capsys.readouterr()
    # A schedule from FIRST_ACTIVATION_DATE_TIME counts from its creation, i.e. now.
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 86400))
    since = (
        []
        if "StartDate" not in json.loads((out / "schedule.json").read_text())
        else ["--from", "2026-01-10T00:00:00Z"]
    )
    if since:
        until = "2026-01-20T00:00:00Z"
    argv = ["schedule", "simulate", name, *since, "--until", until, "--run", "--json"]
    assert main([*argv, "--store", store]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs and {run["status"] for run in runs} == {"SUCCEEDED"}


def test_the_daily_copy_schedule_and_its_paths(tmp_path: Path) -> None:
    out = convert("s3_copy_precondition", tmp_path)
    schedule = json.loads((out / "schedule.json").read_text())
    # timeseries: the run of the day that starts 2026-01-01 fires at its end.
    assert schedule["ScheduleExpression"] == "rate(1 day)"
    assert schedule["StartDate"] == "2026-01-02T00:00:00Z"
    assert schedule["EndDate"] == "2027-01-01T00:00:00Z"
    target_input = json.loads(schedule["Target"]["Input"])
    assert target_input["scheduledTime"] == "<aws.scheduler.scheduled-time>"
    assert target_input["myInputBucket"] == "s3://web-logs"
    result = run_converted(out, scheduledTime="2026-01-15T00:00:00Z")
    assert result.status == "SUCCEEDED", result.cause
    check, copy = scheduled(result)
    # @scheduledStartTime is the interval's start: the day before the firing.
    assert check == {"Bucket": "web-logs", "Key": "logs/2026-01-14.csv"}
    assert copy == {
        "Bucket": "archive-bucket",
        "Key": "archive/2026/01/2026-01-14.csv",
        "CopySource": "web-logs/logs/2026-01-14.csv",
    }
    machine = json.loads((out / "machine.asl.json").read_text())
    task = machine["States"]["CopyLogs: copy"]
    assert task["TimeoutSeconds"] == 3600
    assert task["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 3, "IntervalSeconds": 900, "BackoffRate": 1}
    ]


def with_mock(out: Path, state: str, answers: dict[str, Any]) -> None:
    config = json.loads((out / "MockConfigFile.json").read_text())
    config["MockedResponses"]["Changed"] = answers
    config["StateMachines"]["machine"]["TestCases"]["Default"][state] = "Changed"
    (out / "MockConfigFile.json").write_text(json.dumps(config))


def test_a_late_input_is_polled_then_notified_and_fails(tmp_path: Path) -> None:
    out = convert("s3_copy_precondition", tmp_path)
    missing = {"Throw": {"Error": "S3.NoSuchKeyException", "Cause": "Not Found"}}
    with_mock(out, "CopyLogs: InputExists check", {"0-12": missing})
    result = run_converted(out)
    assert (result.status, result.error) == ("FAILED", "DataPipeline.PreconditionNotMet")
    # Checked every 10 minutes for 2 hours (13 checks), then the late alarm.
    checks = [e for e in result.history if e.type == "TaskScheduled"]
    assert len(checks) == 13 + 1
    notice = json.loads(checks[-1].details["parameters"])
    assert notice["Subject"] == "Log copy late"
    assert notice["Message"] == "The input of CopyLogs is late"
    assert result.stop_time - START == pytest.approx(7200, abs=1)


def test_an_input_that_appears_lets_the_copy_run(tmp_path: Path) -> None:
    out = convert("s3_copy_precondition", tmp_path)
    ok = {"ContentLength": 5}
    missing = {"Throw": {"Error": "S3.NoSuchKeyException", "Cause": "Not Found"}}
    with_mock(out, "CopyLogs: InputExists check", {"0-2": missing, "3": {"Return": ok}})
    result = run_converted(out)
    assert result.status == "SUCCEEDED", result.cause
    assert result.stop_time - START == pytest.approx(1800, abs=1)


def test_a_failed_copy_is_notified_with_the_error(tmp_path: Path) -> None:
    out = convert("s3_copy_precondition", tmp_path)
    denied = {"Throw": {"Error": "S3.AccessDeniedException", "Cause": "Access Denied"}}
    with_mock(out, "CopyLogs: copy", {"0-3": denied})
    result = run_converted(out)
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "S3.AccessDeniedException",
        "Access Denied",
    )
    notice = scheduled(result)[-1]
    assert notice["Subject"] == "Log copy failed"
    assert notice["Message"] == "CopyLogs failed for 2026-01-14: Access Denied"


def test_emr_weekly_creates_steps_and_terminates(tmp_path: Path) -> None:
    out = convert("emr_weekly", tmp_path)
    schedule = json.loads((out / "schedule.json").read_text())
    assert schedule["ScheduleExpression"] == "rate(7 days)"
    assert schedule["StartDate"] == "2026-01-05T03:00:00Z"
    assert schedule["EndDate"] == "2026-12-28T03:00:01Z"  # 52 runs, the last on 12-28
    result = run_converted(out, scheduledTime="2026-01-12T03:00:00Z")
    assert result.status == "SUCCEEDED", result.cause
    create, step, terminate, notice = scheduled(result)
    assert create["Instances"]["KeepJobFlowAliveWhenNoSteps"] is True
    assert create["ReleaseLabel"] == "emr-6.15.0"
    assert create["Applications"] == [{"Name": "hadoop"}, {"Name": "hive"}]
    assert step["ClusterId"] == "j-2AXXXXXXGAPLF"
    args = step["Step"]["HadoopJarStep"]["Args"]
    assert "s3://amzn-s3-demo-bucket/wordcount/output/2026-01-12T03:00:00" in args
    assert terminate == {"ClusterId": "j-2AXXXXXXGAPLF"}
    assert notice["Subject"] == "Weekly word count done"


def test_a_failed_emr_step_terminates_the_cluster_then_notifies(tmp_path: Path) -> None:
    out = convert("emr_weekly", tmp_path)
    failed = {"Throw": {"Error": "States.TaskFailed", "Cause": '{"Status":{"State":"FAILED"}}'}}
    with_mock(out, "WordCount: step 1", {"0-1": failed})
    result = run_converted(out)
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    names = [e.details["name"] for e in result.history if e.type == "TaskStateEntered"]
    assert names[-2:] == [
        "WordCount: terminate cluster after failure",
        "WordCount: notify EmrFailed",
    ]
    assert names.count("WordCount: step 1") == 1  # one state, retried once inside it
    assert scheduled(result)[-1]["Message"] == '{"Status":{"State":"FAILED"}}'


def test_dynamodb_export_step_reads_the_nodes_fields(tmp_path: Path) -> None:
    out = convert("dynamodb_export", tmp_path)
    result = run_converted(out, scheduledTime="2026-01-15T04:05:06Z")
    assert result.status == "SUCCEEDED", result.cause
    scan, _create, step, _terminate = scheduled(result)
    assert scan == {"TableName": "orders", "Limit": 1, "Select": "COUNT"}
    jar = step["Step"]["HadoopJarStep"]
    assert jar["Jar"] == (
        "s3://dynamodb-dpl-us-east-1/emr-ddb-storage-handler/4.11.0/"
        "emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar"
    )
    assert jar["Args"] == [
        "org.apache.hadoop.dynamodb.tools.DynamoDBExport",
        "s3://amzn-s3-demo-bucket/ddb-backups/2026-01-15-04-05-06",
        "orders",
        "0.25",
    ]


def test_shell_staging_goes_to_an_activity_worker(tmp_path: Path) -> None:
    out = convert("shell_staging", tmp_path)
    result = run_converted(out, scheduledTime="2026-01-15T00:30:00Z")
    assert result.status == "SUCCEEDED", result.cause
    listing, shell = scheduled(result)
    assert listing == {"Bucket": "amzn-s3-demo-bucket", "Prefix": "apache/", "MaxKeys": 1}
    assert shell["command"].startswith("cat ${INPUT1_STAGING_DIR}/*")
    assert shell["staging"] == {
        "stage": True,
        "input": ["s3://amzn-s3-demo-bucket/apache/"],
        "output": ["s3://amzn-s3-demo-bucket/apache-counts/2026-01-15-00-15-00"],
    }
    machine = json.loads((out / "machine.asl.json").read_text())
    resource = machine["States"]["ShellCommandActivityObj: run"]["Resource"]
    assert resource == (
        "arn:aws:states:us-east-1:123456789012:activity:shell_staging-ShellCommandActivityObj"
    )


@pytest.mark.parametrize("runner", ["batch", "ecs"])
def test_shell_commands_can_run_on_batch_or_ecs(runner: str, tmp_path: Path) -> None:
    out = convert("hello_world", tmp_path, "--shell-runner", runner)
    result = run_converted(out)
    assert result.status == "SUCCEEDED", result.cause
    (task,) = scheduled(result)
    command = (
        task["ContainerOverrides"]["Command"]
        if runner == "batch"
        else task["Overrides"]["ContainerOverrides"][0]["Command"]
    )
    assert command[:2] == ["sh", "-c"]
    assert command[2] == "echo 'Hello, world! (2026-01-15)'"


def pipeline(*objects: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"objects": [{"id": "Default", "scheduleType": "ondemand"}, *objects], **more}


SHELL = {"id": "A", "type": "ShellCommandActivity", "command": "true"}


def test_independent_activities_run_in_parallel_after_their_dependency() -> None:
    doc = pipeline(
        {**SHELL, "id": "Extract"},
        {**SHELL, "id": "LoadA", "dependsOn": {"ref": "Extract"}},
        {**SHELL, "id": "LoadB", "dependsOn": {"ref": "Extract"}},
        {**SHELL, "id": "Report", "dependsOn": [{"ref": "LoadA"}, {"ref": "LoadB"}]},
    )
    converted = convert_pipeline(read_pipeline(doc), "etl")
    states = converted.machine["States"]
    assert states["Extract: run"]["Next"] == "Stage 2: LoadA, LoadB"
    parallel = states["Stage 2: LoadA, LoadB"]
    assert [b["StartAt"] for b in parallel["Branches"]] == ["LoadA: run", "LoadB: run"]
    assert parallel["Next"] == "Report: run"
    assert converted.schedule is None  # on demand
    result = run_sync(
        converted.machine,
        {},
        mocks=MockConfig.parse(converted.mocks).test_case("Default", "machine"),
    )
    assert result.status == "SUCCEEDED", result.cause


def test_default_and_parent_inheritance() -> None:
    doc = pipeline(
        {"id": "Base", "maximumRetries": "2", "retryDelay": "1 minutes"},
        {**SHELL, "parent": {"ref": "Base"}, "attemptTimeout": "5 minutes"},
    )
    doc["objects"][0]["attemptTimeout"] = "1 hour"
    state = convert_pipeline(read_pipeline(doc), "p").machine["States"]["A: run"]
    assert state["TimeoutSeconds"] == 300
    assert state["Retry"][0]["MaxAttempts"] == 2
    assert state["Retry"][0]["IntervalSeconds"] == 60


def test_the_api_form_of_a_definition_is_read() -> None:
    doc = {
        "pipelineObjects": [
            {
                "id": "Default",
                "name": "Default",
                "fields": [{"key": "scheduleType", "stringValue": "ondemand"}],
            },
            {
                "id": "A",
                "name": "A",
                "fields": [
                    {"key": "type", "stringValue": "ShellCommandActivity"},
                    {"key": "command", "stringValue": "echo #{myWord}"},
                    {"key": "onFail", "refValue": "Alarm"},
                ],
            },
            {
                "id": "Alarm",
                "name": "Alarm",
                "fields": [
                    {"key": "type", "stringValue": "SnsAlarm"},
                    {"key": "topicArn", "stringValue": "arn:aws:sns:us-east-1:1:t"},
                ],
            },
        ],
        "parameterObjects": [
            {
                "id": "myWord",
                "attributes": [
                    {"key": "type", "stringValue": "String"},
                    {"key": "default", "stringValue": "hi"},
                ],
            }
        ],
        "parameterValues": [{"id": "myWord", "stringValue": "hello"}],
    }
    converted = convert_pipeline(read_pipeline(doc), "api")
    assert "A: notify Alarm" in converted.machine["States"]
    assert converted.execution_input["myWord"] == "hello"


def test_unconvertible_activities_become_marked_placeholders() -> None:
    doc = pipeline(
        {"id": "Q", "type": "SqlActivity", "script": "select 1", "database": {"ref": "Db"}},
        {"id": "Db", "type": "RdsDatabase", "rdsInstanceId": "db1"},
    )
    converted = convert_pipeline(read_pipeline(doc), "sql")
    state = converted.machine["States"]["Q: PLACEHOLDER"]
    assert state["Comment"].startswith("PLACEHOLDER")
    (entry,) = [e for e in converted.entries if e.obj.id == "Q"]
    assert any("not converted" in text for text in entry.lost)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "field 'objects' is required"),
        ({"objects": [{"name": "x"}]}, "objects[0]: field 'id' is required"),
        (pipeline({"id": "A", "command": "x"}), "object 'A': field 'type' is required"),
        (
            pipeline({**SHELL, "dependsOn": {"ref": "Nope"}}),
            "object 'A': field 'dependsOn' refers to 'Nope'",
        ),
        (
            pipeline({**SHELL, "dependsOn": "B"}),
            "object 'A': field 'dependsOn' must be a reference",
        ),
        (
            pipeline(
                {**SHELL, "dependsOn": {"ref": "B"}},
                {**SHELL, "id": "B", "dependsOn": {"ref": "A"}},
            ),
            "makes a cycle",
        ),
        (
            pipeline({**SHELL, "attemptTimeout": "soon"}),
            "object 'A': field 'attemptTimeout' must be a duration",
        ),
        (
            {
                "objects": [
                    {"id": "Default", "schedule": {"ref": "S"}},
                    SHELL,
                    {
                        "id": "S",
                        "type": "Schedule",
                        "period": "5 minutes",
                        "startAt": "FIRST_ACTIVATION_DATE_TIME",
                    },
                ]
            },
            "object 'S': field 'period' must be at least 15 minutes",
        ),
        (
            {
                "objects": [
                    {"id": "Default", "schedule": {"ref": "S"}},
                    SHELL,
                    {"id": "S", "type": "Schedule", "period": "1 day"},
                ]
            },
            "object 'S': a Schedule needs 'startDateTime'",
        ),
        (pipeline(SHELL, values={"myX": "1"}), "values: 'myX' is not a parameter"),
        (pipeline({"id": "N", "type": "S3DataNode"}), "the pipeline has no activity"),
    ],
)
def test_bad_pipelines_are_one_line_naming_the_object_and_field(
    document: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PipelineError, match=re.escape(message)):
        convert_pipeline(read_pipeline(document), "p")
    source = tmp_path / "p.json"
    source.write_text(json.dumps(document))
    out = tmp_path / "out"
    assert main(["import-datapipeline", str(source), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()  # nothing half-written


def test_expressions_become_jsonata() -> None:
    def resolve(name: str) -> tuple[str, str]:
        if name == "myBucket":
            return "$params.myBucket", "text"
        raise Untranslatable(name)

    text, kind = translate_text(
        "#{myBucket}/#{format(minusDays(@scheduledStartTime, 1), 'YYYY-MM-dd')}.csv", resolve
    )
    assert kind == "text"
    assert text == (
        '($params.myBucket) & "/" & ($fromMillis(($scheduledStart - 1 * 86400000), '
        '"[Y0001]-[M01]-[D01]")) & ".csv"'
    )
    assert translate_text("@x", resolve) == ('"@x"', "text")
    with pytest.raises(Untranslatable, match="calendar months"):
        translate_text("#{plusMonths(@scheduledStartTime, 1)}", resolve)
    with pytest.raises(Untranslatable, match="nope"):
        translate_text("#{nope}", resolve)


@pytest.mark.parametrize(
    ("joda", "picture"),
    [
        ("YYYY-MM-dd", "[Y0001]-[M01]-[D01]"),
        ("yyyy-MM-dd'T'HH:mm:ss", "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]"),
        ("YYYY/MM/dd-HH", "[Y0001]/[M01]/[D01]-[H01]"),
        ("EEE, d MMM yyyy", "[FNn,*-3], [D1] [MNn,*-3] [Y0001]"),
        ("HH:mm:ss.SSS", "[H01]:[m01]:[s01].[f001]"),
    ],
)
def test_joda_patterns_as_pictures(joda: str, picture: str) -> None:
    assert joda_to_picture(joda) == picture


def test_a_format_runs_as_data_pipeline_prints_it(tmp_path: Path) -> None:
    doc = pipeline({**SHELL, "command": "#{format(@scheduledStartTime, 'EEE, d MMM yyyy HH:mm')}"})
    converted = convert_pipeline(read_pipeline(doc), "fmt")
    mocks = MockConfig.parse(converted.mocks).test_case("Default", "machine")
    result = run_sync(converted.machine, {"scheduledTime": "2026-03-01T07:08:09Z"}, mocks=mocks)
    assert scheduled(result)[0]["command"] == "Sun, 1 Mar 2026 07:08"


def test_a_directory_copy_is_a_distributed_map_over_the_prefix() -> None:
    doc = pipeline(
        {"id": "In", "type": "S3DataNode", "directoryPath": "s3://src/#{myDay}/"},
        {"id": "Out", "type": "S3DataNode", "directoryPath": "s3://dst/archive/#{myDay}/"},
        {"id": "Copy", "type": "CopyActivity", "input": {"ref": "In"}, "output": {"ref": "Out"}},
        parameters=[{"id": "myDay", "type": "String", "default": "2026-01-15"}],
    )
    converted = convert_pipeline(read_pipeline(doc), "dircopy")
    assert [d for d in validate(converted.machine)] == []  # no warning either
    mocks = MockConfig.parse(converted.mocks).test_case("Default", "machine")
    result = run_sync(converted.machine, {}, mocks=mocks)
    assert result.status == "SUCCEEDED", result.cause
    # The child executions' histories are muted: the copy ran once per listed object.
    assert mocks.calls["Copy: copy object"] == 1
    state = converted.machine["States"]["Copy: copy"]
    assert set(state["ItemSelector"]) == {
        "key",
        "sourceBucket",
        "sourcePrefix",
        "targetBucket",
        "targetPrefix",
    }


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_section(title: str) -> str:
    text = README.read_text("utf-8")
    start = text.index(f"## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_example_is_true(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = readme_section("Moving off AWS Data Pipeline")
    pipeline_json = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    commands = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert pipeline_json and commands
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.json").write_text(pipeline_json.group(1))
    store = str(tmp_path / "store.db")
    monkeypatch.setenv("ASL_STORE", store)
    lines = commands.group(1).replace("\\\n", " ").splitlines()
    for line in lines:
        argv = line.split("#")[0].split()
        assert argv[0] == "asl"
        assert main(argv[1:]) == 0, line
    out = capsys.readouterr().out
    assert "CopyOrders (CopyActivity)\n  -> aws-sdk:s3:copyObject task 'CopyOrders: copy'" in out
    assert "!! not carried over: onLateAction/lateAfterTimeout" in out
    machine = json.loads((tmp_path / "orders" / "machine.asl.json").read_text())
    states = machine["States"]
    for name in (
        "Initialize",
        "CopyOrders: OrdersFileExists check",
        "CopyOrders: OrdersFileExists late, notify Alert",
        "CopyOrders: copy",
    ):
        assert name in states, name
    copy = states["CopyOrders: copy"]
    assert copy["TimeoutSeconds"] == 1800
    assert copy["Retry"][0]["MaxAttempts"] == 2 and copy["Retry"][0]["IntervalSeconds"] == 300
    assert "failure_CopyOrders" in copy["Catch"][0]["Assign"]
    wait = states["CopyOrders: OrdersFileExists wait"]
    assert wait["Seconds"] == 900
    schedule = json.loads((tmp_path / "orders" / "schedule.json").read_text())
    assert (schedule["ScheduleExpression"], schedule["StartDate"]) == (
        "rate(1 day)",
        "2026-01-02T00:00:00Z",
    )


def test_every_field_not_carried_over_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    convert("dynamodb_export", tmp_path)
    report = capsys.readouterr().out
    assert "field 'region' is not converted" in report
    assert "field 'resizeClusterBeforeRunning' is not converted" in report
    # Fields that were converted are not listed.
    assert "field 'step'" not in report and "field 'tableName'" not in report


def test_hive_pig_hadoop_sql_and_redshift_copy_convert_and_run() -> None:
    cluster = {"id": "Cluster", "type": "EmrCluster", "releaseLabel": "emr-6.15.0"}
    db = {
        "id": "Db",
        "type": "RedshiftDatabase",
        "clusterId": "dw",
        "databaseName": "sales",
        "username": "etl",
        "*password": "secret",
    }
    doc = pipeline(
        cluster,
        db,
        {"id": "Raw", "type": "S3DataNode", "directoryPath": "s3://raw/orders/"},
        {
            "id": "Orders",
            "type": "RedshiftDataNode",
            "tableName": "orders",
            "database": {"ref": "Db"},
        },
        {
            "id": "Hive",
            "type": "HiveActivity",
            "runsOn": {"ref": "Cluster"},
            "scriptUri": "s3://code/report.q",
            "scriptVariable": "DAY=#{myDay}",
        },
        {
            "id": "Pig",
            "type": "PigActivity",
            "runsOn": {"ref": "Cluster"},
            "script": "A = LOAD 'x';",
            "dependsOn": {"ref": "Hive"},
        },
        {
            "id": "Jar",
            "type": "HadoopActivity",
            "runsOn": {"ref": "Cluster"},
            "jarUri": "s3://code/job.jar",
            "mainClass": "com.example.Job",
            "argument": ["-day", "#{myDay}"],
            "dependsOn": {"ref": "Hive"},
        },
        {
            "id": "Sql",
            "type": "SqlActivity",
            "database": {"ref": "Db"},
            "script": "delete from orders where day = '#{myDay}'",
        },
        {
            "id": "Copy",
            "type": "RedshiftCopyActivity",
            "input": {"ref": "Raw"},
            "output": {"ref": "Orders"},
            "insertMode": "KEEP_EXISTING",
            "commandOptions": "CSV",
            "dependsOn": {"ref": "Sql"},
        },
        parameters=[{"id": "myDay", "type": "String", "default": "2026-01-15"}],
    )
    converted = convert_pipeline(read_pipeline(doc), "mixed")
    assert validate(converted.machine) == []
    mocks = MockConfig.parse(converted.mocks).test_case("Default", "machine")
    result = run_sync(converted.machine, {}, mocks=mocks)
    assert result.status == "SUCCEEDED", result.cause
    calls = scheduled(result)
    steps = [c["Step"]["HadoopJarStep"] for c in calls if "Step" in c]
    assert {
        "Jar": "command-runner.jar",
        "Args": [
            "hive-script",
            "--run-hive-script",
            "--args",
            "-f",
            "s3://code/report.q",
            "-d",
            "DAY=2026-01-15",
        ],
    } in steps
    assert {"Jar": "command-runner.jar", "Args": ["pig", "-e", "A = LOAD 'x';"]} in steps
    assert {
        "Jar": "s3://code/job.jar",
        "MainClass": "com.example.Job",
        "Args": ["-day", "2026-01-15"],
    } in steps
    sql = [c["Sql"] for c in calls if "Sql" in c]
    assert sql == [
        "delete from orders where day = '2026-01-15'",
        "COPY orders FROM 's3://raw/orders/' IAM_ROLE default CSV",
    ]
    lost = {e.obj.id: e.lost for e in converted.entries}
    assert any("insertMode KEEP_EXISTING" in text for text in lost["Copy"])
    assert any("*password" in text for text in lost["Db"])


@pytest.mark.parametrize(
    ("schedule_type", "fields", "expression", "start", "end"),
    [
        (
            "cron",
            {
                "period": "2 hours",
                "startDateTime": "2026-01-01T00:30:00",
                "endDateTime": "2026-01-02T00:00:00",
            },
            "rate(2 hours)",
            "2026-01-01T00:30:00Z",
            "2026-01-02T00:00:00Z",
        ),
        (
            "timeseries",
            {"period": "1 week", "startDateTime": "2026-01-05T00:00:00", "occurrences": "3"},
            "rate(7 days)",
            "2026-01-12T00:00:00Z",
            "2026-01-26T00:00:01Z",
        ),
        (
            "cron",
            {"period": "1 month", "startDateTime": "2026-01-15T06:00:00"},
            "cron(0 6 15 * ? *)",
            "2026-01-15T06:00:00Z",
            None,
        ),
        (
            "cron",
            {"period": "3 months", "startDateTime": "2026-02-01T00:00:00"},
            "cron(0 0 1 2/3 ? *)",
            "2026-02-01T00:00:00Z",
            None,
        ),
        (
            "timeseries",
            {"period": "1 month", "startDateTime": "2026-01-31T02:00:00"},
            "cron(0 2 31 * ? *)",
            "2026-02-28T02:00:00Z",
            None,
        ),
        (
            "cron",
            {"period": "1 year", "startDateTime": "2026-03-01T00:00:00"},
            "cron(0 0 1 3 ? *)",
            "2026-03-01T00:00:00Z",
            None,
        ),
        (
            "cron",
            {"period": "15 minutes", "startAt": "FIRST_ACTIVATION_DATE_TIME"},
            "rate(15 minutes)",
            None,
            None,
        ),
    ],
)
def test_schedules_as_eventbridge_scheduler_requests(
    schedule_type: str, fields: dict[str, str], expression: str, start: Any, end: Any
) -> None:
    from runtime.schedules.expressions import parse_expression

    doc = {
        "objects": [
            {"id": "Default", "scheduleType": schedule_type, "schedule": {"ref": "S"}},
            SHELL,
            {"id": "S", "type": "Schedule", **fields},
        ]
    }
    request = convert_pipeline(read_pipeline(doc), "s").schedule
    assert request is not None
    assert request["ScheduleExpression"] == expression
    parse_expression(expression)  # asl schedule create takes it
    assert request.get("StartDate") == start
    assert request.get("EndDate") == end
