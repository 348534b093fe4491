"""``asl mock init``: generated MockConfigFiles load strictly and every test case runs.

The samples and the template fixtures (tests/data/templates, the shapes of public SAM,
CloudFormation, CDK and Terraform examples) each get a generated file; each test case in
it is run with ``asl exec --mock-config OUT --test-case NAME`` and must end SUCCEEDED, or
FAILED at a Fail state when the path it tests (a Catch, a Choice outcome) ends there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_templates import CASES, DATA

from asl.choice import compile_choice_rule
from asl.graph.cli import main as graph_main
from asl.templates import read_definition
from asl.validate.cli import main as validate_main
from runtime import MockConfig, load_machine, run_sync
from runtime.cli import main as asl
from runtime.cli.exec import main as exec_main
from runtime.testing.mockinit import generate
from runtime.testing.mockinit.responses import answer_for
from runtime.testing.mockinit.rules import error_for, witness

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _init(
    argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], str]:
    """Run ``asl mock init`` into ``out``; the file and the report on stderr."""
    assert asl(["mock", "init", *argv, "--out", str(out)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    MockConfig.load(out)  # the strict loader takes it unchanged
    return json.loads(out.read_text()), err


def _run_each(
    definition: str, flags: list[str], config: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, dict[str, Any]]:
    """Each test case of ``config`` through ``asl exec --json``: name -> result."""
    cases = json.loads(config.read_text())["StateMachines"][name]["TestCases"]
    results = {}
    for case in cases:
        argv = [definition, *flags, "--mock-config", str(config), "--test-case", case]
        code = exec_main([*argv, "--offline", "--clock", "virtual", "--no-store", "--json"])
        result = json.loads(capsys.readouterr().out)
        assert code == (0 if result["status"] == "SUCCEEDED" else 1)
        results[case] = result
    return results


def _ends_as_designed(result: dict[str, Any]) -> bool:
    """SUCCEEDED, or FAILED by a Fail state (never a mock or runtime error)."""
    if result["status"] == "SUCCEEDED":
        return True
    events = result["events"]
    return (
        result["status"] == "FAILED"
        and result["error"] not in ("States.Runtime", "States.QueryEvaluationError")
        and events[-2:] == ["FailStateEntered", "ExecutionFailed"]
    )


# -- the samples -------------------------------------------------------------------------------

#: The test cases each sample's file must have (more may be generated).
SAMPLE_CASES = {
    "batch_notify": {"HappyPath", "RunJobCaught", "PlanJobRetried"},
    "nightly_report": {"HappyPath", "FetchMetricsRetried"},
    "order_pipeline": {
        "HappyPath",
        "FulfilOrderCaught1",
        "FulfilOrderCaught2",
        "ChargePaymentRetried",
    },
    "sagemaker_train_transform": {
        "HappyPath",
        "GenerateDatasetCaught",
        "TrainModelCaught",
        "CreateModelCaught",
        "ScoreTestSetCaught",
        "EvaluateModelCaught",
        "TrainModelRetried",
    },
    "sagemaker_tune_best": {"HappyPath", "IsTheBestModelGoodEnoughDefault", "TuneRetried"},
}


@pytest.mark.parametrize("sample", sorted(SAMPLE_CASES))
def test_each_sample_gets_a_file_whose_every_test_case_runs(
    sample: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = SAMPLES / sample
    definition = str(folder / "machine.asl.json")
    flags = ["--input", str(folder / "input.json")]
    out = tmp_path / "MockConfigFile.json"
    document, report = _init([definition, *flags], out, capsys)
    cases = document["StateMachines"]["machine"]["TestCases"]
    assert SAMPLE_CASES[sample] <= set(cases), report
    results = _run_each(definition, flags, out, "machine", capsys)
    assert results["HappyPath"]["status"] == "SUCCEEDED"
    for name, result in results.items():
        assert _ends_as_designed(result), (name, result)
        ending = "SUCCEEDED" if result["status"] == "SUCCEEDED" else "FAILED at"
        assert f"  {name}: " in report and ending in report


def test_a_catch_case_throws_through_the_retries_and_reaches_the_catcher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = SAMPLES / "batch_notify"
    out = tmp_path / "mocks.json"
    argv = [str(folder / "machine.asl.json"), "--input", str(folder / "input.json")]
    document, _ = _init(argv, out, capsys)
    caught = document["StateMachines"]["machine"]["TestCases"]["RunJobCaught"]
    assert document["MockedResponses"][caught["RunJob"]] == {
        "0": {
            "Throw": {
                "Error": "States.TaskFailed",
                "Cause": "The mock of 'RunJob' throws States.TaskFailed.",
            }
        }
    }
    retried = document["StateMachines"]["machine"]["TestCases"]["PlanJobRetried"]
    answers = document["MockedResponses"][retried["PlanJob"]]
    assert list(answers) == ["0", "1"]
    assert answers["0"]["Throw"]["Error"] == "Lambda.ServiceException"
    mocks = MockConfig.load(out).test_case("RunJobCaught", "machine")
    payload = json.loads((folder / "input.json").read_text())
    result = run_sync(folder / "machine.asl.json", payload, mocks=mocks)
    entered = [e.details["name"] for e in result.history if e.type.endswith("StateEntered")]
    assert entered == ["PlanJob", "RunJob", "ExplainFailure", "NotifyFailure", "JobFailed"]


# -- the template fixtures: at least 30 state machines ----------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_template_state_machine_loads_validates_graphs_and_runs_generated_mocks(
    case: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(DATA / case.file)
    flags = ["--resource", case.resource] if case.resource else []
    for sub in case.subs:
        flags += ["--sub", sub]
    read = read_definition(path, resource=case.resource, subs=case.subs)
    assert read.resource is not None
    assert validate_main([path, *flags]) == 0, capsys.readouterr()
    drawing = tmp_path / "graph.mmd"
    assert graph_main([path, *flags, "-o", str(drawing)]) == 0
    assert drawing.read_text().strip()
    capsys.readouterr()
    out = tmp_path / "MockConfigFile.json"
    given_input = ["--input-json", json.dumps(case.input)]
    document, _ = _init([path, *flags, *given_input], out, capsys)
    assert list(document["StateMachines"]) == [read.resource]
    results = _run_each(path, [*flags, *given_input], out, read.resource, capsys)
    assert results["HappyPath"]["status"] == "SUCCEEDED", results["HappyPath"]
    for name, result in results.items():
        assert _ends_as_designed(result), (name, result)


def test_thirty_template_state_machines_are_covered() -> None:
    assert len({(case.file, case.resource) for case in CASES}) >= 30


def test_a_polling_loop_gets_a_test_case_that_goes_round_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(DATA / "cdk.out/JobPollerStack.template.json")
    out = tmp_path / "mocks.json"
    document, _ = _init([path, "--resource", "StateMachine2E01A3A5"], out, capsys)
    cases = document["StateMachines"]["StateMachine2E01A3A5"]["TestCases"]
    looped = cases["JobCompleteDefault"]["Get Job Status"]
    answers = document["MockedResponses"][looped]
    assert list(answers) == ["0", "1"]  # once round the Wait loop, then out of it
    assert answers["0"] != answers["1"]


# -- the pieces --------------------------------------------------------------------------------


def test_lambda_invoke_answers_with_its_envelope() -> None:
    value = answer_for("arn:aws:states:::lambda:invoke").value
    assert list(value) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert value["StatusCode"] == 200 and value["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_sync_jobs_answer_with_the_finished_job() -> None:
    batch = answer_for("arn:aws:states:::batch:submitJob.sync").value
    assert batch["Status"] == "SUCCEEDED" and isinstance(batch["Attempts"], list)
    training = answer_for("arn:aws:states:::sagemaker:createTrainingJob.sync").value
    assert training["TrainingJobStatus"] == "Completed"
    assert isinstance(training["CreationTime"], int)  # epoch milliseconds
    child = answer_for("arn:aws:states:::states:startExecution.sync:2").value
    assert child["Status"] == "SUCCEEDED" and child["Output"] == {}


def test_sdk_integrations_answer_with_the_operation_output() -> None:
    scan = answer_for("arn:aws:states:::aws-sdk:dynamodb:scan").value
    assert scan["Items"] == [] and scan["Count"] == 0
    head = answer_for("arn:aws:states:::aws-sdk:s3:headObject").value
    assert head["LastModified"] == "2026-01-01T00:00:00Z"  # ISO text, as the SDK prints it
    assert answer_for("arn:aws:states:::sns:publish").value.keys() >= {"MessageId"}
    assert answer_for("arn:aws:states:::sqs:sendMessage.waitForTaskToken").value == {}


NUMERIC = ["NumericEquals", "NumericLessThan", "NumericGreaterThan"]
NUMERIC += ["NumericLessThanEquals", "NumericGreaterThanEquals"]
STRING = ["StringEquals", "StringLessThan", "StringGreaterThan"]
STRING += ["StringLessThanEquals", "StringGreaterThanEquals"]


@given(
    st.one_of(
        st.tuples(st.sampled_from(NUMERIC), st.integers(-1000, 1000)),
        st.tuples(st.sampled_from(STRING), st.text(max_size=5)),
        st.tuples(st.just("BooleanEquals"), st.booleans()),
        st.tuples(st.just("StringMatches"), st.from_regex(r"[a-z*]{0,5}", fullmatch=True)),
    ),
    st.booleans(),
    st.booleans(),
)
def test_a_witness_makes_the_rule_evaluate_as_wanted(
    test: tuple[str, Any], negated: bool, want: bool
) -> None:
    operator, operand = test
    rule: dict[str, Any] = {"Variable": "$.a.b", operator: operand}
    if negated:
        rule = {"Not": rule}
    found = witness(rule, want)
    if found is None:  # e.g. nothing sorts below ""
        return
    ((variable, value),) = found
    assert variable == "$.a.b"
    assert compile_choice_rule(rule).evaluate({"a": {"b": value}}, {}, {}) is want


def test_catch_errors_skip_what_an_earlier_catcher_takes() -> None:
    earlier = [{"ErrorEquals": ["States.TaskFailed"]}]
    assert error_for(["States.ALL"], earlier) == "States.Timeout"
    assert error_for(["Custom.Error", "States.ALL"], []) == "Custom.Error"
    assert error_for(["States.ALL"], [{"ErrorEquals": ["States.ALL"]}]) is None


def test_choice_outcomes_are_forced_through_result_selector_and_result_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "check", "Payload.$": "$"},
                "ResultSelector": {"verdict.$": "$.Payload.verdict", "score.$": "$.Payload.n"},
                "ResultPath": "$.check",
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.check.verdict", "StringEquals": "ok", "Next": "Done"},
                    {
                        "And": [
                            {"Variable": "$.check.score", "NumericGreaterThan": 10},
                            {"Not": {"Variable": "$.check.verdict", "StringEquals": "ok"}},
                        ],
                        "Next": "Review",
                    },
                ],
                "Default": "Rejected",
            },
            "Review": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Rejected": {"Type": "Fail", "Error": "Rejected"},
        },
    }
    made = generate(load_machine(definition), {}, "M")
    outcomes = {case.name: case.path for case in made.cases}
    assert outcomes["HappyPath"][-1] == "Done"
    assert "Review" in outcomes["RouteRule2"]
    assert outcomes["RouteDefault"][-1] == "Rejected"
    assert made.notes == ()
    payload = made.document["MockedResponses"]
    values = [answers["0"]["Return"]["Payload"] for answers in payload.values()]
    assert {"verdict": "ok-other", "n": 11} in values


def test_an_outcome_that_depends_on_the_input_is_reported_not_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = SAMPLES / "order_pipeline"
    argv = [str(folder / "machine.asl.json"), "--input", str(folder / "input.json")]
    _, report = _init(argv, tmp_path / "m.json", capsys)
    assert "not tested: 'ValidateOrder' -> 'RejectOrder'" in report


# -- the command -------------------------------------------------------------------------------


def test_stdout_and_the_state_machine_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "flow.asl.json"
    definition.write_text(
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )
    assert asl(["mock", "init", str(definition)]) == 0
    assert list(json.loads(capsys.readouterr().out)["StateMachines"]) == ["flow"]
    assert asl(["mock", "init", str(definition), "--state-machine", "Other"]) == 0
    assert list(json.loads(capsys.readouterr().out)["StateMachines"]) == ["Other"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mock", "inti"], "unknown action 'inti' (did you mean 'init'?)"),
        (["mock"], "asl mock: name the action: asl mock init DEFINITION"),
        (["mock", "init", "x.json", "--outt", "y"], "unrecognized arguments: --outt"),
        (["mock", "init", "{missing}"], "No such file or directory"),
        (["mock", "init", "{bad}"], "/States/A/Type: 'Type' must be one of"),
        (["mock", "init", "{ok}", "--force"], "--force replaces an --out file; there is no --out"),
        (["mock", "init", "{ok}", "--out", "{ok}"], "the file exists (--force replaces it)"),
        (["mock", "init", "{ok}", "--input-json", "{"], "--input-json: cannot read the input"),
        (["mock", "init", str(DATA / "sam/template.yaml")], "choose one with --resource"),
    ],
)
def test_mistakes_are_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = tmp_path / "ok.asl.json"
    ok.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    bad = tmp_path / "bad.asl.json"
    bad.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Wat", "End": True}}}))
    names = {"{ok}": str(ok), "{bad}": str(bad), "{missing}": str(tmp_path / "missing.json")}
    argv = [names.get(arg, arg) for arg in argv]
    assert asl(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err


PAGED_SCAN = {
    "StartAt": "Seed",
    "States": {
        "Seed": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:scan",
            "Parameters": {"TableName": "records"},
            "ResultPath": "$.scan",
            "Next": "HasItems",
        },
        "HasItems": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.scan.Count", "NumericGreaterThan": 0, "Next": "ForEach"}],
            "Default": "Empty",
        },
        "Empty": {"Type": "Succeed"},
        "ForEach": {
            "Type": "Map",
            "ItemsPath": "$.scan.Items",
            "ItemProcessor": {
                "StartAt": "Send",
                "States": {
                    "Send": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$.message.S"},
                        "End": True,
                    }
                },
            },
            "ResultPath": None,
            "Next": "More",
        },
        "More": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.scan.LastEvaluatedKey", "IsPresent": True, "Next": "Seed"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_a_paged_scan_gets_items_for_its_map_and_one_more_page() -> None:
    made = generate(load_machine(PAGED_SCAN), {}, "M")
    paths = {case.name: case.path for case in made.cases}
    assert paths["HappyPath"] == ("Seed", "HasItems", "Empty")  # no page marker: no loop
    assert "Send" in paths["HasItemsRule1"]  # the Map got an item, with the member it reads
    assert paths["MoreRule1"].count("Seed") == 2  # a second page, once
    assert made.notes == ()
    config = MockConfig.parse(made.document)
    result = run_sync(PAGED_SCAN, {}, mocks=config.test_case("HasItemsRule1", "M"))
    assert result.succeeded


def test_is_present_false_is_forced_by_leaving_the_member_out() -> None:
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "t", "Key": {"pk": {"S": "1"}}},
                "ResultPath": "$.got",
                "Next": "Found?",
            },
            "Found?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.got.Item", "IsPresent": False, "Next": "Missing"},
                    {"Variable": "$.got.Item.status.S", "StringMatches": "act*", "Next": "On"},
                ],
                "Default": "Off",
            },
            "Missing": {"Type": "Fail", "Error": "NotFound"},
            "On": {"Type": "Succeed"},
            "Off": {"Type": "Succeed"},
        },
    }
    made = generate(load_machine(definition), {}, "M")
    ends = {case.path[-1]: case for case in made.cases}
    assert set(ends) == {"Missing", "On", "Off"}
    assert ends["Missing"].status == "FAILED" and ends["Missing"].error == "NotFound"
    returns = [a["0"]["Return"] for a in made.document["MockedResponses"].values()]
    assert any("Item" not in value for value in returns)
    assert any(value.get("Item", {}).get("status") == {"S": "actx"} for value in returns)


#: A Map whose ItemSelector reads the item, a Choice inside it, a Parallel with a Catch
#: whose branch Task has its own, a JSONPath Assign read by the catcher's path.
NESTED = {
    "StartAt": "Load",
    "States": {
        "Load": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "load", "Payload.$": "$"},
            "ResultSelector": {"orders.$": "$.Payload.orders", "region.$": "$.Payload.region"},
            "ResultPath": "$.loaded",
            "Assign": {"region.$": "$.region"},
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.loaded.orders",
            "ItemSelector": {"order.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
            "ItemProcessor": {
                "StartAt": "Kind",
                "States": {
                    "Kind": {
                        "Type": "Choice",
                        "Choices": [
                            {
                                "Variable": "$.order.express",
                                "BooleanEquals": True,
                                "Next": "Express",
                            }
                        ],
                        "Default": "Standard",
                    },
                    "Express": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$.order.id"},
                        "End": True,
                    },
                    "Standard": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                        "Parameters": {"Bucket": "b", "Key.$": "$.order.id", "Body.$": "$"},
                        "End": True,
                    },
                },
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Report"}],
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Notify",
                    "States": {
                        "Notify": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sns:publish",
                            "Parameters": {"TopicArn": "t", "Message": "m"},
                            "Catch": [
                                {"ErrorEquals": ["SNS.InvalidParameterException"], "Next": "Ignore"}
                            ],
                            "End": True,
                        },
                        "Ignore": {"Type": "Pass", "End": True},
                    },
                },
                {
                    "StartAt": "Audit",
                    "States": {
                        "Audit": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::events:putEvents",
                            "Parameters": {
                                "Entries": [{"Detail": {}, "DetailType": "x", "Source": "s"}]
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Report"}],
            "Next": "Done",
        },
        "Report": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "t", "Message.$": "States.Format('failed in {}', $region)"},
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "OrderBatchFailed"},
        "Done": {"Type": "Succeed"},
    },
}


def test_values_reach_states_inside_maps_and_parallels() -> None:
    made = generate(load_machine(NESTED), {}, "M")
    cases = {case.name: case for case in made.cases}
    assert set(cases) == {"HappyPath", "EachCaught", "NotifyCaught", "BothCaught", "KindDefault"}
    assert "Express" in cases["HappyPath"].path  # the item's express flag was set
    assert "Standard" in cases["KindDefault"].path
    assert cases["NotifyCaught"].status == "SUCCEEDED" and "Ignore" in cases["NotifyCaught"].path
    for name in ("EachCaught", "BothCaught"):
        assert (cases[name].status, cases[name].error) == ("FAILED", "OrderBatchFailed")
        assert cases[name].path[-2:] == ("Report", "Failed")
    assert made.notes == ()


def _distributed(writer: bool) -> dict[str, Any]:
    """A Distributed Map reading items from S3, optionally writing its results there."""
    process: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": "in", "Key": "items.json"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Handle",
            "States": {
                "Handle": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "f", "Payload": {"id.$": "$.id"}},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        },
        "End": True,
    }
    if writer:
        process["ResultWriter"] = {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "runs"},
        }
    return {"StartAt": "Process", "States": {"Process": process}}


def test_a_distributed_map_gets_its_item_reader_mocked_with_the_members_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "dmap.asl.json"
    definition.write_text(json.dumps(_distributed(writer=False)))
    document, _ = _init([str(definition)], tmp_path / "m.json", capsys)
    happy = document["StateMachines"]["dmap"]["TestCases"]["HappyPath"]
    assert set(happy) == {"Process", "Handle"}
    assert document["MockedResponses"][happy["Process"]] == {"0": {"Return": [{"id": "id"}]}}
    results = _run_each(str(definition), [], tmp_path / "m.json", "dmap", capsys)
    assert results["HappyPath"]["status"] == "SUCCEEDED"


def test_a_result_writer_runs_on_a_copy_of_the_bucket_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "dmap.asl.json"
    definition.write_text(json.dumps(_distributed(writer=True)))
    assert asl(["mock", "init", str(definition)]) == 1
    assert "(--bucket NAME=DIR)" in capsys.readouterr().err  # said, and nothing written
    bucket = tmp_path / "out"
    bucket.mkdir()
    flags = ["--bucket", f"out={bucket}"]
    _init([str(definition), *flags], tmp_path / "m.json", capsys)
    assert list(bucket.iterdir()) == []  # the generator's runs wrote to a copy
    results = _run_each(str(definition), flags, tmp_path / "m.json", "dmap", capsys)
    assert results["HappyPath"]["status"] == "SUCCEEDED"
    assert list(bucket.iterdir())  # the user's run writes its results


SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    "sample", sorted(p.name for p in SAMPLES_DIR.iterdir() if (p / "machine.asl.json").exists())
)
def test_the_generated_file_and_its_expectations_pass_asl_test_unedited(
    sample: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli import main as asl

    folder = SAMPLES_DIR / sample
    given = ["--input", str(folder / "input.json")] if (folder / "input.json").exists() else []
    out = tmp_path / "MockConfigFile.json"
    code = asl(
        [
            "mock",
            "init",
            str(folder / "machine.asl.json"),
            *given,
            "--out",
            str(out),
            "--expectations",
        ]
    )
    assert code == 0, capsys.readouterr().err
    sidecar = tmp_path / "MockConfigFile.expect.yaml"
    assert sidecar.exists()
    capsys.readouterr()
    assert asl(["test", str(out), "--quiet", "--json", "-"]) == 0, capsys.readouterr()
    report = json.loads(capsys.readouterr().out)
    cases = json.loads(out.read_text())["StateMachines"]["machine"]["TestCases"]
    # Every generated test case ran under asl test and met what its run showed.
    assert report["totals"] == {"passed": len(cases), "failed": 0, "error": 0}
    assert {c["case"] for c in report["cases"]} == set(cases)
