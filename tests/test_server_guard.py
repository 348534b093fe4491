"""Both local servers (callback endpoint, API server) under hostile and malformed requests:
sizes, depth, Host, connections, disconnects and the opt-in SigV4 shared secret.

Every server here listens on 127.0.0.1 with port 0.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.callbacks.registry import CallbackRegistry
from runtime.server.api.app import ApiOptions, ApiServer
from runtime.server.endpoint import LocalEndpoint
from runtime.server.guard import (
    ENV_SECRET,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    InvalidSignatureException,
    SerializationException,
    UnrecognizedClientException,
    nesting_depth,
    parse_body,
    verify_signature,
)

SECRET = "s3cret-for-tests"


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with LocalEndpoint(CallbackRegistry(), poll_seconds=0.1) as ep:
        yield ep.url


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("guard")
    with ApiServer(ApiOptions(store=str(folder / "s.db"), port=0, poll_seconds=0.1)) as server:
        yield server.url


@pytest.fixture(params=["endpoint", "api"])
def url(request: pytest.FixtureRequest) -> str:
    found = str(request.getfixturevalue(f"{request.param}_url"))
    _KINDS[found] = request.param
    return found


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def raw_request(url: str, head: str, body: bytes = b"", *, read: bool = True) -> bytes:
    """Send ``head`` (request line and headers, CRLF-joined by us) and ``body``; the reply."""
    with socket.create_connection(_address(url), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body)
        if not read:
            return b""
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        if _complete(b"".join(chunks)):
            break
    return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def reply(data: bytes) -> tuple[int, dict[str, Any]]:
    """The first response in ``data`` (extra bytes sent may have made a second one)."""
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            body = body[: int(value.strip())]
    return status, json.loads(body)


def code_of(payload: dict[str, Any]) -> str:
    return str(payload["__type"]).rsplit("#", 1)[-1]


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    host = url.removeprefix("http://")
    lines = ["POST / HTTP/1.1", f"Host: {host}"] + [f"{k}: {v}" for k, v in headers.items()]
    return reply(raw_request(url, "\n".join(lines), body))


_KINDS: dict[str, str] = {}


def url_kind(url: str) -> str:
    return _KINDS.get(url, "")


TARGET = {"X-Amz-Target": "AWSStepFunctions.ListActivities"}


def test_a_well_formed_request_is_answered(url: str) -> None:
    status, payload = post(url, {**TARGET, "Content-Length": "2"}, b"{}")
    assert status == 200 and isinstance(payload["activities"], list)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", " 12 3"])
def test_a_bad_content_length_is_an_aws_shaped_400(url: str, length: str) -> None:
    status, payload = post(url, {**TARGET, "Content-Length": length}, b"{}")
    assert status == 400
    assert code_of(payload) == "SerializationException"


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(url: str) -> None:
    # Nothing of the 2 MB is sent: the answer comes from the header alone.
    status, payload = post(url, {**TARGET, "Content-Length": str(2 * MAX_BODY_BYTES)}, b"")
    assert status == 413
    assert code_of(payload) == "RequestEntityTooLargeException"
    assert str(MAX_BODY_BYTES) in payload["message"]


def test_a_chunked_body_over_the_limit_is_cut_off(api_url: str) -> None:
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = f"POST / HTTP/1.1\nHost: {api_url[7:]}\nX-Amz-Target: AWSStepFunctions.ListActivities"
    status, payload = reply(raw_request(api_url, head + "\nTransfer-Encoding: chunked", body))
    assert (status, code_of(payload)) == (413, "RequestEntityTooLargeException")


def test_the_endpoint_refuses_chunked_bodies(endpoint_url: str) -> None:
    head = f"POST / HTTP/1.1\nHost: {endpoint_url[7:]}\nTransfer-Encoding: chunked"
    status, payload = reply(raw_request(endpoint_url, head, b"2\r\n{}\r\n0\r\n\r\n"))
    assert (status, code_of(payload)) == (400, "SerializationException")


def test_a_deeply_nested_body_is_refused_without_recursion(url: str) -> None:
    body = b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    status, payload = post(url, {**TARGET, "Content-Length": str(len(body))}, body)
    assert (status, code_of(payload)) == (400, "SerializationException")
    assert "nests deeper" in payload["message"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"{", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_serialization_exception(
    url: str, body: bytes
) -> None:
    status, payload = post(url, {**TARGET, "Content-Length": str(len(body))}, body)
    assert (status, code_of(payload)) == (400, "SerializationException")


def test_other_methods_are_aws_shaped_errors(url: str) -> None:
    status, payload = reply(raw_request(url, f"GET / HTTP/1.1\nHost: {url[7:]}"))
    assert (status, code_of(payload)) == (400, "UnknownOperationException")


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8083", "10.1.2.3", "127.0.0.1.nip.io", "sync-evil.example"],
)
def test_a_host_that_is_not_loopback_is_refused(url: str, host: str) -> None:
    lines = f"POST / HTTP/1.1\nHost: {host}\nX-Amz-Target: AWSStepFunctions.ListActivities"
    status, payload = reply(raw_request(url, lines + "\nContent-Length: 2", b"{}"))
    assert (status, code_of(payload)) == (403, "AccessDeniedException")


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:9", "127.0.0.1:1", "[::1]:8083", "127.0.0.2", "sync-localhost:8083"],
)
def test_loopback_hosts_are_accepted(url: str, host: str) -> None:
    lines = f"POST / HTTP/1.1\nHost: {host}\nX-Amz-Target: AWSStepFunctions.ListActivities"
    status, _ = reply(raw_request(url, lines + "\nContent-Length: 2", b"{}"))
    assert status == 200


_HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=30
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    length=st.one_of(_HEADER_VALUE, st.integers(-5, 3 * MAX_BODY_BYTES).map(str)),
    body=st.binary(max_size=300),
    target=st.sampled_from(["AWSStepFunctions.ListActivities", "AWSStepFunctions.Nope", "x"]),
)
def test_any_header_and_body_get_an_aws_shaped_answer(
    url: str, length: str, body: bytes, target: str
) -> None:
    lines = f"POST / HTTP/1.1\nHost: {url[7:]}\nX-Amz-Target: {target}\nContent-Length: {length}"
    with socket.create_connection(_address(url), timeout=10) as sock:
        sock.sendall(lines.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)  # a short body ends here: no waiting for the rest
        data = _read_all(sock)
    declared = length.strip()
    if not data:  # uvicorn takes a half-closed socket for a client that left mid-body
        assert "api" in url_kind(url) and declared.isdigit() and int(declared) > len(body)
        return
    status, payload = reply(data)
    assert status in (200, 400, 413)
    if status != 200:
        assert code_of(payload) in {
            "SerializationException",
            "UnknownOperationException",
            "RequestEntityTooLargeException",
            "ValidationException",
        }


@given(
    st.recursive(
        st.none() | st.integers(),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=3), c),
        max_leaves=40,
    )
)
def test_nesting_depth_measures_json_as_parsed(value: Any) -> None:
    text = json.dumps({"v": value}).encode()

    def depth(v: Any) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert nesting_depth(text) == 1 + depth(value)


@given(st.integers(1, 3 * MAX_DEPTH))
def test_parse_body_accepts_exactly_up_to_the_depth_bound(extra: int) -> None:
    body = b'{"a":' + b"[" * extra + b"]" * extra + b"}"
    if extra + 1 > MAX_DEPTH:
        with pytest.raises(SerializationException):
            parse_body(body)
    else:
        assert parse_body(body)["a"] is not None


def test_brackets_inside_strings_do_not_count() -> None:
    assert nesting_depth(b'{"a": "[[[[[[{{{{\\"]]]"}') == 1


# -- connections -------------------------------------------------------------------------


def test_the_endpoint_bounds_connections_and_closes_silent_ones() -> None:
    with LocalEndpoint(CallbackRegistry(), max_connections=3, read_seconds=0.5) as ep:
        address = _address(ep.url)
        held = [socket.create_connection(address, timeout=10) for _ in range(3)]
        try:
            extra = socket.create_connection(address, timeout=10)
            with extra:  # over the bound: closed without an answer
                assert extra.recv(10) == b""
            for sock in held:  # silent ones are closed after read_seconds
                assert sock.recv(10) == b""
        finally:
            for sock in held:
                sock.close()
        # Slots are free again.
        status, _ = post(ep.url, {**TARGET, "Content-Length": "2"}, b"{}")
        assert status == 200


def test_the_api_server_closes_connections_that_send_no_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.server.api import app

    monkeypatch.setattr(app._BoundedHead, "head_seconds", 0.3)  # h11 or httptools
    with ApiServer(ApiOptions(store=str(tmp_path / "s.db"), port=0)) as server:
        with socket.create_connection(_address(server.url), timeout=10) as silent:
            assert silent.recv(10) == b""
        with socket.create_connection(_address(server.url), timeout=10) as half:
            half.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\n")  # and never the rest
            assert half.recv(10) == b""


def test_the_api_server_answers_503_over_its_concurrency_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.server.api import app

    monkeypatch.setattr(app, "MAX_CONCURRENCY", 2)
    with ApiServer(ApiOptions(store=str(tmp_path / "s.db"), port=0)) as server:
        held = [socket.create_connection(_address(server.url), timeout=10) for _ in range(2)]
        try:
            head = f"POST / HTTP/1.1\nHost: localhost\nContent-Length: 2\n{'X-Amz-Target'}: x"
            data = raw_request(server.url, head, b"{}")
            assert data.split(b" ", 2)[1] == b"503"
        finally:
            for sock in held:
                sock.close()


def test_a_client_that_disconnects_mid_body_leaves_no_traceback(
    url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        head = f"POST / HTTP/1.1\nHost: {url[7:]}\nContent-Length: 1000\nX-Amz-Target: x"
        raw_request(url, head, b'{"a": 1', read=False)
    # The server still answers, and wrote no traceback.
    status, _ = post(url, {**TARGET, "Content-Length": "2"}, b"{}")
    assert status == 200
    assert "Traceback" not in capfd.readouterr().err


# -- the shared secret -------------------------------------------------------------------


@pytest.fixture(params=["endpoint", "api"])
def secret_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "endpoint":
        with LocalEndpoint(CallbackRegistry(), secret=SECRET) as ep:
            yield ep.url
    else:
        options = ApiOptions(store=str(tmp_path / "s.db"), port=0, secret=SECRET)
        with ApiServer(options) as server:
            yield server.url


def sfn(url: str, secret: str | None, **config: Any) -> Any:
    keys = {} if secret is None else {"aws_secret_access_key": secret}
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDLOCAL",
        config=Config(retries={"max_attempts": 1}, **config),
        **({"aws_secret_access_key": "unused"} | keys),
    )


def test_with_a_secret_boto3_signing_with_it_gets_through(secret_url: str) -> None:
    assert sfn(secret_url, SECRET).list_activities()["activities"] == []
    with pytest.raises(ClientError) as info:  # through the check, refused by the registry
        sfn(secret_url, SECRET).send_task_success(taskToken="forged", output="{}")
    assert info.value.response["Error"]["Code"] == "InvalidToken"


def test_with_a_secret_a_wrong_key_is_an_invalid_signature(secret_url: str) -> None:
    with pytest.raises(ClientError) as info:
        sfn(secret_url, "not-the-secret").send_task_success(taskToken="t", output="{}")
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith("The request signature we calculated does not match")


def test_with_a_secret_an_unsigned_request_is_an_unrecognized_client(secret_url: str) -> None:
    unsigned = sfn(secret_url, None, signature_version=UNSIGNED)
    with pytest.raises(ClientError) as info:
        unsigned.list_activities()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_a_signature_changed_in_transit_is_refused(secret_url: str) -> None:
    client = sfn(secret_url, SECRET)

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b"1", b"2")  # signed, then changed

    client.meta.events.register("before-send.sfn.ListActivities", tamper)
    with pytest.raises(ClientError) as info:
        client.list_activities(maxResults=1)
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_an_old_signature_has_expired() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST", url="http://127.0.0.1:9/", data=b"{}", headers={"X-Amz-Target": "x"}
    )
    SigV4Auth(Credentials("AK", SECRET), "states", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = "127.0.0.1:9"
    verify_signature(SECRET, "POST", "/", headers, b"{}")  # fresh: fine
    later = datetime.now(UTC) + timedelta(minutes=6)
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        verify_signature(SECRET, "POST", "/", headers, b"{}", now=later)
    with pytest.raises(UnrecognizedClientException):
        verify_signature(SECRET, "POST", "/", {**headers, "Authorization": "AWS4 x"}, b"{}")


def test_the_aws_cli_works_against_a_secret_endpoint() -> None:
    with LocalEndpoint(CallbackRegistry(), secret=SECRET) as ep:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        aws = Path(sys.executable).with_name("aws")
        command = [str(aws), "stepfunctions", "list-activities", "--endpoint-url", ep.url]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"activities": []}
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "InvalidSignatureException" in done.stderr


def test_asl_send_task_success_signs_with_the_environment_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli.task import send_task_success_main

    with LocalEndpoint(CallbackRegistry(), secret=SECRET) as ep:
        monkeypatch.setenv(ENV_SECRET, SECRET)
        assert send_task_success_main(["forged", "{}", "--endpoint", ep.url]) == 1
        assert "InvalidToken" in capsys.readouterr().err  # past the signature check
        monkeypatch.setenv(ENV_SECRET, "wrong")
        assert send_task_success_main(["forged", "{}", "--endpoint", ep.url]) == 1
        assert "InvalidSignatureException" in capsys.readouterr().err
