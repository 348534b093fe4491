"""HTTP Tasks (``arn:aws:states:::http:invoke``) against a local HTTP server on 127.0.0.1,
and TestState's TRACE level showing their request and response."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest

from runtime.adapters import Services
from runtime.adapters.http import Connection, build_request, load_connections
from runtime.engine.errors import TaskFailure
from runtime.testing.teststate import run_test_state

BASIC = "arn:aws:events:us-east-1:123456789012:connection/Basic/1"
KEYED = "arn:aws:events:us-east-1:123456789012:connection/Keyed/2"
CONNECTIONS = {
    BASIC: {
        "AuthorizationType": "BASIC",
        "AuthParameters": {
            "BasicAuthParameters": {"Username": "ana", "Password": "s3cret"},
            "InvocationHttpParameters": {
                "HeaderParameters": [{"Key": "X-Tenant", "Value": "t-42", "IsValueSecret": True}],
                "QueryStringParameters": [{"Key": "v", "Value": "2", "IsValueSecret": False}],
            },
        },
    },
    KEYED: {
        "AuthorizationType": "API_KEY",
        "AuthParameters": {
            "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k1"}
        },
    },
}
CONNECTED = {name: Connection.parse(name, value, "test") for name, value in CONNECTIONS.items()}


class Recorder(BaseHTTPRequestHandler):
    """Answers by path: /json (200, JSON), /text (200, text), /missing (404, JSON), and
    records every request (method, path, headers, body)."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": body.decode(),
            }
        )
        path = urllib.parse.urlsplit(self.path).path
        status, kind, payload = {
            "/json": (200, "application/json", json.dumps({"ok": True, "n": [1, 2]})),
            "/text": (200, "text/plain", "plain words"),
            "/missing": (404, "application/json", json.dumps({"message": "no such thing"})),
        }.get(path, (500, "text/plain", "unexpected path"))
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def task(url: str, **parameters: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": url,
            "Method": "GET",
            "Authentication": {"ConnectionArn": BASIC},
            **parameters,
        },
        "End": True,
    }


def run_machine(state: dict[str, Any], connections: Any = CONNECTED) -> Any:
    from runtime.api import run

    services = Services.create(connections=connections)
    machine = {"StartAt": "Call", "States": {"Call": state}}
    return anyio.run(lambda: run(machine, {}, services=services))


# -- the request ------------------------------------------------------------------------


def test_basic_connection_headers_and_query_merge_over_the_task() -> None:
    parameters = {
        "ApiEndpoint": "https://api.example.com/v1/items?page=1",
        "Method": "POST",
        "Headers": {"X-Tenant": "mine", "Accept": "application/json"},
        "QueryParameters": {"q": "a b", "v": "1"},
        "RequestBody": {"name": "x"},
    }
    request = build_request(parameters, CONNECTED[BASIC], "eu-west-1")
    auth = "Basic " + base64.b64encode(b"ana:s3cret").decode()
    assert request.headers["Authorization"] == auth
    assert request.headers["X-Tenant"] == "t-42"  # the connection's value wins
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Range"] == "bytes=0-262144"
    assert request.headers["User-Agent"] == "Amazon|StepFunctions|HttpInvoke|eu-west-1"
    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert request.url == "https://api.example.com/v1/items?page=1&q=a+b&v=2"
    assert json.loads(request.body or b"") == {"name": "x"}
    assert {auth, "t-42"} <= request.secrets and "2" not in request.secrets


@pytest.mark.parametrize(
    ("array_format", "encoded"),
    [
        ("INDICES", "a%5B0%5D=x&a%5B1%5D=y&n=1"),
        ("BRACKETS", "a%5B%5D=x&a%5B%5D=y&n=1"),
        ("REPEAT", "a=x&a=y&n=1"),
        ("COMMAS", "a=x%2Cy&n=1"),
    ],
)
def test_url_encoded_bodies_write_arrays_as_asked(array_format: str, encoded: str) -> None:
    transform = {
        "RequestBodyEncoding": "URL_ENCODED",
        "RequestEncodingOptions": {"ArrayFormat": array_format},
    }
    parameters = {
        "ApiEndpoint": "https://api.example.com",
        "Method": "POST",
        "RequestBody": {"a": ["x", "y"], "n": 1},
        "Transform": transform,
    }
    request = build_request(parameters, CONNECTED[KEYED], "us-east-1")
    assert request.body == encoded.encode()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["x-api-key"] == "k1"


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"Method": "GET"}, "ApiEndpoint"),
        ({"ApiEndpoint": "ftp://h/x", "Method": "GET"}, "not an http(s) URL"),
        ({"ApiEndpoint": "https://h", "Method": "FETCH"}, "Method must be one of"),
        ({"ApiEndpoint": "https://h", "Method": "GET", "Headers": {"Host": "x"}}, "'Host'"),
        ({"ApiEndpoint": "https://h", "Method": "GET", "Headers": {"X-Amz-Date": "x"}}, "X-Amz"),
        (
            {
                "ApiEndpoint": "https://h",
                "Method": "GET",
                "Transform": {"RequestBodyEncoding": "Z"},
            },
            "RequestBodyEncoding",
        ),
    ],
)
def test_bad_parameters_fail_the_task_naming_the_field(
    parameters: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TaskFailure) as caught:
        build_request(parameters, None, "us-east-1")
    assert caught.value.error == "States.Runtime" and fragment in str(caught.value.cause)


def test_the_connections_file_is_checked_naming_file_and_connection(tmp_path: Path) -> None:
    good = tmp_path / "connections.json"
    good.write_text(json.dumps(CONNECTIONS))
    assert set(load_connections(good)) == {BASIC, KEYED}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({KEYED: {"AuthorizationType": "API_KEY", "AuthParameters": {}}}))
    with pytest.raises(ValueError, match=r"bad\.json: connection .*Keyed.* lacks ApiKeyName"):
        load_connections(bad)
    with pytest.raises(ValueError, match="AuthorizationType must be"):
        Connection.parse(KEYED, {"AuthorizationType": "DIGEST"}, "x.json")


# -- executions -------------------------------------------------------------------------


def test_an_http_task_returns_aws_response_shape(server: str) -> None:
    result = run_machine(task(f"{server}/json", QueryParameters={"id": "7"}))
    assert result.status == "SUCCEEDED", result.cause
    out = result.output
    assert (out["StatusCode"], out["StatusText"]) == (200, "OK")
    assert out["ResponseBody"] == {"ok": True, "n": [1, 2]}
    assert out["Headers"]["Set-Cookie"] == ["a=1", "b=2"]
    (seen,) = Recorder.seen
    assert seen["path"] == "/json?id=7&v=2"
    assert seen["headers"]["X-Tenant"] == "t-42"
    assert seen["headers"]["Authorization"].startswith("Basic ")


def test_a_text_response_stays_text_and_a_body_is_sent(server: str) -> None:
    state = task(f"{server}/text", Method="PUT", RequestBody={"k": [1]})
    result = run_machine(state)
    assert result.output["ResponseBody"] == "plain words"
    assert Recorder.seen[0]["method"] == "PUT" and json.loads(Recorder.seen[0]["body"]) == {
        "k": [1]
    }


def test_a_non_2xx_status_is_states_http_status_code_and_catchable(server: str) -> None:
    state = task(f"{server}/missing")
    state["Catch"] = [
        {"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.e", "Next": "Done"}
    ]
    state.pop("End")
    state["Next"] = "Done"
    from runtime.api import run

    machine = {"StartAt": "Call", "States": {"Call": state, "Done": {"Type": "Succeed"}}}
    services = Services.create(connections=CONNECTED)
    result = anyio.run(lambda: run(machine, {}, services=services))
    assert result.status == "SUCCEEDED"
    assert result.output["e"]["Error"] == "States.Http.StatusCode.404"
    cause = json.loads(result.output["e"]["Cause"])
    assert (cause["StatusCode"], cause["ResponseBody"]) == (404, {"message": "no such thing"})


def test_no_answer_is_states_http_socket() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_machine(task(f"http://127.0.0.1:{port}/x"))
    assert (result.status, result.error) == ("FAILED", "States.Http.Socket")


def test_an_unknown_connection_fails_naming_it(server: str) -> None:
    state = task(f"{server}/json", Authentication={"ConnectionArn": "arn:aws:events:x:1:c/N/3"})
    result = run_machine(state)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "arn:aws:events:x:1:c/N/3" in result.cause and "--connections" in result.cause
    assert Recorder.seen == []


def test_without_connections_no_url_is_called(server: str) -> None:
    result = run_machine(task(f"{server}/json"), connections=None)
    assert result.status == "FAILED"
    assert Recorder.seen == []


# -- TestState TRACE --------------------------------------------------------------------


def trace_of(state: dict[str, Any], level: str, reveal: bool = False) -> dict[str, Any]:
    services = Services.create(connections=CONNECTED)

    async def main() -> Any:
        return await run_test_state(state, {}, services=services, reveal_secrets=reveal)

    answer: dict[str, Any] = anyio.run(main).to_aws(level)
    return answer


def test_trace_shows_the_request_and_response_with_secrets_masked(server: str) -> None:
    answer = trace_of(task(f"{server}/json", RequestBody={"a": 1}, Method="POST"), "TRACE")
    assert answer["status"] == "SUCCEEDED"
    request = answer["inspectionData"]["request"]
    assert (request["protocol"], request["method"]) == ("http", "POST")
    assert request["url"] == f"{server}/json?v=2"
    assert "Authorization: ***" in request["headers"] and "X-Tenant: ***" in request["headers"]
    assert "s3cret" not in json.dumps(answer) and "t-42" not in json.dumps(answer)
    assert json.loads(request["body"]) == {"a": 1}
    response = answer["inspectionData"]["response"]
    assert (response["statusCode"], response["statusMessage"]) == ("200", "OK")
    assert json.loads(response["body"]) == {"ok": True, "n": [1, 2]}
    assert "Content-Type: application/json" in response["headers"]
    assert json.loads(answer["output"])["StatusCode"] == 200


def test_reveal_secrets_shows_the_connection_values(server: str) -> None:
    answer = trace_of(task(f"{server}/json"), "TRACE", reveal=True)
    headers = answer["inspectionData"]["request"]["headers"]
    basic = base64.b64encode(b"ana:s3cret").decode()
    assert f"Authorization: Basic {basic}" in headers and "X-Tenant: t-42" in headers


def test_debug_has_no_request_or_response_and_a_failed_call_is_traced(server: str) -> None:
    debug = trace_of(task(f"{server}/json"), "DEBUG")
    assert "request" not in debug["inspectionData"]
    failed = trace_of(task(f"{server}/missing"), "TRACE")
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Http.StatusCode.404")
    assert failed["inspectionData"]["response"]["statusCode"] == "404"


def test_trace_through_the_api_server_and_the_cli(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3
    from botocore.config import Config

    from runtime.cli import main
    from runtime.server.api import ApiOptions, ApiServer

    connections = tmp_path / "connections.json"
    connections.write_text(json.dumps(CONNECTIONS))
    state = json.dumps(task(f"{server}/json"))
    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, connections=str(connections))
    with ApiServer(options) as api:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=api.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
            config=Config(inject_host_prefix=False),
        )
        answer = sfn.test_state(definition=state, inspectionLevel="TRACE", revealSecrets=False)
    assert answer["inspectionData"]["response"]["statusCode"] == "200"
    assert "Authorization: ***" in answer["inspectionData"]["request"]["headers"]
    argv = ["test-state", "--definition", state, "--inspection-level", "TRACE"]
    assert main([*argv, "--connections", str(connections)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["inspectionData"]["request"]["method"] == "GET"


def test_an_execution_started_through_the_api_calls_the_url(server: str, tmp_path: Path) -> None:
    import boto3

    from runtime.server.api import ApiOptions, ApiServer

    connections = tmp_path / "connections.json"
    connections.write_text(json.dumps(CONNECTIONS))
    state = task(f"{server}/json", Authentication={"ConnectionArn": KEYED})
    machine = json.dumps({"StartAt": "Call", "States": {"Call": state}})
    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, connections=str(connections))
    with ApiServer(options) as api:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=api.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
        )
        role = "arn:aws:iam::123456789012:role/R"
        arn = sfn.create_state_machine(name="Http", definition=machine, roleArn=role)
        started = sfn.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")
        assert api.wait_ended(started["executionArn"], timeout=60)
        described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["ResponseBody"] == {"ok": True, "n": [1, 2]}
    sent = {k.lower(): v for k, v in Recorder.seen[0]["headers"].items()}
    assert sent["x-api-key"] == "k1"
