"""An AWS Data Pipeline definition read into objects with their inherited fields.

Two forms are read: the definition file of the console and of ``aws datapipeline
get-pipeline-definition`` (``{"objects": [{"id", "name", "type", field: value...}],
"parameters": [...], "values": {...}}``, a field value a string, ``{"ref": ID}`` or a
list of them), and the API's form (``objects`` with ``fields: [{key, stringValue |
refValue}]``, ``parameterObjects``, ``parameterValues``).

Inheritance follows the Data Pipeline developer guide ("Pipeline object inheritance"):
an object takes the fields of the ``Default`` object, then of its ``parent`` chain, that
it does not set itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asl.errors import ASLError

__all__ = ["Parameter", "Pipeline", "PipelineError", "PipelineObject", "Ref", "read_pipeline"]


class PipelineError(ASLError):
    """Raised when a pipeline definition cannot be read; names the object and field."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A ``{"ref": ID}`` field value."""

    id: str


@dataclass(frozen=True, slots=True)
class PipelineObject:
    """One pipeline object with its own fields (values: str, Ref, or a tuple of them)."""

    id: str
    name: str
    #: The object's own fields, ``id``/``name`` excluded.
    own: Mapping[str, Any]
    #: Its fields with what it inherits (see :func:`read_pipeline`).
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: The fields the conversion read (through :meth:`text`, :meth:`refs`, :meth:`texts`),
    #: so that the report can name every field it did not carry over.
    read: set[str] = field(default_factory=set, compare=False, hash=False)

    @property
    def type(self) -> str:
        """``type``, or "" (the Default object has none)."""
        value = self.fields.get("type", "")
        return value if isinstance(value, str) else ""

    def text(self, key: str, default: str | None = None) -> str | None:
        """A string field, or ``default``; a reference or a list is an error."""
        self.read.add(key)
        value = self.fields.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise PipelineError(f"object '{self.id}': field '{key}' must be a string")
        return value

    def refs(self, key: str) -> tuple[str, ...]:
        """The ids a reference field names (one or a list); strings are errors."""
        self.read.add(key)
        value = self.fields.get(key)
        values = value if isinstance(value, tuple) else () if value is None else (value,)
        out = []
        for item in values:
            if not isinstance(item, Ref):
                raise PipelineError(
                    f"object '{self.id}': field '{key}' must be a reference "
                    f'{{"ref": "..."}}, not {item!r}'
                )
            out.append(item.id)
        return tuple(out)

    def texts(self, key: str) -> tuple[str, ...]:
        """A string field that may repeat (``step``, ``scriptArgument``)."""
        self.read.add(key)
        value = self.fields.get(key)
        values = value if isinstance(value, tuple) else () if value is None else (value,)
        for item in values:
            if not isinstance(item, str):
                raise PipelineError(f"object '{self.id}': field '{key}' must hold strings")
        return tuple(values)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A pipeline parameter: ``id`` (``myX``), type, default, and the value given."""

    id: str
    type: str = "String"
    default: str | None = None
    value: str | tuple[str, ...] | None = None
    optional: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The objects (in file order, with inherited fields) and parameters of a pipeline."""

    objects: Mapping[str, PipelineObject]
    parameters: Mapping[str, Parameter]

    def get(self, ref: str, referrer: PipelineObject, key: str) -> PipelineObject:
        """The object ``ref`` names; an unknown id is an error naming the referrer."""
        found = self.objects.get(ref)
        if found is None:
            raise PipelineError(
                f"object '{referrer.id}': field '{key}' refers to '{ref}', which is not "
                "an object of the pipeline"
            )
        return found

    def of_type(self, *types: str) -> list[PipelineObject]:
        """The objects whose type is one of ``types``, in file order."""
        return [obj for obj in self.objects.values() if obj.type in types]


def _value(raw: Any, where: str) -> Any:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool | int | float):
        return str(raw).lower() if isinstance(raw, bool) else str(raw)
    if isinstance(raw, Mapping) and set(raw) == {"ref"} and isinstance(raw["ref"], str):
        return Ref(raw["ref"])
    if isinstance(raw, list):
        items = [_value(item, where) for item in raw]
        if any(isinstance(item, tuple) for item in items):
            raise PipelineError(f"{where}: a list cannot hold lists")
        return tuple(items)
    raise PipelineError(f'{where}: a field value is a string, {{"ref": ID}} or a list of them')


def _api_fields(raw: Any, where: str) -> dict[str, Any]:
    """``fields: [{key, stringValue|refValue}]`` (the API's form) as a field mapping."""
    if not isinstance(raw, list):
        raise PipelineError(f"{where}: field 'fields' must be a list")
    fields: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise PipelineError(f"{where}: each entry of 'fields' needs a 'key'")
        key = item["key"]
        if "refValue" in item:
            value: Any = Ref(str(item["refValue"]))
        elif "stringValue" in item:
            value = str(item["stringValue"])
        else:
            raise PipelineError(f"{where}: field '{key}' has no stringValue or refValue")
        if key in fields:  # a repeated key is a list, as in the definition file
            before = fields[key]
            fields[key] = (*(before if isinstance(before, tuple) else (before,)), value)
        else:
            fields[key] = value
    return fields


def _object(raw: Any, index: int) -> PipelineObject:
    if not isinstance(raw, Mapping):
        raise PipelineError(f"objects[{index}]: an object must be a JSON object")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise PipelineError(f"objects[{index}]: field 'id' is required (a non-empty string)")
    where = f"object '{ident}'"
    if "fields" in raw and "type" not in raw:
        own = _api_fields(raw["fields"], where)
    else:
        own = {
            key: _value(value, f"{where}: field '{key}'")
            for key, value in raw.items()
            if key not in ("id", "name")
        }
    name = raw.get("name", ident)
    return PipelineObject(ident, name if isinstance(name, str) else ident, own)


def _parameters(document: Mapping[str, Any]) -> dict[str, Parameter]:
    raw_params = document.get("parameters", document.get("parameterObjects", []))
    raw_values = document.get("values", document.get("parameterValues", {}))
    if not isinstance(raw_params, list):
        raise PipelineError("field 'parameters' must be a list")
    values: dict[str, Any] = {}
    if isinstance(raw_values, list):  # the API's [{id, stringValue}]
        for item in raw_values:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise PipelineError("parameterValues: each entry needs an 'id'")
            values[item["id"]] = str(item.get("stringValue", ""))
    elif isinstance(raw_values, Mapping):
        values = dict(raw_values)
    else:
        raise PipelineError("field 'values' must be an object")
    out: dict[str, Parameter] = {}
    for index, raw in enumerate(raw_params):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise PipelineError(f"parameters[{index}]: field 'id' is required")
        ident = raw["id"]
        attrs = dict(raw)
        if isinstance(raw.get("attributes"), list):  # the API's [{key, stringValue}]
            attrs.update({a.get("key"): a.get("stringValue") for a in raw["attributes"]})
        value = values.get(ident)
        if isinstance(value, list):
            value = tuple(str(v) for v in value)
        elif value is not None:
            value = str(value)
        default = attrs.get("default")
        out[ident] = Parameter(
            id=ident,
            type=str(attrs.get("type", "String")),
            default=None if default is None else str(default),
            value=value,
            optional=str(attrs.get("optional", "false")).lower() == "true",
            description=str(attrs.get("description", "")),
        )
    unknown = sorted(set(values) - set(out))
    if unknown:
        raise PipelineError(f"values: '{unknown[0]}' is not a parameter of the pipeline")
    return out


def read_pipeline(document: Any) -> Pipeline:
    """A :class:`Pipeline` from a parsed definition; raises :class:`PipelineError`."""
    if not isinstance(document, Mapping):
        raise PipelineError("a pipeline definition is a JSON object with 'objects'")
    raw_objects = document.get("objects", document.get("pipelineObjects"))
    if not isinstance(raw_objects, list) or not raw_objects:
        raise PipelineError("field 'objects' is required: a non-empty list of pipeline objects")
    objects: dict[str, PipelineObject] = {}
    for index, raw in enumerate(raw_objects):
        obj = _object(raw, index)
        if obj.id in objects:
            raise PipelineError(f"objects[{index}]: the id '{obj.id}' is used twice")
        objects[obj.id] = obj
    resolved = {ident: _inherit(obj, objects) for ident, obj in objects.items()}
    parents = {o.own["parent"].id for o in objects.values() if isinstance(o.own.get("parent"), Ref)}
    for obj in resolved.values():
        if obj.id != "Default" and not obj.type and obj.id not in parents:
            raise PipelineError(f"object '{obj.id}': field 'type' is required")
    return Pipeline(resolved, _parameters(document))


def _inherit(obj: PipelineObject, objects: Mapping[str, PipelineObject]) -> PipelineObject:
    """Own fields over the ``parent`` chain's over the Default object's."""
    chain = [obj]
    seen = {obj.id}
    current = obj
    while isinstance(current.own.get("parent"), Ref):
        parent_id = current.own["parent"].id
        parent = objects.get(parent_id)
        if parent is None:
            raise PipelineError(
                f"object '{current.id}': field 'parent' refers to '{parent_id}', which is "
                "not an object of the pipeline"
            )
        if parent_id in seen:
            raise PipelineError(f"object '{obj.id}': field 'parent' makes a loop")
        seen.add(parent_id)
        chain.append(parent)
        current = parent
    fields: dict[str, Any] = {}
    default = objects.get("Default")
    if default is not None and obj.id != "Default":
        fields.update(default.own)
    for item in reversed(chain):
        fields.update(item.own)
    fields.pop("parent", None)
    return PipelineObject(obj.id, obj.name, obj.own, fields)
