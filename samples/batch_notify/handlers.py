"""Local stand-ins for the Lambda functions of the AWS Batch sample.

``asl exec ... --config asl.toml`` maps each function name to a handler below, called with
Lambda's ``(event, context)`` contract, so the sample runs offline.
"""

from __future__ import annotations

import json
from typing import Any

#: vCPUs and memory (MiB) by input size: the first row whose limit (GiB) fits the input.
SIZES = ((10, 2, 4096), (100, 8, 16384), (float("inf"), 32, 65536))


def plan_batch_job(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The job's parameters and container size for one day of input.

    Event: ``{"runDate", "source": {"bucket", "sizeGiB"}}``. Returns the Batch job
    ``parameters`` (substituted into the job definition's command) and the resources.
    """
    source, day = event["source"], event["runDate"]
    size = float(source["sizeGiB"])
    vcpus, memory = next((v, m) for limit, v, m in SIZES if size <= limit)
    return {
        "parameters": {
            "input": f"s3://{source['bucket']}/events/dt={day}/",
            "output": f"s3://{source['bucket']}-curated/events/dt={day}/",
        },
        "vcpus": str(vcpus),
        "memory": str(memory),
    }


def explain_failure(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A one-line explanation of a caught error, for the notification and the Fail state.

    Event: the Catch's ``{"Error", "Cause"}`` plus ``jobName``. A failed ``.sync`` job's
    cause is the DescribeJobs job description as JSON text; other errors carry a message.
    """
    error, cause = event["Error"], event.get("Cause") or ""
    try:
        job = json.loads(cause)
    except ValueError:
        job = None
    if not isinstance(job, dict) or "Status" not in job:
        return {"summary": f"Job {event['jobName']} could not run: {error}: {cause}"}
    attempts = job.get("Attempts") or [{}]
    container = attempts[-1].get("Container") or {}
    reason = container.get("Reason") or job.get("StatusReason", "no reason given")
    return {
        "summary": (
            f"Job {job['JobName']} ({job['JobId']}) {job['Status']} after "
            f"{len(job.get('Attempts') or [])} attempt(s): {reason} "
            f"(exit code {container.get('ExitCode', 'unknown')})"
        ),
        "logStream": container.get("LogStreamName"),
    }
