"""JSONata query language for JSONata-mode states (SPEC "JSONata Concepts", A.6).

Compile field values once with :func:`compile_value` (or one expression with
:func:`compile_expression`), then evaluate them against bindings
``{"states": {"input": ..., "context": ...}, <variable>: value, ...}``. AWS runs JSONata
2.0.6 without ``$eval`` and adds ``$partition``, ``$range``, ``$hash``, ``$random``,
``$uuid`` and ``$parse`` (:mod:`asl.jsonata.functions`).
"""

from asl.jsonata.engine import (
    UNDEFINED,
    UNSUPPORTED,
    EvaluationError,
    ExpressionReads,
    JsonataExpression,
    compile_expression,
)
from asl.jsonata.template import (
    QUERY_EVALUATION_ERROR,
    JsonataValue,
    QueryEvaluationError,
    compile_value,
    expression_text,
    is_expression,
    type_name,
    unexpected_type_cause,
)

__all__ = [
    "QUERY_EVALUATION_ERROR",
    "UNDEFINED",
    "UNSUPPORTED",
    "EvaluationError",
    "ExpressionReads",
    "JsonataExpression",
    "JsonataValue",
    "QueryEvaluationError",
    "compile_expression",
    "compile_value",
    "expression_text",
    "is_expression",
    "type_name",
    "unexpected_type_cause",
]
