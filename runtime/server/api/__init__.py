"""The Step Functions API over AWS JSON 1.0 (``asl serve --api``), a drop-in for Step
Functions Local: botocore's operations, request and response shapes and error names,
backed by the durable store and the serve loop.

One module per operation family: :mod:`~runtime.server.api.machines`,
:mod:`~runtime.server.api.executions`, :mod:`~runtime.server.api.history`,
:mod:`~runtime.server.api.tasks` (callbacks, activities), :mod:`~runtime.server.api.tags`;
:mod:`~runtime.server.api.protocol` reads requests and writes errors;
:mod:`~runtime.server.api.app` serves them.
"""

from __future__ import annotations

from runtime.server.api.app import OPERATIONS, ApiOptions, ApiServer, create_app, run_api

__all__ = ["OPERATIONS", "ApiOptions", "ApiServer", "create_app", "run_api"]
