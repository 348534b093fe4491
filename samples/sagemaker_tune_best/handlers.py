"""Local stand-in for the Lambda function of the SageMaker tuning sample.

In production ``register-model`` would write the model card to a model registry (a
DynamoDB table, SageMaker Model Registry...). Here it builds the card and returns it, so
the sample runs offline: ``asl exec ... --config asl.toml`` maps the function name to the
handler below, called with Lambda's ``(event, context)`` contract.
"""

from __future__ import annotations

from typing import Any


def register_model(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The model card of the tuning job's best model, pending a human's approval.

    Event: ``{"tuningJob", "modelName", "modelArn", "modelArtifacts", "objective":
    {"metric", "value"}, "hyperParameters", "predictions"}``.
    """
    objective = event["objective"]
    return {
        "model": event["modelName"],
        "modelArn": event["modelArn"],
        "artifacts": event["modelArtifacts"],
        "tuningJob": event["tuningJob"],
        "objective": {"metric": objective["metric"], "value": round(float(objective["value"]), 4)},
        # SageMaker reports tuned hyperparameters as strings; the card keeps numbers.
        "hyperParameters": {k: _number(v) for k, v in sorted(event["hyperParameters"].items())},
        "predictions": event["predictions"],
        "approval": "PendingManualApproval",
        "registeredBy": context.function_name,
    }


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
