"""State machine definitions taken from infrastructure templates.

A CloudFormation or SAM template (JSON or YAML with short tags, CDK's ``cdk.out`` output
included) or a Terraform file holds state machines among other resources.
:func:`read_definition` accepts such a file as well as a bare definition: it picks the state
machine (``resource``, or the only one), evaluates what it can of the template offline, and
returns the definition as a :class:`~asl.source.Document` with the stand-in values it had to
invent (:class:`~asl.templates.placeholders.Placeholder`), so commands can say so.

Only the standard library is imported here: the YAML tag loader and the HCL parser are
imported when a template is actually read, so a bare definition costs nothing more.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from asl.errors import SourceError
from asl.source import Document, escape_pointer, load_definition
from asl.templates.context import Context, Subs, TemplateError, parse_subs
from asl.templates.placeholders import Placeholder

__all__ = [
    "Placeholder",
    "TemplateDefinition",
    "TemplateError",
    "add_arguments",
    "parse_subs",
    "print_messages",
    "read_definition",
    "template_kind",
]

Kind = Literal["cloudformation", "terraform"]

#: A top-level key only templates have (YAML or JSON).
_YAML_TEMPLATE = re.compile(r"^(AWSTemplateFormatVersion|Resources|Transform)\s*:", re.MULTILINE)
_JSON_TEMPLATE = re.compile(r'"(AWSTemplateFormatVersion|Resources)"\s*:')


@dataclass(frozen=True, slots=True)
class TemplateDefinition:
    """A definition as read from a file, with what reading it required."""

    #: The definition, ready for validation and compilation.
    document: Document
    #: The state machine's name in the template (None for a bare definition file).
    resource: str | None = None
    #: Values invented for references the template cannot resolve offline.
    placeholders: tuple[Placeholder, ...] = ()
    #: Other remarks for the user (a ``${key}`` with no substitution...).
    notes: tuple[str, ...] = ()
    #: The template file the definition was taken from ("" for a bare definition).
    template: str = ""

    def messages(self) -> list[str]:
        """The lines a command prints on stderr about this definition."""
        if self.resource is None:
            return []
        where = f"{self.template}#{self.resource}"
        lines = [f"{where}: placeholder {p.describe()}" for p in self.placeholders]
        return lines + [f"{where}: note: {note}" for note in self.notes]


def template_kind(name: str, text: str) -> Kind | None:
    """Whether ``text`` (read from file ``name``) is a template, and of which kind."""
    if name.lower().endswith(".tf"):
        return "terraform"
    head = text.lstrip()[:1]
    if head == "{":
        return "cloudformation" if _json_template(text) else None
    return "cloudformation" if _YAML_TEMPLATE.search(text) else None


def _json_template(text: str) -> bool:
    """A JSON template has Resources at the top; a definition has States there."""
    if not _JSON_TEMPLATE.search(text):
        return False
    try:
        value = load_definition(text, format="json").value
    except SourceError:
        return True  # let the template reader report the syntax error in its own words
    return "Resources" in value and "States" not in value


def read_definition(
    path: str | os.PathLike[str],
    *,
    resource: str | None = None,
    subs: Mapping[str, str] | Iterable[str] = (),
    data: bytes | None = None,
    format: Literal["json", "yaml"] | None = None,
) -> TemplateDefinition:
    """Read the definition in ``path`` (or ``data`` read from it): a bare definition, or
    state machine ``resource`` of a template (default: its only one).

    ``subs`` (a mapping, or ``KEY=VALUE`` strings) replaces template parameters,
    ``DefinitionSubstitutions``, Terraform variables and references by name. Raises
    :class:`~asl.errors.SourceError` for unreadable text and :class:`TemplateError` when
    the template holds no usable state machine.
    """
    name = os.fspath(path)
    if data is None and os.path.isdir(name):
        return _from_cdk_out(name, resource, subs)
    text = _text(name, data)
    kind = template_kind(name, text)
    values = dict(subs) if isinstance(subs, Mapping) else parse_subs(subs)
    if kind is None:
        if resource is not None or values:
            raise TemplateError(
                "--resource and --sub apply to templates; this is a bare definition",
                source=name,
            )
        if format is None and name.lower().endswith((".yaml", ".yml")):
            format = "yaml"
        return TemplateDefinition(load_definition(text, source=name, format=format))
    ctx = Context(name, Subs(values))
    base_dir = Path(name).resolve().parent
    machine = _from_terraform if kind == "terraform" else _from_cloudformation
    chosen, document = machine(text, ctx, resource, base_dir)
    ctx.unused_subs()
    placeholders = tuple(ctx.placeholders.values())
    return TemplateDefinition(document, chosen, placeholders, tuple(ctx.notes), name)


def _from_cdk_out(
    folder: str, resource: str | None, subs: Mapping[str, str] | Iterable[str]
) -> TemplateDefinition:
    """A CDK output folder: the state machine among all its ``*.template.json`` stacks.

    ``resource`` is a logical id, or ``Stack/LogicalId`` when two stacks share an id.
    """
    from asl.templates.cloudformation import read_template

    machines: dict[str, Path] = {}
    for stack in sorted(Path(folder).glob("*.template.json")):
        template = read_template(_text(str(stack), None), Context(str(stack)), json_text=True)
        stem = stack.name.removesuffix(".template.json")
        machines.update((f"{stem}/{machine}", stack) for machine in template.state_machines())
    ctx = Context(folder)
    if resource is None:
        chosen = _choose(ctx, list(machines), None, "state machine in its *.template.json")
    else:
        matches = [name for name in machines if resource in (name, name.partition("/")[2])]
        if len(matches) != 1:
            listed = ", ".join(matches if matches else machines) or "none"
            found = "is in several stacks" if matches else "names no state machine"
            ctx.error(f"{resource!r} {found} (state machines: {listed})")
        chosen = matches[0]
    return read_definition(machines[chosen], resource=chosen.partition("/")[2], subs=subs)


def _text(name: str, data: bytes | None) -> str:
    if data is None:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read file: {exc.strerror or exc}", source=name) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"the file is not valid UTF-8 ({exc.reason})", source=name) from exc


def _choose(ctx: Context, available: list[str], resource: str | None, what: str) -> str:
    if resource is not None:
        short = resource.rpartition(".")[2] if resource.startswith("aws_") else resource
        if short in available:
            return short
        listed = ", ".join(available) or "none"
        ctx.error(f"no state machine named {resource!r} (state machines: {listed})")
    if not available:
        ctx.error(f"no state machine in this template (no {what})")
    if len(available) > 1:
        ctx.error(
            f"{len(available)} state machines ({', '.join(available)}): choose one with --resource"
        )
    return available[0]


def _from_cloudformation(
    text: str, ctx: Context, resource: str | None, base_dir: Path
) -> tuple[str, Document]:
    from asl.templates.cloudformation import STATE_MACHINE_TYPES, read_template

    template = read_template(text, ctx, json_text=text.lstrip().startswith("{"))
    chosen = _choose(ctx, template.state_machines(), resource, " or ".join(STATE_MACHINE_TYPES))
    found = template.definition(chosen, base_dir)
    if found.file is not None:
        shown = os.path.join(os.path.dirname(ctx.source), os.path.relpath(found.file, base_dir))
        return chosen, _document(found.definition, shown)
    if found.field == "Definition" and isinstance(found.definition, dict):
        # Written inline: point diagnostics at the template's own lines.
        prefix = f"/Resources/{escape_pointer(chosen)}/Properties/Definition"
        positions = {
            pointer[len(prefix) :]: where
            for pointer, where in template.positions.items()
            if pointer == prefix or pointer.startswith(prefix + "/")
        }
        return chosen, Document(found.definition, text, ctx.source, positions)
    return chosen, _document(found.definition, f"{ctx.source}#{chosen}")


def _from_terraform(
    text: str, ctx: Context, resource: str | None, base_dir: Path
) -> tuple[str, Document]:
    from asl.templates.terraform import RESOURCE_TYPE, read_terraform

    terraform = read_terraform(text, ctx, base_dir)
    chosen = _choose(ctx, terraform.state_machines(), resource, f"{RESOURCE_TYPE} resource")
    return chosen, _document(terraform.definition(chosen), f"{ctx.source}#{chosen}")


def _document(definition: Any, source: str) -> Document:
    """The definition as a Document: parsed when text, printed then parsed when an object,
    so positions and snippets refer to the definition as resolved."""
    if isinstance(definition, str):
        looks_json = definition.lstrip()[:1] in ("{", "[")
        return load_definition(definition, source=source, format=None if looks_json else "yaml")
    import json

    return load_definition(json.dumps(definition, indent=2), source=source, format="json")


def add_arguments(parser: Any) -> None:
    """Add ``--resource`` and ``--sub`` to an argparse parser (commands that take a file)."""
    parser.add_argument(
        "--resource",
        metavar="NAME",
        help="the state machine to take from a CloudFormation/SAM/CDK template or Terraform "
        "file (default: its only one)",
    )
    parser.add_argument(
        "--sub",
        dest="subs",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a template parameter, substitution, variable or reference value (repeatable)",
    )


def print_messages(read: TemplateDefinition, stream: Any) -> None:
    """Tell the user, one line each, what a template read had to invent."""
    for line in read.messages():
        stream.write(f"{line}\n")
