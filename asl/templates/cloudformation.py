"""State machine definitions in CloudFormation and SAM templates (CDK's output included).

``AWS::StepFunctions::StateMachine`` takes its definition from ``DefinitionString`` (a
string, often built with ``Fn::Sub`` or, in CDK output, ``Fn::Join``), ``Definition`` (an
object) or ``DefinitionS3Location`` (an S3 object: it cannot be read offline), then applies
``DefinitionSubstitutions``. ``AWS::Serverless::StateMachine`` takes ``Definition`` or
``DefinitionUri`` (a file beside the template, or S3) and the same substitutions.

YAML templates are read with cfn-flip's loader, which turns the short tags (``!Sub``,
``!GetAtt``...) into their long form; positions come from the same loader's node graph.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from asl.source import escape_pointer, load_definition
from asl.templates.context import Context, substitute
from asl.templates.functions import Resolver

__all__ = ["STATE_MACHINE_TYPES", "Found", "Template", "read_template"]

STATE_MACHINE_TYPES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")

#: What a definition came out as: JSON/YAML text, or an already parsed object.
Definition = str | dict[str, Any]


class Found(NamedTuple):
    """A state machine's definition and where it was written."""

    definition: Definition
    #: The property it came from (DefinitionString, Definition, DefinitionUri).
    field: str
    #: The file DefinitionUri named, else None.
    file: Path | None = None


class Template:
    """One parsed template, the positions of its parts, and the state machines in it."""

    def __init__(
        self, value: dict[str, Any], positions: Mapping[str, tuple[int, int]], ctx: Context
    ) -> None:
        self.value = value
        self.positions = positions
        self.ctx = ctx
        self.resolver = Resolver(value, ctx, self.where)

    def where(self, pointer: str) -> tuple[int, int] | None:
        """(line, column) of ``pointer`` or of its nearest ancestor with one."""
        while True:
            found = self.positions.get(pointer)
            if found is not None or not pointer:
                return found
            pointer = pointer.rpartition("/")[0]

    def state_machines(self) -> list[str]:
        """The logical ids of the state machine resources, in template order."""
        resources = self.value.get("Resources")
        if not isinstance(resources, Mapping):
            return []
        return [
            name
            for name, body in resources.items()
            if isinstance(body, Mapping) and body.get("Type") in STATE_MACHINE_TYPES
        ]

    def definition(self, name: str, base_dir: Path) -> Found:
        """The definition of state machine ``name``, substitutions applied."""
        pointer = f"/Resources/{escape_pointer(name)}/Properties"
        properties = self.value["Resources"][name].get("Properties")
        if not isinstance(properties, Mapping):
            return self.resolver.fail(pointer, f"{name} has no Properties")
        found = self._raw_definition(name, properties, pointer, base_dir)
        if "DefinitionSubstitutions" not in properties and not self.ctx.subs:
            return found  # Step Functions substitutes nothing then
        subs = self._substitutions(properties, pointer)
        definition = self._apply(found.definition, subs, f"{pointer}/{found.field}")
        return found._replace(definition=definition)

    def _raw_definition(
        self, name: str, properties: Mapping[str, Any], pointer: str, base_dir: Path
    ) -> Found:
        for field in ("DefinitionString", "Definition"):
            if field in properties:
                value = self.resolver.resolve(properties[field], f"{pointer}/{field}")
                if isinstance(value, str | dict):
                    return Found(value, field)
                return self.resolver.fail(
                    f"{pointer}/{field}", f"{field} of {name} is neither a string nor an object"
                )
        if "DefinitionUri" in properties:
            return self._definition_uri(name, properties["DefinitionUri"], pointer, base_dir)
        if "DefinitionS3Location" in properties:
            location = self.resolver.resolve(properties["DefinitionS3Location"], pointer)
            return self.resolver.fail(
                f"{pointer}/DefinitionS3Location",
                f"the definition of {name} is in S3 ({_s3_text(location)}) and cannot be read "
                "offline: download it and pass the file, or use Definition/DefinitionString",
            )
        return self.resolver.fail(
            pointer, f"{name} has no Definition, DefinitionString, DefinitionUri or S3 location"
        )

    def _definition_uri(self, name: str, uri: Any, pointer: str, base_dir: Path) -> Found:
        uri = self.resolver.resolve(uri, f"{pointer}/DefinitionUri")
        if not isinstance(uri, str) or uri.startswith("s3://"):
            return self.resolver.fail(
                f"{pointer}/DefinitionUri",
                f"the definition of {name} is in S3 ({_s3_text(uri)}) and cannot be read "
                "offline: point DefinitionUri at a local file",
            )
        path = base_dir / uri
        try:
            return Found(path.read_text("utf-8"), "DefinitionUri", path)
        except OSError as exc:
            return self.resolver.fail(
                f"{pointer}/DefinitionUri", f"cannot read {path}: {exc.strerror or exc}"
            )

    def _substitutions(self, properties: Mapping[str, Any], pointer: str) -> dict[str, str]:
        raw = properties.get("DefinitionSubstitutions", {})
        where = f"{pointer}/DefinitionSubstitutions"
        values = self.resolver.resolve(raw, where)
        if not isinstance(values, Mapping):
            self.resolver.fail(where, "DefinitionSubstitutions must be an object")
        return {
            str(key): value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
        }

    def _apply(self, definition: Definition, subs: Mapping[str, str], pointer: str) -> Definition:
        """Step Functions' ``${key}`` substitution; ``--sub`` values win."""

        def lookup(key: str) -> str | None:
            return self.ctx.subs.get(key, subs.get(key))

        if isinstance(definition, str):
            text, missing = substitute(definition, lookup)
        else:
            text, missing = substitute(json.dumps(definition), _json_escaped(lookup))
        for key in dict.fromkeys(missing) if subs else ():
            self.ctx.note(
                f"no substitution for ${{{key}}} (at {pointer}): left as written; "
                f"pass --sub {key}=VALUE"
            )
        return text if isinstance(definition, str) else dict(json.loads(text))


def _json_escaped(lookup: Any) -> Any:
    """A lookup whose values can go inside a JSON string literal."""

    def escaped(key: str) -> str | None:
        value = lookup(key)
        return None if value is None else json.dumps(value)[1:-1]

    return escaped


def _s3_text(location: Any) -> str:
    if isinstance(location, Mapping):
        return f"s3://{location.get('Bucket', '?')}/{location.get('Key', '?')}"
    return str(location)


def read_template(text: str, ctx: Context, *, json_text: bool) -> Template:
    """Parse template ``text`` (JSON, or YAML with CloudFormation's short tags)."""
    if json_text:
        document = load_definition(text, source=ctx.source, format="json")
        return Template(document.value, document.positions, ctx)
    value, positions = _load_yaml(text, ctx)
    if not isinstance(value, dict):
        ctx.error("a template must be a mapping")
    return Template(_plain(value), positions, ctx)


def _plain(value: Any) -> Any:
    """cfn-flip's ordered dicts as plain dicts (JSON data only)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@functools.cache
def _loader() -> type[Any]:
    """cfn-flip's loader, keeping YAML 1.1 timestamps as text (2010-09-09 stays a string)."""
    from cfn_tools.yaml_loader import CfnYamlLoader

    timestamp = "tag:yaml.org,2002:timestamp"
    resolvers = {
        first: [(tag, regex) for tag, regex in entries if tag != timestamp]
        for first, entries in CfnYamlLoader.yaml_implicit_resolvers.items()
    }
    return type("_TemplateLoader", (CfnYamlLoader,), {"yaml_implicit_resolvers": resolvers})


def _load_yaml(text: str, ctx: Context) -> tuple[Any, dict[str, tuple[int, int]]]:
    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            ctx.error("the template is empty", 1, 1)
        positions: dict[str, tuple[int, int]] = {}
        _record(node, "", positions, 0)
        return loader.construct_document(node), positions
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(filter(None, (exc.context, exc.problem))) or "invalid YAML"
        ctx.error(message, *((mark.line + 1, mark.column + 1) if mark else (None, None)))
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        ctx.error(f"invalid YAML: {exc}")
    finally:
        loader.dispose()


def _record(node: Any, pointer: str, positions: dict[str, tuple[int, int]], depth: int) -> None:
    """Map JSON Pointers to (line, column) over a YAML node graph (short tags included)."""
    import yaml

    where = (node.start_mark.line + 1, node.start_mark.column + 1)
    positions.setdefault(pointer, where)
    if depth > 200:
        return
    if isinstance(node.tag, str) and node.tag.startswith("!"):
        name = node.tag[1:]
        pointer = f"{pointer}/{name if name in ('Ref', 'Condition') else 'Fn::' + name}"
        positions.setdefault(pointer, where)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            member = f"{pointer}/{escape_pointer(str(key.value))}"
            positions.setdefault(member, (key.start_mark.line + 1, key.start_mark.column + 1))
            _record(value, member, positions, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, f"{pointer}/{index}", positions, depth + 1)
