"""Local Python handlers standing in for Lambda functions.

A function name maps to a handler target: ``"package.module:function"``,
``"path/to/file.py:handler"`` or a Python callable, called with Lambda's ``(event,
context)`` contract. Three parts: resolving a target (:mod:`.handlers`), answering as
Lambda's Python runtime would (:mod:`.lambda_runtime`), and routing both resource forms
to local functions or on to AWS (:mod:`.registry`).
"""

from runtime.adapters.local_lambda.handlers import LocalFunction, LocalFunctionError
from runtime.adapters.local_lambda.lambda_runtime import LambdaContext
from runtime.adapters.local_lambda.registry import LocalFunctions

__all__ = ["LambdaContext", "LocalFunction", "LocalFunctionError", "LocalFunctions"]
