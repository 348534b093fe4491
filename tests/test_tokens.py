"""Task tokens: signed with a per-store or per-process secret, checked on every answer."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import run_sync
from runtime.adapters import Services
from runtime.callbacks.registry import (
    CallbackRegistry,
    InvalidToken,
    TaskDoesNotExist,
)
from runtime.callbacks.tokens import TokenSigner, new_secret, process_signer
from runtime.durable.store import Store
from runtime.server.endpoint import LocalEndpoint

ARN = "arn:aws:states:us-east-1:123456789012:execution:M:approve-order-42"

CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"Message": {"Token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 5,
            "End": True,
        }
    },
}


def test_a_token_is_not_the_old_computable_uuid5() -> None:
    token = process_signer().make(ARN, 2, 0)
    guessed = uuid.uuid5(uuid.NAMESPACE_URL, f"{ARN}#2#0").hex
    assert token != guessed
    assert TokenSigner(new_secret()).make(ARN, 2, 0) != token  # another secret, another token


def test_a_token_is_aws_like_base64_within_the_api_limit() -> None:
    token = TokenSigner(new_secret()).make(ARN + "x" * 80, 12345, 3)
    assert base64.b64decode(token, validate=True)[:1] == b"\x01"
    assert 1 <= len(token) <= 2048


def test_the_signer_reads_back_its_own_tokens_only() -> None:
    signer = TokenSigner(new_secret())
    token = signer.make(ARN, 7, 1)
    assert signer.identity(token) == f"{ARN}#7#1"
    assert not TokenSigner(new_secret()).issued(token)
    with pytest.raises(ValueError, match="16 bytes"):
        TokenSigner(b"short")


@given(st.data())
def test_any_change_to_a_token_makes_it_invalid(data: st.DataObject) -> None:
    signer = TokenSigner(b"k" * 32)
    raw = bytearray(base64.b64decode(signer.make(ARN, 2, 0)))
    index = data.draw(st.integers(0, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    raw[index] ^= flip
    assert not signer.issued(base64.b64encode(bytes(raw)).decode())


@given(st.text(max_size=300))
def test_arbitrary_text_is_never_an_issued_token(text: str) -> None:
    assert not TokenSigner(b"k" * 32).issued(text)


def test_the_store_secret_is_made_once_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        first = store.token_signer().make(ARN, 2, 0)
    with Store.open(path) as again, Store.open(path) as beside:
        assert again.token_signer().make(ARN, 2, 0) == first
        assert beside.token_signer().make(ARN, 2, 0) == first
    with Store.open(tmp_path / "other.db") as other:
        assert other.token_signer().make(ARN, 2, 0) != first


def test_an_execution_signs_with_its_services_registry() -> None:
    signer = TokenSigner(new_secret())
    services = Services.create(callbacks=CallbackRegistry(signer=signer))
    result = run_sync(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Parameters": {"t.$": "$$.Execution.Id"}, "Next": "Ask"},
                **CALLBACK["States"],
            },
        },
        services=services,
        name="tok",
    )
    # Nothing answered: the task timed out; its token was the registry's.
    assert result.error == "States.Timeout"
    scheduled = next(e for e in result.history if e.type == "TaskScheduled")
    token = _token_of(scheduled.details["parameters"])
    assert signer.identity(token) == f"{result.arn}#{scheduled.previous_event_id}#0"


def _token_of(parameters: str) -> str:
    import json

    return str(json.loads(parameters)["Message"]["Token"])


def test_forged_and_gone_tokens_get_awss_errors_through_boto3() -> None:
    signer = TokenSigner(new_secret())
    with LocalEndpoint(CallbackRegistry(signer=signer)) as endpoint:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        forged = uuid.uuid5(uuid.NAMESPACE_URL, f"{ARN}#2#0").hex  # the old scheme
        with pytest.raises(client.exceptions.InvalidToken) as info:
            client.send_task_success(taskToken=forged, output="{}")
        assert info.value.response["Error"]["Message"] == "Invalid Token: 'Invalid token'"
        mangled = signer.make(ARN, 2, 0)[:-4] + "AAAA"
        with pytest.raises(client.exceptions.InvalidToken):
            client.send_task_failure(taskToken=mangled, error="E")
        other = TokenSigner(new_secret()).make(ARN, 2, 0)
        with pytest.raises(client.exceptions.InvalidToken):
            client.send_task_heartbeat(taskToken=other)
        # Genuine, but no execution waits on it here (it ended, or runs elsewhere).
        gone = signer.make(ARN, 2, 0)
        with pytest.raises(client.exceptions.TaskDoesNotExist):
            client.send_task_success(taskToken=gone, output="{}")


def test_registry_errors_in_process() -> None:
    registry = CallbackRegistry(signer=TokenSigner(new_secret()))
    with pytest.raises(InvalidToken):
        registry.send_task_success("A" * 60, "{}")
    with pytest.raises(TaskDoesNotExist):
        registry.send_task_heartbeat(registry.signer.make(ARN, 9, 0))
