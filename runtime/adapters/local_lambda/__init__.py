"""Local Python handlers standing in for Lambda functions.

A function name maps to a handler target: ``"package.module:function"``,
``"path/to/file.py:handler"`` or a Python callable. The handler is called with Lambda's
``(event, context)`` contract and answers as Lambda's Python runtime would: its return
value is marshalled to JSON (``Runtime.MarshalError`` if it cannot be), an exception
becomes a function error ``{"errorMessage", "errorType", "requestId", "stackTrace"}``,
and an import failure ``Runtime.ImportModuleError`` / ``Runtime.HandlerNotFound``.

Both resource forms work, with the same results, errors and envelope as
:mod:`runtime.adapters.lambda_` (the envelope code is shared, not copied).

Routing: a legacy ARN names its function, so :meth:`LocalFunctions.register` adds a
pattern matching exactly the configured names. A lambda:invoke ARN does not: the name is in
the FunctionName parameter, known only at call time. So lambda:invoke gets a dispatcher
that runs local functions and hands every other call to the adapter that was registered
for lambda:invoke before it (normally the boto3 one), or to ``fallback``. For
``.waitForTaskToken`` the same dispatch happens one level down, on the submit step
(:meth:`LocalFunctions.submitter`), so the callback adapter's wait stays in one place.
"""

from runtime.adapters.local_lambda.handlers import LocalFunction, LocalFunctionError
from runtime.adapters.local_lambda.lambda_runtime import LambdaContext
from runtime.adapters.local_lambda.registry import LocalFunctions

__all__ = ["LambdaContext", "LocalFunction", "LocalFunctionError", "LocalFunctions"]
