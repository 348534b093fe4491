"""Payload Templates (SPEC §Payload Template): ``Parameters``, ``ResultSelector``,
``ItemSelector``, ``Credentials``, ItemReader/ResultWriter ``Parameters`` and the
JSONPath-mode ``Assign``.

A key ending in ``.$`` (at any depth, including inside objects nested in arrays, as AWS does
for e.g. ECS ``ContainerOverrides``) is evaluated and renamed without the suffix. Its value is
a path (``$...`` over the template input, ``$$...`` over the Context Object, ``$name...`` a
variable) or an intrinsic function call. Everything else is copied as is: constant sub-trees
are built once at compile time and shared by every evaluation (the runtime never mutates
values), and a wholly constant template evaluates to its constant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from asl.errors import ExpressionSyntaxError, StatesError
from asl.paths import Path, PathNotFound, compile_path

__all__ = [
    "Evaluable",
    "Template",
    "compile_template",
    "inline_template",
    "shared_templates",
]


class Evaluable(Protocol):
    """Anything compiled that evaluates against ``data``, ``context`` and ``variables``."""

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Return the value this node stands for."""
        ...


IntrinsicCompiler = Callable[[str], Evaluable]

_NULL_INPUT = "Unable to apply Path transformation to null or empty input."


def _compact(value: Any) -> str:
    """AWS quotes values in causes as compact JSON (``{"foo":"bar"}``, recorded)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class _Const:
    """A constant sub-tree, shared by every evaluation."""

    value: Any

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class _PathBinding:
    """``"key.$": "<path>"``."""

    path: Path
    key: str

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        path = self.path
        if data is None and path.root == "input":
            # AWS cause quoted in a user report (Parameters "Input.$": "$" on a null input).
            raise StatesError("States.Runtime", _NULL_INPUT)
        try:
            return path.get(data, context, variables)
        except PathNotFound:
            # AWS reports States.Runtime here, not the spec's States.ParameterPathFailure
            # (recorded: "The JSONPath '$.JobName' specified for the field 'JobName.$' could
            # not be found in the input '{}'").
            seen = context if self.path.root == "context" else data
            raise StatesError(
                "States.Runtime",
                f"The JSONPath '{self.path.text}' specified for the field '{self.key}' "
                f"could not be found in the input '{_compact(seen)}'",
            ) from None


@dataclass(frozen=True, slots=True)
class _Object:
    """An object with at least one evaluated member; ``items`` keep the written order."""

    items: tuple[tuple[str, Evaluable], ...]

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        out = {}  # a loop, not a comprehension: no function call per evaluation
        for key, node in self.items:
            out[key] = node.evaluate(data, context, variables)
        return out


@dataclass(frozen=True, slots=True)
class _Array:
    """An array with at least one evaluated element."""

    items: tuple[Evaluable, ...]

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        return [node.evaluate(data, context, variables) for node in self.items]


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled payload template; :meth:`evaluate` builds the payload."""

    field: str
    """The definition field the template came from (``Parameters``, ``ResultSelector``...)."""
    _root: Evaluable

    @property
    def is_constant(self) -> bool:
        """Whether the template has no ``.$`` key (it always evaluates to the same value)."""
        return isinstance(self._root, _Const)

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Build the payload from ``data`` (``$``), ``context`` (``$$``) and ``variables``.

        Raises :class:`StatesError` (``States.Runtime``) when a ``.$`` path selects nothing;
        intrinsic functions raise their own ``States.IntrinsicFailure``.
        """
        return self._root.evaluate(data, context, variables)


@dataclass(frozen=True, slots=True)
class _Compiler:
    field: str
    intrinsic: IntrinsicCompiler | None

    def node(self, value: Any) -> Evaluable:
        if isinstance(value, dict):
            return self.obj(value)
        if isinstance(value, list):
            items = tuple(self.node(item) for item in value)
            if all(isinstance(item, _Const) for item in items):
                return _Const(copy.deepcopy(value))
            return _Array(items)
        return _Const(value)

    def obj(self, value: dict[str, Any]) -> Evaluable:
        items: dict[str, Evaluable] = {}
        constant = True
        for key, member in value.items():
            evaluated = key.endswith(".$")
            name = key[:-2] if evaluated else key
            if name in items:
                # SPEC: a renamed key must not collide with another (ASLV DUPLICATE_FIELD_NAME).
                raise ExpressionSyntaxError(
                    f"Duplicate field name '{name}' in {self.field}", key, len(key) - 1
                )
            if evaluated:
                items[name] = self.binding(key, member)
                constant = False
            else:
                node = items[name] = self.node(member)
                if constant and type(node) is not _Const:
                    constant = False
        if constant:
            return _Const(copy.deepcopy(value))
        return _Object(tuple(items.items()))

    def binding(self, key: str, value: Any) -> Evaluable:
        if not isinstance(value, str):
            raise self.not_an_expression(key, repr(value))
        if value.startswith("$"):
            return _PathBinding(compile_path(value), key)
        if not value.startswith("States."):
            raise self.not_an_expression(key, value)
        return self.intrinsics()(value)

    def not_an_expression(self, key: str, text: str) -> ExpressionSyntaxError:
        # AWS's validation message (quoted by ManageIQ/floe): Field "p.$" of Parameters at
        # "State Machine.S" is not a JSONPath or intrinsic function expression.
        return ExpressionSyntaxError(
            f'Field "{key}" of {self.field} is not a JSONPath or intrinsic function expression',
            text,
            0,
        )

    def intrinsics(self) -> IntrinsicCompiler:
        if self.intrinsic is not None:
            return self.intrinsic
        from asl.intrinsics import compile_intrinsic  # lazy: a sibling module of the core

        compiler: IntrinsicCompiler = compile_intrinsic
        return compiler


def compile_template(
    value: Any,
    *,
    field: str = "Parameters",
    intrinsic_compiler: IntrinsicCompiler | None = None,
) -> Template:
    """Compile a payload template once; evaluate it many times with :meth:`Template.evaluate`.

    ``field`` names the definition field in messages. ``intrinsic_compiler`` compiles
    ``States.*(...)`` calls (default: :func:`asl.intrinsics.compile_intrinsic`). Raises
    :class:`ExpressionSyntaxError` for a ``.$`` value that is not a string path or intrinsic
    call, for a bad path, or for a key that duplicates another after renaming.
    """
    if intrinsic_compiler is not None:
        return Template(field, _Compiler(field, intrinsic_compiler).node(value))
    compiler = _COMPILERS.get(field)
    if compiler is None:
        compiler = _Compiler(field, None)
        if len(_COMPILERS) < 64:  # the definition's field names: a handful
            _COMPILERS[field] = compiler
    memo = _SHARED.get()
    if memo is None:
        return Template(field, compiler.node(value))
    key = (id(value), field)
    hit = memo.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    template = Template(field, compiler.node(value))
    memo[key] = (value, template)
    return template


#: The (immutable) compiler of each field name, with the default intrinsic compiler.
_COMPILERS: dict[str, _Compiler] = {}


#: Templates compiled inside :func:`shared_templates`, by the template object's identity
#: (the object is kept too, so an id cannot be reused while the memo lives).
_SHARED: ContextVar[dict[tuple[int, str], tuple[Any, Template]] | None] = ContextVar(
    "asl_shared_templates", default=None
)


@contextmanager
def shared_templates() -> Iterator[None]:
    """Compile each template object once within the block (validation, then compilation).

    :func:`asl.compile_definition` validates a definition (which compiles every template to
    be sure it will compile) and then compiles it: inside this block the second compile of
    the same object (nothing runs in between to change it) returns the first result.
    Templates are immutable, so the sharing is invisible; refusals are not remembered and
    are raised again.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


#: Intrinsics whose value differs between two calls: a template holding one is never
#: inlined, as the inlined form re-evaluates the whole template after a failed lookup.
_IMPURE = ("States.UUID", "States.MathRandom")


def _literal_call(node: Any) -> bool:
    """Whether an intrinsic call tree reads nothing: only literal arguments, no paths."""
    from asl.intrinsics.nodes import Call, Literal, StringLiteral

    if isinstance(node, Literal | StringLiteral):
        return True
    return isinstance(node, Call) and all(_literal_call(arg) for arg in node.args)


def inline_template(template: Template) -> Callable[[Any, Any, Mapping[str, Any]], Any]:
    """``template.evaluate`` as one Python function, for a runtime that calls it often.

    Objects and arrays become Python displays, and a path of property names on ``$``
    becomes ``data[k1][k2]...``; other nodes (intrinsic calls, paths with indices or on
    ``$$`` or variables) are called as they are, in the written order. When an inlined
    lookup fails (a missing key, a null input, a value of another type), the template is
    evaluated again by the tree, which gives the same value or raises AWS's error: the
    result is always the tree's.
    """
    root = template._root
    names: dict[str, Any] = {}

    def constant(value: Any) -> str:
        name = f"_c{len(names)}"
        names[name] = value
        return name

    def expr(node: Evaluable) -> str | None:
        if isinstance(node, _Const):
            return constant(node.value)
        if isinstance(node, _Object):
            members = [(constant(key), expr(member)) for key, member in node.items]
            if any(text is None for _, text in members):
                return None
            return "{" + ", ".join(f"{key}: {text}" for key, text in members) + "}"
        if isinstance(node, _Array):
            items = [expr(item) for item in node.items]
            if any(text is None for text in items):
                return None
            return "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
        if isinstance(node, _PathBinding):
            keys = node.path.property_keys
            if keys:
                return "data" + "".join(f"[{constant(key)}]" for key in keys)
            return f"{constant(node.evaluate)}(data, context, variables)"
        if any(name in getattr(node, "text", "") for name in _IMPURE):
            return None
        call = getattr(node, "call", None)  # an intrinsic: its call tree
        if call is None:
            return f"{constant(node.evaluate)}(data, context, variables)"
        if _literal_call(call):
            # Nothing in it varies (States.ArrayRange(1, 20, 1)): its value is shared as
            # every constant of a template is; a call that fails is left to fail each time.
            try:
                return constant(call.evaluate(None, None, {}))
            except StatesError:
                pass
        return f"{constant(call.evaluate)}(data, context, variables)"

    body = expr(root)
    if body is None or isinstance(root, _Const):
        return template.evaluate
    names["_tree"] = root.evaluate
    source = (
        "def inlined(data, context, variables):\n"
        "    try:\n"
        f"        return {body}\n"
        "    except (KeyError, IndexError, TypeError):\n"
        "        return _tree(data, context, variables)\n"
    )
    exec(compile(source, f"<template {template.field}>", "exec"), names)
    inlined: Callable[[Any, Any, Mapping[str, Any]], Any] = names["inlined"]
    return inlined
