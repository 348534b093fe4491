"""Definitions taken from CloudFormation, SAM, CDK and Terraform files.

Each fixture under tests/data/templates/ follows the shape of a public example (SAM's
stock trader, the CloudFormation user guide, CDK's job poller, the AWS provider's
``aws_sfn_state_machine`` examples...). Every state machine in them is loaded, validated,
drawn and run offline: Task states answer from a MockConfigFile written here, or from the
local handlers in ``handlers.py`` bound to the placeholder ARNs by logical id.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from asl.graph.cli import main as graph_main
from asl.templates import TemplateError, read_definition
from asl.validate.cli import main as validate_main
from runtime.cli.exec import main as exec_main

DATA = Path(__file__).parent / "data" / "templates"
HANDLERS = DATA / "handlers.py"
TOPIC = "arn:aws:sns:us-east-1:123456789012:external"


@dataclass(frozen=True)
class Case:
    """One state machine of a fixture, and how to run it."""

    file: str
    resource: str | None
    status: str = "SUCCEEDED"
    input: Any = field(default_factory=dict)
    subs: tuple[str, ...] = ()
    #: state -> a Return value, {"Throw": ...}, or a list of them (one per invocation)
    mocks: Mapping[str, Any] = field(default_factory=dict)
    #: logical id -> handler in handlers.py; then only the states in ``mocks`` are mocked
    lambdas: Mapping[str, str] = field(default_factory=dict)
    output: Any = None
    error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.file}#{self.resource or '(only)'}"


SAM = "sam/template.yaml"
CFN = "cfn/workflows.yaml"
CFN_JSON = "cfn/hello_world.json"
CDK = "cdk.out/JobPollerStack.template.json"
TF = "terraform/main.tf"

CASES = [
    # --- SAM ---------------------------------------------------------------------------
    Case(
        SAM,
        "StockTradingStateMachine",
        lambdas={
            "StockCheckerFunction": "check_stock",
            "StockBuyerFunction": "buy",
            "StockSellerFunction": "sell",
        },
        mocks={"Record Transaction": {"SdkHttpMetadata": {"HttpStatusCode": 200}}},
        output={"SdkHttpMetadata": {"HttpStatusCode": 200}},
    ),
    Case(
        SAM,
        "CleanupStateMachine",
        lambdas={"CleanupFunction": "echo"},
        output=[{"removed": "a"}, {"removed": "b"}, {"removed": "c"}],
    ),
    Case(
        SAM,
        "ProcessingStateMachine",
        mocks={"Validate": {"id": "7"}},
        output={"id": "7"},
    ),
    Case(SAM, "ExpressLoggerStateMachine", input={"x": 1}),
    Case(
        SAM,
        "CallbackStateMachine",
        mocks={"Queue for approval": {"decision": "yes"}, "Notify": {"MessageId": "m-1"}},
        output={"MessageId": "m-1"},
    ),
    Case(
        SAM,
        "EventsStateMachine",
        mocks={"Publish": {"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0}},
    ),
    Case("sam/hello_world.yaml", None, lambdas={"HelloWorldFunction": "hello"}),
    # --- CloudFormation ------------------------------------------------------------------
    Case(
        CFN,
        "HelloWorldStateMachine",
        lambdas={"HelloFunction": "hello"},
        output={"message": "hello", "function": "HelloFunction"},
    ),
    Case(
        CFN,
        "SubWithVariablesStateMachine",
        input={"id": "1"},
        mocks={"Get": {"Item": {"pk": {"S": "1"}}}, "Transform": {"ok": True}},
        output={"ok": True},
    ),
    Case(CFN, "JoinedStateMachine", mocks={"Notify": {"MessageId": "1"}}),
    Case(
        CFN,
        "ObjectDefinitionStateMachine",
        mocks={"Charge": {"Payload": {"charged": 10}}, "Receipt": {"MessageId": "r-1"}},
        output={"MessageId": "r-1"},
    ),
    Case(
        CFN,
        "ConditionalStateMachine",
        output={"stage": "dev", "first": "ops@example.com"},
    ),
    Case(
        CFN,
        "PollingStateMachine",
        status="FAILED",
        error="JobFailed",
        subs=(f"ExternalTopicArn={TOPIC}",),
        mocks={"Submit": {"Throw": {"Error": "States.TaskFailed", "Cause": "exit 1"}}},
    ),
    Case(
        CFN,
        "ParentStateMachine",
        mocks={"Run child": {"Output": {"from": "parent"}}},
        output={"from": "parent"},
    ),
    Case(
        CFN,
        "ChildStateMachine",
        input={"parent": "p-1"},
        output={"from": "p-1", "account": "123456789012"},
    ),
    Case(CFN, "JsonataStateMachine", mocks={"Score": {"Payload": {"score": 11}}}),
    Case(
        "cfn/language_extensions.yaml",
        None,
        input={"key": "reports/today.csv"},
        mocks={"Read report": {"Throw": {"Error": "S3.NoSuchKeyException", "Cause": "none"}}},
        output={"report": "none"},
    ),
    Case(CFN_JSON, "MyStateMachine", lambdas={"MyLambdaFunction": "hello"}),
    Case(
        CFN_JSON,
        "PlainStringStateMachine",
        input={"name": "World"},
        output={"greeting": "Hello, World!"},
    ),
    Case(
        CFN_JSON,
        "WithSubstitutionsStateMachine",
        mocks={"Pay": [{"Throw": {"Error": "Busy", "Cause": ""}}, {"paid": True}]},
        output={"paid": True},
    ),
    # --- CDK -----------------------------------------------------------------------------
    Case(
        CDK,
        "StateMachine2E01A3A5",
        mocks={
            "Submit Job": {"Payload": {"guid": "g-1", "waitSeconds": 5}},
            "Get Job Status": [
                {"Payload": {"guid": "g-1", "waitSeconds": 5, "status": "RUNNING"}},
                {"Payload": {"guid": "g-1", "waitSeconds": 5, "status": "SUCCEEDED"}},
            ],
            "Get Final Job Status": {"Payload": {"status": "SUCCEEDED"}},
        },
        output={"status": "SUCCEEDED"},
    ),
    Case(
        CDK,
        "FanOutStateMachine9F8E7D6C",
        input={"orders": [1, 2]},
        lambdas={"WorkerLambda55D1E6B0": "echo"},
        mocks={"Notify": {"MessageId": "n"}, "Enqueue": {"MessageId": "q"}},
        output=[{"MessageId": "n"}, {"MessageId": "q"}],
    ),
    Case(
        CDK,
        "ExpressStateMachine11AA22BB",
        input={"a": 1},
        output={"region": "us-east-1", "account": "123456789012", "input": {"a": 1}},
    ),
    Case(
        "cdk.out/SdkStack.template.json",
        None,
        status="FAILED",
        error="TooMany",
        mocks={"Count": {"Count": 250, "ScannedCount": 250}},
    ),
    # --- Terraform -----------------------------------------------------------------------
    Case(TF, "hello_jsonencode", lambdas={"hello": "hello"}),
    Case(TF, "aws_sfn_state_machine.hello_heredoc", lambdas={"hello": "hello"}),
    Case(
        TF,
        "orders_templatefile",
        mocks={"Process": {"Payload": {"id": "o-1"}}, "Store": {}},
        output={"order": {"id": "o-1"}},
    ),
    Case(TF, "pass_file", output="World"),
    Case(
        TF,
        "from_local",
        subs=("environment=test",),
        output={"tags": {"environment": "test", "region": "us-east-1"}},
    ),
    Case(
        TF,
        "express_wait",
        mocks={"Invoke": {"Payload": {"ok": True}}},
        output=[{"ok": True}, "123456789012"],
    ),
    Case(
        "terraform/single.tf",
        None,
        input={"severity": 7, "summary": "disk full"},
        mocks={"Page": {"MessageId": "p-1"}},
        output={"MessageId": "p-1"},
    ),
]


def _tasks(states: Mapping[str, Any]) -> Iterator[str]:
    """Every Task state's name, inner Parallel and Map states included."""
    for name, state in states.items():
        if state.get("Type") == "Task":
            yield name
        for branch in state.get("Branches", []):
            yield from _tasks(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _tasks(state[key]["States"])


def _answers(mock: Any) -> dict[str, Any]:
    if isinstance(mock, list):
        return {str(i): _answer(one) for i, one in enumerate(mock)}
    return {"0-49": _answer(mock)}


def _answer(mock: Any) -> dict[str, Any]:
    return mock if isinstance(mock, dict) and "Throw" in mock else {"Return": mock}


def _mock_config(case: Case, definition: Mapping[str, Any], name: str) -> dict[str, Any]:
    mocked = dict(case.mocks)
    if not case.lambdas:
        mocked = {state: mocked.get(state, {}) for state in _tasks(definition["States"])}
    responses = {f"R{i}": _answers(mock) for i, mock in enumerate(mocked.values())}
    test_case = {state: f"R{i}" for i, state in enumerate(mocked)}
    return {
        "StateMachines": {name: {"TestCases": {"Offline": test_case}}},
        "MockedResponses": responses,
    }


def _flags(case: Case) -> list[str]:
    flags = ["--resource", case.resource] if case.resource else []
    for sub in case.subs:
        flags += ["--sub", sub]
    return flags


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_state_machine_loads_validates_graphs_and_runs(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(DATA / case.file)
    read = read_definition(path, resource=case.resource, subs=case.subs)
    assert read.resource is not None
    assert validate_main([path, *_flags(case)]) == 0, capsys.readouterr()
    assert "valid" in capsys.readouterr().out
    drawing = tmp_path / "graph.mmd"
    assert graph_main([path, *_flags(case), "-o", str(drawing)]) == 0
    assert drawing.read_text().strip()
    config = tmp_path / "MockConfigFile.json"
    config.write_text(json.dumps(_mock_config(case, read.document.value, read.resource)))
    argv = [path, *_flags(case), "--offline", "--clock", "virtual", "--no-store", "--json"]
    argv += ["--input-json", json.dumps(case.input)]
    if case.mocks or not case.lambdas:
        argv += ["--mock-config", str(config), "--test-case", "Offline"]
    for name, handler in case.lambdas.items():
        argv += ["--lambda", f"{name}={HANDLERS}:{handler}"]
    exec_main(argv)
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == case.status, result
    if case.output is not None:
        assert result["output"] == case.output
    if case.error is not None:
        assert result["error"] == case.error


def test_there_are_at_least_thirty_state_machines() -> None:
    assert len({(case.file, case.resource) for case in CASES}) >= 30


# --- how references are resolved ------------------------------------------------------


def test_a_lambda_reference_becomes_a_function_arn_named_after_the_resource() -> None:
    read = read_definition(DATA / CFN, resource="HelloWorldStateMachine")
    state = read.document.value["States"]["HelloWorld"]
    assert state["Resource"] == "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction"
    (placeholder,) = read.placeholders
    assert placeholder.reference == "HelloFunction.Arn"
    assert placeholder.kind == "AWS::Lambda::Function"


def test_references_of_other_types_take_their_own_shapes() -> None:
    sam = read_definition(DATA / SAM, resource="CallbackStateMachine").document.value
    assert sam["States"]["Queue for approval"]["Parameters"]["QueueUrl"] == (
        "https://sqs.us-east-1.amazonaws.com/123456789012/ApprovalQueue"
    )
    assert sam["States"]["Notify"]["Parameters"]["TopicArn"] == (
        "arn:aws:sns:us-east-1:123456789012:AlertTopic"
    )
    cfn = read_definition(
        DATA / CFN, resource="PollingStateMachine", subs=[f"ExternalTopicArn={TOPIC}"]
    )
    run = cfn.document.value["States"]["Run report task"]["Parameters"]
    assert run["Cluster"] == "arn:aws:ecs:us-east-1:123456789012:cluster/Cluster"
    assert run["TaskDefinition"].startswith("arn:aws:ecs:us-east-1:123456789012:task-definition/")


def test_sub_overrides_parameters_pseudo_parameters_and_references() -> None:
    read = read_definition(
        DATA / CFN,
        resource="ObjectDefinitionStateMachine",
        subs={"Stage": "prod", "AWS::Region": "eu-west-1", "ChargeFunction.Arn": "my-charge"},
    )
    charge = read.document.value["States"]["Charge"]
    assert charge["Parameters"]["FunctionName"] == "my-charge"
    assert charge["TimeoutSeconds"] == 900  # FindInMap with Stage=prod
    receipt = read.document.value["States"]["Receipt"]["Parameters"]["QueueUrl"]
    assert receipt == "https://sqs.eu-west-1.amazonaws.com/123456789012/ReceiptQueue"


def test_sub_escapes_and_definition_substitutions() -> None:
    value = read_definition(DATA / CFN, resource="SubWithVariablesStateMachine").document.value
    assert value["States"]["Transform"]["Parameters"]["note"] == "${Literal}"
    numbers = read_definition(DATA / CFN_JSON, resource="WithSubstitutionsStateMachine")
    assert numbers.document.value["States"]["Pay"]["Retry"][0]["MaxAttempts"] == 2


def test_a_missing_definition_substitution_is_reported_not_invented(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "M": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": '{"StartAt": "A", "States": {"A": {"Type": "Pass", '
                    '"Result": "${Known}-${Unknown}", "End": true}}}',
                    "DefinitionSubstitutions": {"Known": "k"},
                },
            }
        }
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    read = read_definition(path)
    assert read.document.value["States"]["A"]["Result"] == "k-${Unknown}"
    (note,) = read.notes
    assert "no substitution for ${Unknown}" in note and "--sub Unknown=VALUE" in note


def test_a_sub_that_nothing_uses_is_reported() -> None:
    read = read_definition(DATA / CFN, resource="ChildStateMachine", subs=["Stagee=prod"])
    assert read.notes == ("--sub Stagee=... was not used by this state machine",)
    assert read_definition(DATA / CFN, resource="ChildStateMachine").notes == ()


def test_conditions_pick_the_definition() -> None:
    prod = read_definition(DATA / CFN, resource="ConditionalStateMachine", subs=["Stage=prod"])
    assert list(prod.document.value["States"]) == ["Real"]


def test_terraform_typed_variables_and_data_sources() -> None:
    value = read_definition(DATA / TF, resource="express_wait", subs=["wait_seconds=9"])
    assert value.document.value["States"]["Pause"]["Seconds"] == 9
    assert [p.reference for p in value.placeholders] == [
        "aws_lambda_function.process.arn",
        "data.aws_caller_identity.current.account_id",
    ]


# --- the commands say what they invented ----------------------------------------------------


def test_exec_prints_one_line_per_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DATA / CFN)
    argv = [path, "--resource", "HelloWorldStateMachine", "--offline", "--no-store", "--json"]
    assert exec_main([*argv, "--lambda", f"HelloFunction={HANDLERS}:hello"]) == 0
    err = capsys.readouterr().err
    assert (
        "placeholder HelloFunction.Arn -> "
        "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction (AWS::Lambda::Function)"
    ) in err


def test_exec_names_the_state_machine_after_the_resource_for_mock_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        "StateMachines": {"JoinedStateMachine": {"TestCases": {"T": {"Notify": "Sent"}}}},
        "MockedResponses": {"Sent": {"0": {"Return": {"MessageId": "1"}}}},
    }
    (tmp_path / "mocks.json").write_text(json.dumps(config))
    argv = [str(DATA / CFN), "--resource", "JoinedStateMachine", "--offline", "--no-store"]
    argv += ["--mock-config", str(tmp_path / "mocks.json"), "--test-case", "T", "--json"]
    assert exec_main([*argv, "--clock", "virtual"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"MessageId": "1"}


# --- errors: one line naming the file and the place --------------------------------------


@pytest.mark.parametrize(
    ("file", "flags", "message"),
    [
        ("errors/no_state_machine.yaml", [], "no state machine in this template"),
        (
            SAM,
            [],
            "6 state machines (StockTradingStateMachine, CleanupStateMachine, "
            "ProcessingStateMachine, ExpressLoggerStateMachine, CallbackStateMachine, "
            "EventsStateMachine): choose one with --resource",
        ),
        (TF, [], "choose one with --resource"),
        (SAM, ["--resource", "Nope"], "no state machine named 'Nope' (state machines: Stock"),
        (TF, ["--resource", "nope"], "no state machine named 'nope'"),
        (
            CDK,
            ["--resource", "AssetDefinedStateMachineC0FFEE00"],
            ":99:5: the definition of AssetDefinedStateMachineC0FFEE00 is in S3 "
            "(s3://cdk-hnb659fds-assets-123456789012-us-east-1/",
        ),
        ("errors/s3_uri.yaml", [], "s3://my-artifacts/statemachine/remote.asl.json) and cannot"),
        (
            "errors/malformed_sub.yaml",
            [],
            'malformed_sub.yaml:6:25: malformed Fn::Sub: ${Fn.Arn", "End": true} is not a '
            "variable name (at /Resources/Broken/Properties/DefinitionString/Fn::Sub)",
        ),
        ("errors/unknown_ref.yaml", [], ":10:23: Fn::GetAtt of 'Missing', which is no resource"),
        (
            "errors/missing_variable.tf",
            [],
            "missing_variable.tf:5:1: aws_sfn_state_machine.needs_bucket: variable 'bucket' "
            "has no default: pass --sub bucket=VALUE",
        ),
        (CFN, ["--resource", "PollingStateMachine"], "parameter 'ExternalTopicArn' has no Default"),
        (CFN, ["--sub", "novalue"], "--sub expects KEY=VALUE"),
    ],
)
def test_template_errors_are_one_clear_line(
    file: str, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(DATA / file)
    assert validate_main([path, *flags]) == 2
    assert graph_main([path, *flags]) == 2
    assert exec_main([path, *flags, "--offline", "--no-store"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 3, err
    assert all(message in line for line in lines), err
    assert "Traceback" not in err


def test_resource_and_sub_are_refused_for_a_bare_definition(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.json"
    path.write_text('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
    with pytest.raises(TemplateError, match="apply to templates"):
        read_definition(path, resource="A")
    assert read_definition(path).resource is None


def test_a_yaml_syntax_error_in_a_template_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A:\n    Type: [unclosed\n")
    with pytest.raises(TemplateError) as raised:
        read_definition(path)
    assert raised.value.line is not None


def test_a_terraform_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text('resource "aws_sfn_state_machine" "x" {\n  definition = = 1\n}\n')
    with pytest.raises(TemplateError, match="invalid Terraform"):
        read_definition(path)


def test_a_bare_definition_does_not_import_the_template_parsers(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.json"
    path.write_text('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
    parsers = ("cfn_tools", "hcl2", "lark", "yaml")
    code = (
        "import sys; from runtime.cli import main; main(['validate', sys.argv[1]]);"
        f"print([m for m in {parsers!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


# --- more shapes: Terraform heredocs, CDK output folders, asl start -------------------------


def test_an_indented_terraform_heredoc_and_its_escapes(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(
        'resource "aws_sfn_state_machine" "indented" {\n'
        "  definition = <<-EOT\n"
        "    {\n"
        '      "StartAt": "A",\n'
        '      "States": {"A": {"Type": "Pass", "Result": "$${literal}", "End": true}}\n'
        "    }\n"
        "  EOT\n"
        "}\n"
    )
    assert read_definition(path).document.value["States"]["A"]["Result"] == "${literal}"


def test_a_terraform_function_it_cannot_evaluate_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(
        'resource "aws_sfn_state_machine" "merged" {\n'
        '  definition = jsonencode(merge({StartAt = "A"}, {States = {A = {Type = "Succeed"}}}))\n'
        "}\n"
    )
    with pytest.raises(TemplateError, match=r"main.tf:1:1: .*merged: cannot evaluate '\$\{merge"):
        read_definition(path)


def test_a_cdk_output_folder_is_searched_stack_by_stack(capsys: pytest.CaptureFixture[str]) -> None:
    folder = DATA / "cdk.out"
    only = read_definition(folder, resource="CounterStateMachineA1A2A3A4")
    assert only.resource == "CounterStateMachineA1A2A3A4"
    assert only.document.source.endswith("SdkStack.template.json#CounterStateMachineA1A2A3A4")
    qualified = read_definition(folder, resource="JobPollerStack/StateMachine2E01A3A5")
    assert qualified.document.value["StartAt"] == "Submit Job"
    assert validate_main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert "5 state machines (JobPollerStack/StateMachine2E01A3A5" in err
    assert "SdkStack/CounterStateMachineA1A2A3A4): choose one with --resource" in err
    with pytest.raises(TemplateError, match="'Nope' names no state machine"):
        read_definition(folder, resource="Nope")


def test_asl_start_stores_the_definition_resolved_from_a_template(tmp_path: Path) -> None:
    from runtime.cli.serve import start_main
    from runtime.durable.store import Store

    store = tmp_path / "store.db"
    argv = [str(DATA / TF), "--resource", "from_local", "--sub", "environment=ci"]
    assert start_main([*argv, "--store", str(store), "--name", "one"]) == 0
    with Store.open(store) as db:
        record = db.get_execution("one")
    assert record.state_machine_name == "from_local"
    tags = record.definition["States"]["Tag"]["Result"]
    assert tags == {"environment": "ci", "region": "us-east-1"}


def test_diagnostics_point_at_the_lines_the_user_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machines = tmp_path / "statemachine"
    machines.mkdir()
    for source in (DATA / "sam" / "statemachine").iterdir():
        text = source.read_text().replace('"Next": "Record Transaction"', '"Next": "Record"')
        (machines / source.name).write_text(text)
    template = tmp_path / "template.yaml"
    template.write_text((DATA / SAM).read_text().replace("Next: Store", "Next: Stor"))
    assert validate_main([str(template), "--resource", "ProcessingStateMachine"]) == 1
    out = capsys.readouterr().out
    assert f"{template}:72:13: error MISSING_TRANSITION_TARGET at /States/Validate/Next" in out
    assert "   72 |             Next: Stor" in out
    assert validate_main([str(template), "--resource", "StockTradingStateMachine"]) == 1
    out = capsys.readouterr().out
    assert f"{machines / 'stock_trader.asl.json'}:40:7: error MISSING_TRANSITION_TARGET" in out


def test_the_library_loads_a_template_with_one_state_machine() -> None:
    from runtime import load_machine, run_sync

    machine = load_machine(DATA / "terraform" / "single.tf")
    result = run_sync(machine, {"severity": 1, "summary": "fine"})
    assert result.status == "SUCCEEDED"


def test_messages_name_the_template_even_for_a_definition_uri() -> None:
    read = read_definition(DATA / SAM, resource="StockTradingStateMachine")
    assert read.document.source.endswith("statemachine/stock_trader.asl.json")
    lines = read.messages()
    assert len(lines) == 5  # three functions, the partition, the table
    assert all(line.startswith(f"{DATA / SAM}#StockTradingStateMachine: ") for line in lines)
