"""``asl test``: suites, expectations that fail honestly, suite mistakes as located lines,
sidecars, and the JUnit and JSON reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.cli import main
from runtime.testing import SuiteError, load_suite, prepare, run_prepared

DATA = Path(__file__).resolve().parent / "data"

MACHINE = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Review"}],
            "Default": "Charge",
        },
        "Review": {"Type": "Pass", "Result": "manual", "ResultPath": "$.review", "Next": "Charge"},
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "ResultSelector": {"id.$": "$.Payload.id"},
            "ResultPath": "$.charge",
            "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refused"}],
            "Assign": {"chargeId.$": "$.id"},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Refused": {"Type": "Fail", "Error": "Refused", "Cause": "the charge failed"},
    },
}
CHARGED = {"0": {"Return": {"StatusCode": 200, "Payload": {"id": "ch-1"}}}}


def suite_file(tmp_path: Path, cases: dict[str, Any], **top: Any) -> Path:
    (tmp_path / "machine.asl.json").write_text(json.dumps(MACHINE))
    doc = {"definition": "machine.asl.json", "input": {"amount": 5}, **top, "cases": cases}
    path = tmp_path / "payments.asl-test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def results(path: Path) -> list[Any]:
    return [run_prepared(p) for p in prepare([load_suite(path)])]


def test_a_passing_suite_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(
        tmp_path,
        {
            "small": {
                "input": {"amount": 5},
                "mocks": {"Charge": CHARGED},
                "expect": {
                    "status": "SUCCEEDED",
                    "output": {"amount": 5, "charge": {"id": "ch-1"}},
                    "path": ["Check", "Charge", "Done"],
                    "not_visited": ["Review", "Refused"],
                    "variables": {"chargeId": "ch-1"},
                    "retries": {"Charge": 0},
                    "events_contain": ["TaskScheduled", "TaskSucceeded", "ExecutionSucceeded"],
                },
            },
            "large": {
                "input": {"amount": 500},
                "mocks": {"Charge": CHARGED},
                "expect": {"output_contains": {"review": "manual"}, "visited": ["Review"]},
            },
        },
    )
    assert main(["test", str(path)]) == 0
    out = capsys.readouterr().out
    assert "small" in out and "large" in out and "2 passed" in out


def test_each_broken_expectation_is_a_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = suite_file(
        tmp_path,
        {
            "wrong": {
                "input": {"amount": 5},
                "mocks": {"Charge": CHARGED},
                "expect": {
                    "status": "FAILED",
                    "output": {"amount": 6},
                    "output_contains": {"charge": {"id": "ch-2"}},
                    "path": ["Check", "Review", "Charge", "Done"],
                    "visited": ["Refused"],
                    "not_visited": ["Charge"],
                    "variables": {"chargeId": "ch-9", "other": 1},
                    "retries": {"Charge": 1},
                    "events": ["ExecutionStarted"],
                    "events_contain": ["TaskFailed"],
                    "error": "X",
                    "cause": "Y",
                },
            }
        },
    )
    [result] = results(path)
    assert result.outcome == "failed"
    text = "\n".join(result.failures)
    # Every one of the twelve expectations broke, and each says where it is written.
    assert len(result.failures) == 13  # variables: two names
    for line in result.failures:
        assert line.startswith(f"{path}:"), line
    assert "/cases/wrong/expect/status: expected FAILED, got SUCCEEDED" in text
    assert '/cases/wrong/expect/output_contains/charge/id: expected "ch-2", got "ch-1"' in text
    assert "/cases/wrong/expect/path/1: expected 'Review', got 'Charge'" in text
    assert "/cases/wrong/expect/variables/other: no top-level variable 'other'" in text
    assert "/cases/wrong/expect/retries/Charge: expected 1 retries, got 0" in text
    assert main(["test", str(path)]) == 1
    assert "1 failed" in capsys.readouterr().out


def test_retries_and_catch_are_counted(tmp_path: Path) -> None:
    throttled = {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}}
    path = suite_file(
        tmp_path,
        {
            "throttled": {
                "input": {"amount": 5},
                "mocks": {"Charge": {"0-2": throttled}},
                "expect": {
                    "status": "FAILED",
                    "error": "Refused",
                    "cause": "the charge failed",
                    "retries": {"Charge": 2},
                    "path": ["Check", "Charge", "Refused"],
                },
            }
        },
    )
    [result] = results(path)
    assert result.failures == ()


@pytest.mark.parametrize(
    ("case", "top", "expected"),
    [
        (
            {"inptu": {}, "expect": {"status": "SUCCEEDED"}},
            {},
            "/cases/c/inptu: unknown key 'inptu' (did you mean 'input'?)",
        ),
        (
            {"expect": {"stauts": "SUCCEEDED"}},
            {},
            "/cases/c/expect/stauts: unknown expectation 'stauts' (did you mean 'status'?)",
        ),
        ({"expect": {"status": "OK"}}, {}, "/cases/c/expect/status: status is one of"),
        ({"expect": {"path": "Check"}}, {}, "/cases/c/expect/path: expected a list"),
        ({"input": {}}, {}, "/cases/c: no 'expect' for this case"),
        (
            {"expect": {"status": "SUCCEEDED"}, "input_file": "nowhere.json"},
            {},
            "/cases/c/input_file: no file nowhere.json",
        ),
        (
            {"expect": {"status": "SUCCEEDED"}, "test_case": "Happy"},
            {},
            "/cases/c/test_case: a test case needs 'mock_config'",
        ),
        (
            {"expect": {"status": "SUCCEEDED"}, "start_time": "yesterday"},
            {},
            "/cases/c/start_time: expected an ISO 8601 time with a zone",
        ),
        ({"expect": {}}, {"colour": "red"}, "/colour: unknown key 'colour'"),
    ],
)
def test_suite_mistakes_are_one_located_line(
    tmp_path: Path, case: dict[str, Any], top: dict[str, Any], expected: str
) -> None:
    path = suite_file(tmp_path, {"c": case}, **top)
    with pytest.raises(SuiteError) as caught:
        prepare([load_suite(path)])
    assert any(expected in line for line in caught.value.problems), caught.value.problems
    for line in caught.value.problems:
        assert line.startswith(str(path)) and "\n" not in line


@pytest.mark.parametrize(
    ("expect", "mocks", "expected"),
    [
        (
            {"path": ["Check", "Chrage"]},
            {},
            "/cases/c/expect/path/1: 'Chrage' names no state of the definition "
            "(did you mean 'Charge'?)",
        ),
        ({"not_visited": ["Nope"]}, {}, "/cases/c/expect/not_visited/0: 'Nope' names no state"),
        ({"retries": {"Chrge": 1}}, {}, "/cases/c/expect/retries/Chrge: 'Chrge' names no state"),
        (
            {"status": "SUCCEEDED"},
            {"Chrage": CHARGED},
            "no state 'Chrage' in the definition (did you mean 'Charge'?)",
        ),
        (
            {"status": "SUCCEEDED"},
            {"Charge": {"0": {"Return": 1, "Throw": {}}}},
            "/cases/c/mocks/Charge/0: needs exactly one of Return or Throw",
        ),
        ({"status": "SUCCEEDED"}, {"Review": CHARGED}, "'Review' is a Pass state"),
    ],
)
def test_names_are_checked_against_the_definition(
    tmp_path: Path, expect: dict[str, Any], mocks: dict[str, Any], expected: str
) -> None:
    case: dict[str, Any] = {"input": {"amount": 1}, "expect": expect}
    if mocks:
        case["mocks"] = mocks
    path = suite_file(tmp_path, {"c": case})
    with pytest.raises(SuiteError) as caught:
        prepare([load_suite(path)])
    assert any(expected in line for line in caught.value.problems), caught.value.problems


def test_a_suite_mistake_exits_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = suite_file(
        tmp_path,
        {
            "fine": {"mocks": {"Charge": CHARGED}, "expect": {"status": "SUCCEEDED"}},
            "typo": {"expect": {"path": ["Chek"]}},
        },
    )
    assert main(["test", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert "/cases/typo/expect/path/0: 'Chek' names no state" in captured.err
    assert "Traceback" not in captured.err


def test_a_missing_suite_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "no/such/suite.asl-test.yaml"]) == 2
    err = capsys.readouterr().err
    assert "no/such/suite.asl-test.yaml" in err and len(err.strip().splitlines()) == 1


def test_an_unmocked_task_fails_the_case_naming_the_state(tmp_path: Path) -> None:
    path = suite_file(tmp_path, {"c": {"input": {"amount": 1}, "expect": {"status": "SUCCEEDED"}}})
    [result] = results(path)
    assert result.outcome == "failed"
    assert "States.Runtime" in result.failures[0] and "Charge" in result.failures[0]


def test_a_mock_config_runs_with_its_sidecar() -> None:
    suite = load_suite(Path("samples/order_pipeline/MockConfigFile.json"))
    assert [c.name for c in suite.cases] == ["HappyPath", "PaymentDeclined"]
    assert suite.path.name == "MockConfigFile.expect.yaml"
    # The sidecar itself names the same suite.
    again = load_suite(Path("samples/order_pipeline/MockConfigFile.expect.yaml"))
    assert [c.name for c in again.cases] == ["HappyPath", "PaymentDeclined"]


def test_a_mock_config_without_sidecar_says_where_to_put_one(tmp_path: Path) -> None:
    config = tmp_path / "MockConfigFile.json"
    config.write_text(json.dumps({"StateMachines": {}, "MockedResponses": {}}))
    with pytest.raises(SuiteError, match=r"MockConfigFile\.expect\.yaml"):
        load_suite(config)


def test_sidecar_cases_must_match_the_test_cases(tmp_path: Path) -> None:
    (tmp_path / "machine.asl.json").write_text(json.dumps(MACHINE))
    config = {
        "StateMachines": {"machine": {"TestCases": {"Happy": {"Charge": "Charged"}}}},
        "MockedResponses": {"Charged": CHARGED},
    }
    (tmp_path / "MockConfigFile.json").write_text(json.dumps(config))
    sidecar = {
        "definition": "machine.asl.json",
        "cases": {"Hapy": {"expect": {"status": "SUCCEEDED"}}},
    }
    (tmp_path / "MockConfigFile.expect.yaml").write_text(yaml.safe_dump(sidecar))
    with pytest.raises(SuiteError) as caught:
        load_suite(tmp_path / "MockConfigFile.json")
    text = str(caught.value)
    assert "test case 'Happy' of MockConfigFile.json has no case" in text
    assert "/cases/Hapy: no test case 'Hapy' for machine" in text
    assert "(did you mean 'Happy'?)" in text


def test_junit_report_validates_against_the_junit_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import xmlschema

    path = suite_file(
        tmp_path,
        {
            "passes": {"mocks": {"Charge": CHARGED}, "expect": {"status": "SUCCEEDED"}},
            "fails <&> \x07": {"mocks": {"Charge": CHARGED}, "expect": {"status": "FAILED"}},
        },
    )
    junit = tmp_path / "junit.xml"
    assert main(["test", str(path), "--junit", str(junit), "--quiet"]) == 1
    schema = xmlschema.XMLSchema(str(DATA / "junit.xsd"))
    schema.validate(str(junit))
    doc = schema.to_dict(str(junit))
    [suite] = doc["testsuite"]
    assert (suite["@tests"], suite["@failures"], suite["@errors"]) == (2, 1, 0)
    failed = [case for case in suite["testcase"] if "failure" in case]
    assert [case["@name"] for case in failed] == ["fails <&> \ufffd"]
    assert "expected FAILED, got SUCCEEDED" in failed[0]["failure"]["@message"]


def test_the_schema_is_not_a_rubber_stamp() -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(str(DATA / "junit.xsd"))
    assert not schema.is_valid("<testsuites><testsuite name='x'/></testsuites>")
    assert not schema.is_valid("<testsuites><testcase name='x'/></testsuites>")


def test_json_report_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(
        tmp_path, {"c": {"mocks": {"Charge": CHARGED}, "expect": {"status": "SUCCEEDED"}}}
    )
    assert main(["test", str(path), "--json", "-", "--coverage"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"] == {"passed": 1, "failed": 0, "error": 0}
    [case] = doc["cases"]
    assert (case["case"], case["outcome"], case["status"]) == ("c", "passed", "SUCCEEDED")
    [coverage] = doc["coverage"]
    assert coverage["covered"] < coverage["total"]


def test_k_selects_cases_and_names_none_as_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = suite_file(
        tmp_path,
        {
            "good": {"mocks": {"Charge": CHARGED}, "expect": {"status": "SUCCEEDED"}},
            "bad": {"mocks": {"Charge": CHARGED}, "expect": {"status": "FAILED"}},
        },
    )
    assert main(["test", str(path), "-k", "good"]) == 0
    assert main(["test", str(path), "-k", "zzz"]) == 2
    assert "no case name contains it" in capsys.readouterr().err


def test_local_functions_run_from_the_suite_folder(tmp_path: Path) -> None:
    (tmp_path / "charge.py").write_text(
        "def handler(event, context):\n    return {'id': 'local-' + str(event['amount'])}\n"
    )
    path = suite_file(
        tmp_path,
        {
            "c": {
                "input": {"amount": 7},
                "expect": {"output_contains": {"charge": {"id": "local-7"}}},
            }
        },
        functions={"charge": "charge.py:handler"},
    )
    [result] = results(path)
    assert result.failures == ()


def test_a_function_binding_no_task_uses_is_a_suite_error(tmp_path: Path) -> None:
    (tmp_path / "charge.py").write_text("def handler(event, context):\n    return {}\n")
    path = suite_file(
        tmp_path,
        {"c": {"expect": {"status": "SUCCEEDED"}}},
        functions={"chrage": "charge.py:handler"},
    )
    with pytest.raises(SuiteError, match=r"/functions: chrage=.*no Task state calls"):
        prepare([load_suite(path)])


def test_templates_with_resource_and_subs(tmp_path: Path) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Payments": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "Definition": {
                        "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "Result": "${Greeting}", "End": True}},
                    },
                    "DefinitionSubstitutions": {"Greeting": "hello"},
                },
            }
        },
    }
    (tmp_path / "template.json").write_text(json.dumps(template))
    doc = {
        "definition": "template.json",
        "resource": "Payments",
        "subs": {"Greeting": "bonjour"},
        "cases": {"c": {"expect": {"output": "bonjour"}}},
    }
    path = tmp_path / "t.asl-test.yaml"
    path.write_text(yaml.safe_dump(doc))
    [result] = results(path)
    assert result.failures == ()
    assert prepare([load_suite(path)])[0].label.endswith("template.json#Payments")


PUBLISH = {
    "StartAt": "Publish",
    "States": {
        "Publish": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn.$": "$.topic", "Message": "hi"},
            "End": True,
        }
    },
}


@pytest.fixture
def moto_sns(monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("sns", region_name="us-east-1").create_topic(Name="news")["TopicArn"]


def test_aws_only_when_allowed(tmp_path: Path, moto_sns: str) -> None:
    (tmp_path / "publish.asl.json").write_text(json.dumps(PUBLISH))
    doc = {
        "definition": "publish.asl.json",
        "input": {"topic": moto_sns},
        "cases": {
            "refused": {"expect": {"status": "SUCCEEDED"}},
            "allowed": {"allow_aws": True, "expect": {"output_contains": {}}},
        },
    }
    path = tmp_path / "aws.asl-test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    refused, allowed = results(path)
    assert refused.outcome == "failed" and "'Publish'" in refused.failures[0]
    assert allowed.failures == () and "MessageId" in allowed.result.output
    # asl test --allow-aws opens AWS to every case.
    again = run_prepared(prepare([load_suite(path)])[0], allow_aws=True)
    assert again.case.name == "refused" and again.failures == ()


def test_every_suite_file_is_checked_before_exiting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.asl-test.yaml"
    bad.write_text("cases: {c: {expect: {status: SUCCEEDED}, colour: red}}\n")
    typo = suite_file(tmp_path, {"t": {"expect": {"path": ["Chek"]}}})
    assert main(["test", str(bad), str(typo), "nowhere.yaml"]) == 2
    err = capsys.readouterr().err
    assert "/cases/c/colour: unknown key" in err
    assert "'Chek' names no state" in err
    assert "nowhere.yaml" in err


def test_template_placeholders_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Flow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "Definition": {
                        "StartAt": "P",
                        "States": {
                            "P": {
                                "Type": "Pass",
                                "Result": {"fn": {"Fn::GetAtt": ["Fn", "Arn"]}},
                                "End": True,
                            }
                        },
                    }
                },
            },
        }
    }
    (tmp_path / "template.json").write_text(json.dumps(template))
    doc = {"definition": "template.json", "cases": {"c": {"expect": {"status": "SUCCEEDED"}}}}
    path = tmp_path / "t.asl-test.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["test", str(path), "--quiet"]) == 0
    assert "placeholder" in capsys.readouterr().err


def test_mocks_may_name_a_response_of_the_mock_config(tmp_path: Path) -> None:
    config = {
        "StateMachines": {"machine": {"TestCases": {}}},
        "MockedResponses": {"Charged": CHARGED},
    }
    (tmp_path / "MockConfigFile.json").write_text(json.dumps(config))
    path = suite_file(
        tmp_path,
        {
            "named": {"mocks": {"Charge": "Charged"}, "expect": {"status": "SUCCEEDED"}},
            "typo": {"mocks": {"Charge": "Chargd"}, "expect": {"status": "SUCCEEDED"}},
        },
        mock_config="MockConfigFile.json",
    )
    with pytest.raises(SuiteError) as caught:
        prepare([load_suite(path)])
    assert caught.value.problems == (
        f"{path}:13:7: /cases/typo/mocks/Charge: no mocked response 'Chargd' "
        "(did you mean 'Charged'?)",
    )
    text = path.read_text().replace("Chargd", "Charged")
    path.write_text(text)
    assert [r.outcome for r in results(path)] == ["passed", "passed"]
