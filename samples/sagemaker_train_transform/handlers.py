"""Local stand-ins for the Lambda functions of the SageMaker train-and-transform sample.

In production ``generate-dataset`` would write CSV files to S3 and ``evaluate-model``
would read the batch transform's predictions back. Here both compute what they would
return, so the sample runs offline: ``asl exec ... --config asl.toml`` maps each function
name to a handler below, called with Lambda's ``(event, context)`` contract.
"""

from __future__ import annotations

from typing import Any

#: How the generated rows are split between the SageMaker input channels (percent).
SPLIT = {"train": 70, "validation": 15}


def generate_dataset(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Split ``rows`` rows into train, validation and test sets under one S3 prefix.

    Event: ``{"experiment", "bucket", "rows", "runId"}``. Returns the S3 prefix of each
    set (the training job reads train and validation, the batch transform reads test) and
    the row counts.
    """
    rows = int(event["rows"])
    if rows < 100:
        raise ValueError(f"Need at least 100 rows to train and evaluate a model, got {rows}.")
    prefix = f"s3://{event['bucket']}/datasets/{event['experiment']}/{event['runId']}"
    counts = {name: rows * percent // 100 for name, percent in SPLIT.items()}
    counts["test"] = rows - sum(counts.values())
    return {
        "train": f"{prefix}/train/",
        "validation": f"{prefix}/validation/",
        "test": f"{prefix}/test/",
        "rows": counts,
    }


def evaluate_model(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Approve the model when its validation AUC reaches the minimum without overfitting.

    Event: ``{"metrics": FinalMetricDataList of the training job, "minimumAuc",
    "predictions": S3 prefix of the batch transform output}``. Overfitting: the train AUC
    is more than 0.05 above the validation AUC.
    """
    metrics = {m["MetricName"]: float(m["Value"]) for m in event["metrics"]}
    validation = metrics["validation:auc"]
    gap = round(metrics.get("train:auc", validation) - validation, 4)
    approved = validation >= float(event["minimumAuc"]) and gap <= 0.05
    return {
        "approved": approved,
        "validationAuc": validation,
        "overfitGap": gap,
        "predictions": event["predictions"],
    }
