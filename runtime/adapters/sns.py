"""Amazon SNS optimized integration: ``arn:aws:states:::sns:publish``.

DG "Publish messages to an Amazon SNS topic with Step Functions": request-response and
``.waitForTaskToken`` (no ``.sync``). Parameters are Publish's own: TopicArn, TargetArn,
PhoneNumber, Message, Subject, MessageStructure, MessageAttributes,
MessageDeduplicationId, MessageGroupId.

* A ``Message`` that is not a string is sent as its JSON text: the optimized integration
  stringifies it (``sns_task_service.publish_base`` publishes ``{"Message": "HelloWorld!"}``
  and succeeds; LocalStack does the same).
* MessageAttributes are written as in the SNS API: ``{"name": {"DataType": "String",
  "StringValue": "..."}}``; a ``BinaryValue`` is base64 text in JSON and is decoded for
  boto3, which encodes bytes itself.
* The result is ``{"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}`` (recorded).
* Errors are ``SNS.<Code>Exception`` with AWS's cause, e.g. ``SNS.NotFoundException``:
  "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound;
  Request ID: ...; Proxy: null)" (recorded: ``sns_task_service.publish_base_error_topic_arn``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.jobs import aws_call, sdk_result
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = ["SnsPublish", "publish_request", "register", "sns_error"]

#: Resource ARNs this module serves (``.waitForTaskToken`` is wired by the callback layer
#: around :meth:`SnsPublish.submit`).
ARN_PATTERN = r"^arn:[^:]+:states:::sns:publish$"


def sns_error(exc: BaseException) -> TaskFailure:
    """A botocore failure named as AWS Step Functions names SNS errors."""
    return service_error("sns", exc)


def publish_request(parameters: Any) -> dict[str, Any]:
    """The boto3 ``publish`` arguments for a task's effective input."""
    if not isinstance(parameters, Mapping):
        raise TaskFailure("States.Runtime", "The parameters of sns:publish must be a JSON object.")
    request = dict(parameters)
    message = request.get("Message")
    if "Message" in request and not isinstance(message, str):
        request["Message"] = dumps(message)
    attributes = request.get("MessageAttributes")
    if isinstance(attributes, Mapping):
        request["MessageAttributes"] = {
            name: _attribute(value) for name, value in attributes.items()
        }
    return request


def _attribute(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    attribute = dict(value)
    string = attribute.get("StringValue")
    if "StringValue" in attribute and not isinstance(string, str):
        attribute["StringValue"] = dumps(string)
    binary = attribute.get("BinaryValue")
    if isinstance(binary, str):
        try:
            attribute["BinaryValue"] = base64.b64decode(binary, validate=True)
        except binascii.Error:
            attribute["BinaryValue"] = binary.encode("utf-8")
    return attribute


@dataclass(frozen=True, slots=True)
class SnsPublish:
    """Runs ``sns:publish`` tasks through boto3."""

    pool: ClientPool

    async def invoke(self, call: TaskCall) -> Any:
        """Publish; return AWS's result shape or raise TaskFailure named as AWS does."""
        return await self.submit(call)

    async def submit(self, call: TaskCall) -> dict[str, Any]:
        """Publish once and return the result: the request-response result, and the
        TaskSubmitted output of ``.waitForTaskToken`` (the caller then waits for the token).
        """
        request = publish_request(call.parameters)
        response = await aws_call(self.pool, call, "sns", "publish", request, sns_error)
        return sdk_result(response)


def register(registry: AdapterRegistry, pool: ClientPool) -> None:
    """Serve ``arn:aws:states:::sns:publish`` with boto3."""
    registry.register(ARN_PATTERN, SnsPublish(pool))
