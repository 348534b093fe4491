"""State machine definitions in Terraform files (``aws_sfn_state_machine``).

The file is parsed by python-hcl2. The ``definition`` argument is evaluated as far as an
offline reader can: ``jsonencode({...})``, a heredoc or quoted string, ``file(PATH)``,
``templatefile(PATH, {vars})`` (``${name}`` interpolation, as in the examples of the AWS
provider), and ``local.NAME``. References inside are resolved: ``var.NAME`` from ``--sub``
or the variable's ``default``, ``path.module``, the region/account data sources, and
resource attributes (``aws_lambda_function.hello.arn``) as stand-ins named after the
resource. Anything else (other functions, ``%{`` directives) is an error that says which
``--sub`` would answer it.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from asl.templates.context import Context
from asl.templates.placeholders import pseudo_parameter, terraform_value

__all__ = ["TerraformFile", "read_terraform"]

RESOURCE_TYPE = "aws_sfn_state_machine"
#: ``${...}`` not preceded by ``$`` (``$${`` is HCL's escape for a literal ``${``).
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^{}]*)\}")
_HEREDOC = re.compile(r"^<<(-?)(\w+)\n(.*?)\n?[ \t]*\2$", re.DOTALL)
_CALL = re.compile(r"^\$\{\s*(jsonencode|templatefile|file)\((.*)\)\s*\}$", re.DOTALL)
_DATA = {
    "data.aws_region.current.name": "AWS::Region",
    "data.aws_region.current.id": "AWS::Region",
    "data.aws_region.current.region": "AWS::Region",
    "data.aws_caller_identity.current.account_id": "AWS::AccountId",
    "data.aws_partition.current.partition": "AWS::Partition",
}


class TerraformFile:
    """One parsed ``.tf`` file: its state machines, variables and locals."""

    def __init__(self, text: str, data: Mapping[str, Any], ctx: Context, base_dir: Path) -> None:
        self.text = text
        self.ctx = ctx
        self.base_dir = base_dir
        self.machines = _blocks(data, "resource").get(RESOURCE_TYPE, {})
        self.variables = _named(data, "variable")
        self.locals: dict[str, Any] = {}
        for block in data.get("locals", []):
            self.locals.update(block)

    def state_machines(self) -> list[str]:
        return list(self.machines)

    def line_of(self, name: str) -> int | None:
        """The line of ``resource "aws_sfn_state_machine" "name"``."""
        pattern = rf'resource\s+"?{RESOURCE_TYPE}"?\s+"?{re.escape(name)}"?\s*\{{'
        match = re.search(pattern, self.text)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def fail(self, name: str, message: str) -> NoReturn:
        self.ctx.error(f"{RESOURCE_TYPE}.{name}: {message}", self.line_of(name), 1)

    def definition(self, name: str) -> str | dict[str, Any]:
        """The definition of ``name``: JSON text, or the object given to jsonencode."""
        body = self.machines[name]
        if "definition" not in body:
            self.fail(name, "has no definition argument")
        definition = self._expression(name, body["definition"])
        if not isinstance(definition, str | dict):
            self.fail(name, "the definition is neither a JSON string nor an object")
        return definition

    def _expression(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return self._interpolate_all(name, value)
        value = _heredoc(value)
        call = _CALL.match(value.strip())
        if call is None:
            whole = _INTERPOLATION.fullmatch(value.strip())
            if whole and whole.group(1).strip().startswith("local."):
                return self._local(name, whole.group(1).strip())
            return self._interpolate(name, value)
        function, arguments = call.groups()
        args = self._arguments(name, arguments)
        if function == "jsonencode" and len(args) == 1:
            return self._interpolate_all(name, args[0])
        if function == "file" and len(args) == 1:
            return self._read(name, self._interpolate(name, str(args[0])))
        if function == "templatefile" and len(args) == 2 and isinstance(args[1], Mapping):
            text = self._read(name, self._interpolate(name, str(args[0])))
            variables = self._interpolate_all(name, args[1])
            return self._render(name, text, variables)
        return self.fail(name, f"cannot evaluate {function}() with these arguments offline")

    def _local(self, name: str, reference: str) -> Any:
        local = reference.removeprefix("local.")
        if local not in self.locals:
            return self.fail(name, f"no local value {local!r}")
        return self._expression(name, self.locals[local])

    def _arguments(self, name: str, text: str) -> list[Any]:
        import hcl2

        try:
            parsed = hcl2.loads(f"__arguments = [{text}]\n", serialization_options=_options())
        except Exception as exc:  # lark's errors have no common public base here
            self.fail(name, f"cannot read the function's arguments: {exc}")
        return list(parsed["__arguments"])

    def _read(self, name: str, path: str) -> str:
        target = self.base_dir / path
        try:
            return target.read_text("utf-8")
        except OSError as exc:
            self.fail(name, f"cannot read {target}: {exc.strerror or exc}")

    def _render(self, name: str, text: str, variables: Mapping[str, Any]) -> str:
        """templatefile's ``${name}`` interpolation (directives are not supported)."""
        if "%{" in text:
            self.fail(name, "template directives (%{ ... }) are not supported")

        def replace(match: re.Match[str]) -> str:
            key = match.group(1).strip()
            if key in self.ctx.subs:
                return self.ctx.subs[key]
            if key not in variables:
                self.fail(name, f"the template uses ${{{key}}}, which is not passed")
            value = variables[key]
            return value if isinstance(value, str) else json.dumps(value)

        return self._unescape(name, _INTERPOLATION.sub(replace, text))

    def _interpolate_all(self, name: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._interpolate_all(name, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._interpolate_all(name, v) for v in value]
        if isinstance(value, str):
            value = _heredoc(value)
            whole = _INTERPOLATION.fullmatch(value)
            if whole is not None:  # "${expr}" alone is expr's value, of its own type
                return self._value(name, whole.group(1).strip())
            return self._interpolate(name, value)
        return value

    def _interpolate(self, name: str, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            return self._reference(name, match.group(1).strip())

        return self._unescape(name, _INTERPOLATION.sub(replace, text))

    def _unescape(self, name: str, text: str) -> str:
        """Refuse an expression left unevaluated; turn ``$${`` into ``${``."""
        left = re.search(r"(?<!\$)\$\{", text)
        if left is not None:
            shown = text[left.start() : left.start() + 60].splitlines()[0]
            self.fail(name, f"cannot evaluate {shown!r} offline")
        return text.replace("$${", "${")

    def _reference(self, name: str, reference: str) -> str:
        value = self._value(name, reference)
        return value if isinstance(value, str) else json.dumps(value)

    def _value(self, name: str, reference: str) -> Any:
        subs = self.ctx.subs
        if reference in subs:
            return subs[reference]
        parts = reference.split(".")
        if parts[0] == "var" and len(parts) == 2:
            return self._variable(name, parts[1])
        if parts[0] == "path" and len(parts) == 2:
            return "."
        if parts[0] == "local" and len(parts) == 2:
            return self._local(name, reference)
        if reference in _DATA:
            pseudo = _DATA[reference]
            value = subs.get(pseudo) or pseudo_parameter(pseudo, self.ctx.region, self.ctx.account)
            return self.ctx.invent(reference, str(value), "data source")
        if len(parts) == 3 and re.fullmatch(r"aws_\w+", parts[0]):
            value = terraform_value(parts[0], parts[1], parts[2], self.ctx.region, self.ctx.account)
            return self.ctx.invent(reference, value, parts[0])
        self.fail(name, f"cannot evaluate ${{{reference}}} offline: pass --sub '{reference}=VALUE'")

    def _variable(self, name: str, variable: str) -> Any:
        declared = self.variables.get(variable)
        declared = declared if isinstance(declared, Mapping) else {}
        if variable in self.ctx.subs:
            value = self.ctx.subs[variable]
            if str(declared.get("type", "")).strip("${}") not in ("number", "bool"):
                return value
            try:
                return json.loads(value)
            except ValueError:
                return self.fail(name, f"--sub {variable}={value}: not a {declared['type']}")
        if "default" in declared:
            return self._interpolate_all(name, declared["default"])
        self.fail(name, f"variable {variable!r} has no default: pass --sub {variable}=VALUE")


def _options() -> Any:
    from hcl2 import SerializationOptions

    return SerializationOptions(
        with_comments=False,
        explicit_blocks=False,
        preserve_heredocs=True,  # its unquoting of <<- heredocs escapes their quotes
        strip_string_quotes=True,
    )


def _heredoc(text: str) -> str:
    """The body of a heredoc as written (``<<-`` removes the common indentation)."""
    match = _HEREDOC.match(text)
    if match is None:
        return text
    indented, _, body = match.groups()
    return textwrap.dedent(body) if indented else body


def _blocks(data: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """``resource "type" "name" {...}`` blocks as {type: {name: body}}."""
    found: dict[str, dict[str, Any]] = {}
    for block in data.get(kind, []):
        for type_name, named in block.items():
            found.setdefault(type_name, {}).update(named)
    return found


def _named(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``variable "name" {...}`` blocks as {name: body}."""
    found: dict[str, Any] = {}
    for block in data.get(kind, []):
        found.update(block)
    return found


def read_terraform(text: str, ctx: Context, base_dir: Path) -> TerraformFile:
    """Parse Terraform ``text``; a syntax error names its line."""
    import hcl2

    try:
        data = hcl2.loads(text, serialization_options=_options())
    except Exception as exc:  # lark raises several unrelated types; all are syntax errors
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ctx.error(f"invalid Terraform: {first}", line, column)
    return TerraformFile(text, data, ctx, base_dir)
