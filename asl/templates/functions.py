"""CloudFormation's intrinsic functions, evaluated offline over one template.

``Ref`` and ``Fn::GetAtt`` of a parameter give its ``Default``; of a resource, a stand-in
named after it (:mod:`asl.templates.placeholders`); ``--sub NAME=VALUE`` wins over both.
The other functions (``Fn::Sub``, ``Fn::Join``, ``Fn::If`` with the template's
``Conditions``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, ``Fn::Base64``,
``Fn::GetAZs``, ``Fn::ImportValue``, ``Fn::ToJsonString``, ``Fn::Length``) are computed as
CloudFormation documents them. A function that cannot be computed is a
:class:`~asl.templates.context.TemplateError` naming its JSON Pointer in the template.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from asl.source import escape_pointer
from asl.templates.context import Context
from asl.templates.placeholders import cfn_value, pseudo_parameter

__all__ = ["NO_VALUE", "Resolver"]


class _NoValue:
    """``AWS::NoValue``: the property or list item that holds it is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

#: What may stand between ``${`` and ``}`` in Fn::Sub: a name, ``Res.Attr``, ``AWS::Region``.
_SUB_NAME = re.compile(r"[A-Za-z0-9_:.\-]+")

Where = Callable[[str], "tuple[int, int] | None"]


class Resolver:
    """Evaluates intrinsic functions in values taken from one template."""

    def __init__(self, template: Mapping[str, Any], ctx: Context, where: Where) -> None:
        self.parameters: Mapping[str, Any] = _section(template, "Parameters")
        self.resources: Mapping[str, Any] = _section(template, "Resources")
        self.mappings: Mapping[str, Any] = _section(template, "Mappings")
        self.conditions: Mapping[str, Any] = _section(template, "Conditions")
        self.ctx = ctx
        self.where = where
        self._decided: dict[str, bool] = {}

    def fail(self, pointer: str, message: str) -> NoReturn:
        """Raise a TemplateError at ``pointer`` (its line when known)."""
        line, column = self.where(pointer) or (None, None)
        self.ctx.error(f"{message} (at {pointer})", line, column)

    def resolve(self, value: Any, pointer: str) -> Any:
        """``value`` with every intrinsic function in it evaluated."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                function = _FUNCTIONS.get(key)
                if function is not None:
                    return function(self, argument, f"{pointer}/{escape_pointer(key)}")
            items = (
                (k, self.resolve(v, f"{pointer}/{escape_pointer(k)}")) for k, v in value.items()
            )
            return {k: v for k, v in items if v is not NO_VALUE}
        if isinstance(value, list):
            resolved = (self.resolve(v, f"{pointer}/{i}") for i, v in enumerate(value))
            return [v for v in resolved if v is not NO_VALUE]
        return value

    # --- Ref and Fn::GetAtt -------------------------------------------------------------

    def ref(self, name: Any, pointer: str) -> Any:
        if not isinstance(name, str):
            return self.fail(pointer, "Ref expects the name of a parameter or resource")
        if name in self.ctx.subs:
            return self.ctx.subs[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        pseudo = pseudo_parameter(name, self.ctx.region, self.ctx.account)
        if pseudo is not None:
            return self.ctx.invent(name, pseudo, "pseudo parameter")
        if name in self.parameters:
            return self._parameter(name, pointer)
        resource = self.resources.get(name)
        if isinstance(resource, Mapping):
            kind = str(resource.get("Type", "resource"))
            value = cfn_value(kind, name, None, self.ctx.region, self.ctx.account)
            return self.ctx.invent(name, value, kind)
        return self.fail(pointer, f"Ref to {name!r}, which is no parameter or resource")

    def _parameter(self, name: str, pointer: str) -> Any:
        declared = self.parameters[name]
        if not isinstance(declared, Mapping) or "Default" not in declared:
            return self.fail(pointer, f"parameter {name!r} has no Default: pass --sub {name}=VALUE")
        default = declared["Default"]
        if str(declared.get("Type", "")).startswith(("CommaDelimitedList", "List<")):
            return [item.strip() for item in str(default).split(",")]
        return default if isinstance(default, str) else json.dumps(default)

    def get_att(self, argument: Any, pointer: str) -> Any:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            return self.fail(pointer, "Fn::GetAtt expects [resource, attribute]")
        name, attribute = argument[0], self.resolve(argument[1], f"{pointer}/1")
        return self.attribute(str(name), str(attribute), pointer)

    def attribute(self, name: str, attribute: str, pointer: str) -> Any:
        reference = f"{name}.{attribute}"
        if reference in self.ctx.subs:
            return self.ctx.subs[reference]
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            return self.fail(pointer, f"Fn::GetAtt of {name!r}, which is no resource")
        kind = str(resource.get("Type", "resource"))
        value = cfn_value(kind, name, attribute, self.ctx.region, self.ctx.account)
        return self.ctx.invent(reference, value, kind)

    # --- Fn::Sub ------------------------------------------------------------------------

    def sub(self, argument: Any, pointer: str) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list):
            if len(argument) != 2 or not isinstance(argument[1], Mapping):
                return self.fail(pointer, "Fn::Sub expects a string or [string, {variables}]")
            variables = self.resolve(argument[1], f"{pointer}/1")
            argument = argument[0]
        if not isinstance(argument, str):
            return self.fail(pointer, "Fn::Sub expects a string or [string, {variables}]")
        return self.sub_text(argument, variables, pointer)

    def sub_text(self, text: str, variables: Mapping[str, Any], pointer: str) -> str:
        """``text`` with each ``${name}`` replaced: a variable, a Ref, or a GetAtt."""
        out: list[str] = []
        start = 0
        while (opening := text.find("${", start)) >= 0:
            closing = text.find("}", opening)
            if closing < 0:
                return self.fail(
                    pointer, f"malformed Fn::Sub: '${{' at offset {opening} is never closed"
                )
            out.append(text[start:opening])
            name = text[opening + 2 : closing].strip()
            out.append(self._sub_variable(name, variables, pointer))
            start = closing + 1
        out.append(text[start:])
        return "".join(out)

    def _sub_variable(self, name: str, variables: Mapping[str, Any], pointer: str) -> str:
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is written as ${Literal}
        if not _SUB_NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:37] + "..."
            return self.fail(pointer, f"malformed Fn::Sub: ${{{shown}}} is not a variable name")
        if name in variables:
            value = variables[name]
        elif "." in name and name not in self.ctx.subs:
            resource, attribute = name.split(".", 1)
            value = self.attribute(resource, attribute, pointer)
        else:
            value = self.ref(name, pointer)
        if isinstance(value, bool | int | float):
            return json.dumps(value)
        if not isinstance(value, str):
            return self.fail(pointer, f"Fn::Sub: ${{{name}}} is not a string")
        return value

    # --- the other functions --------------------------------------------------------------

    def join(self, argument: Any, pointer: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return self.fail(pointer, "Fn::Join expects [delimiter, [values]]")
        delimiter, items = argument[0], self.resolve(argument[1], f"{pointer}/1")
        if not isinstance(items, list) or not isinstance(delimiter, str):
            return self.fail(pointer, "Fn::Join expects [delimiter, [values]]")
        parts = [item if isinstance(item, str) else json.dumps(item) for item in items]
        return delimiter.join(parts)

    def select(self, argument: Any, pointer: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return self.fail(pointer, "Fn::Select expects [index, [values]]")
        index, items = self.resolve(argument, pointer)
        try:
            return items[int(index)]
        except (ValueError, TypeError, IndexError, KeyError):
            return self.fail(pointer, f"Fn::Select: no item {index!r} in {items!r}")

    def split(self, argument: Any, pointer: str) -> Any:
        resolved = self.resolve(argument, pointer)
        if not (isinstance(resolved, list) and len(resolved) == 2):
            return self.fail(pointer, "Fn::Split expects [delimiter, string]")
        delimiter, text = resolved
        if not isinstance(delimiter, str) or not isinstance(text, str) or not delimiter:
            return self.fail(pointer, "Fn::Split expects [delimiter, string]")
        return text.split(delimiter)

    def find_in_map(self, argument: Any, pointer: str) -> Any:
        resolved = self.resolve(argument, pointer)
        if not (isinstance(resolved, list) and len(resolved) in (3, 4)):
            return self.fail(pointer, "Fn::FindInMap expects [map, top key, second key]")
        try:
            return self.mappings[resolved[0]][resolved[1]][resolved[2]]
        except (KeyError, TypeError):
            if len(resolved) == 4 and isinstance(resolved[3], Mapping):
                return resolved[3].get("DefaultValue")
            return self.fail(pointer, f"Fn::FindInMap: no {'/'.join(map(str, resolved[:3]))}")

    def if_(self, argument: Any, pointer: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            return self.fail(pointer, "Fn::If expects [condition, value if true, value if false]")
        chosen = 1 if self.condition(argument[0], pointer) else 2
        return self.resolve(argument[chosen], f"{pointer}/{chosen}")

    def condition(self, name: Any, pointer: str) -> bool:
        """The value of the template's condition ``name``."""
        if not isinstance(name, str) or name not in self.conditions:
            self.fail(pointer, f"unknown condition {name!r}")
        if name not in self._decided:
            self._decided[name] = False  # a condition that refers to itself is false
            value = self.resolve(self.conditions[name], f"/Conditions/{escape_pointer(name)}")
            self._decided[name] = _truth(value)
        return self._decided[name]

    def equals(self, argument: Any, pointer: str) -> Any:
        resolved = self.resolve(argument, pointer)
        if not (isinstance(resolved, list) and len(resolved) == 2):
            return self.fail(pointer, "Fn::Equals expects [value, value]")
        return str(resolved[0]) == str(resolved[1])

    def and_(self, argument: Any, pointer: str) -> Any:
        return all(_truth(value) for value in self._conditions(argument, pointer))

    def or_(self, argument: Any, pointer: str) -> Any:
        return any(_truth(value) for value in self._conditions(argument, pointer))

    def not_(self, argument: Any, pointer: str) -> Any:
        values = self._conditions(argument, pointer)
        if len(values) != 1:
            return self.fail(pointer, "Fn::Not expects [condition]")
        return not _truth(values[0])

    def _conditions(self, argument: Any, pointer: str) -> list[Any]:
        if not isinstance(argument, list):
            self.fail(pointer, "expects a list of conditions")
        return [self.resolve(item, f"{pointer}/{i}") for i, item in enumerate(argument)]

    def condition_ref(self, argument: Any, pointer: str) -> Any:
        return self.condition(argument, pointer)

    def base64(self, argument: Any, pointer: str) -> Any:
        text = self.resolve(argument, pointer)
        if not isinstance(text, str):
            return self.fail(pointer, "Fn::Base64 expects a string")
        return base64.b64encode(text.encode()).decode()

    def get_azs(self, argument: Any, pointer: str) -> Any:
        region = self.resolve(argument, pointer) or self.ctx.region
        zones = [f"{region}{letter}" for letter in "abc"]
        self.ctx.invent(f"Fn::GetAZs {region}", ",".join(zones), "availability zones")
        return zones

    def import_value(self, argument: Any, pointer: str) -> Any:
        name = self.resolve(argument, pointer)
        if not isinstance(name, str):
            return self.fail(pointer, "Fn::ImportValue expects an export name")
        if name in self.ctx.subs:
            return self.ctx.subs[name]
        return self.ctx.invent(f"Fn::ImportValue {name}", name, "another stack's export")

    def to_json_string(self, argument: Any, pointer: str) -> Any:
        return json.dumps(self.resolve(argument, pointer), separators=(",", ":"))

    def length(self, argument: Any, pointer: str) -> Any:
        value = self.resolve(argument, pointer)
        if not isinstance(value, list):
            return self.fail(pointer, "Fn::Length expects a list")
        return len(value)


def _truth(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _section(template: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = template.get(name)
    return section if isinstance(section, Mapping) else {}


_Function = Callable[[Resolver, Any, str], Any]

#: Intrinsic function name -> its implementation (dispatch by table).
_FUNCTIONS: dict[str, _Function] = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.get_att,
    "Fn::Sub": Resolver.sub,
    "Fn::Join": Resolver.join,
    "Fn::Select": Resolver.select,
    "Fn::Split": Resolver.split,
    "Fn::FindInMap": Resolver.find_in_map,
    "Fn::If": Resolver.if_,
    "Fn::Equals": Resolver.equals,
    "Fn::And": Resolver.and_,
    "Fn::Or": Resolver.or_,
    "Fn::Not": Resolver.not_,
    "Condition": Resolver.condition_ref,
    "Fn::Base64": Resolver.base64,
    "Fn::GetAZs": Resolver.get_azs,
    "Fn::ImportValue": Resolver.import_value,
    "Fn::ToJsonString": Resolver.to_json_string,
    "Fn::Length": Resolver.length,
}
