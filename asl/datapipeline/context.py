"""What every part of a conversion shares: the pipeline, options, the report and the mocks.

:class:`Conversion` translates field text (``#{...}``) for one object, records what each
pipeline object became and what was not carried over, and collects one mocked answer per
Task state for ``--emit-mocks``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asl.datapipeline.expressions import Untranslatable, translate_text
from asl.datapipeline.pipeline import Pipeline, PipelineError, PipelineObject

__all__ = ["Conversion", "Entry", "duration_seconds", "s3_parts"]

_DURATION = re.compile(r"^\s*(\d+)\s*(second|minute|hour|day|week)s?\s*$", re.IGNORECASE)
_UNIT = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def duration_seconds(obj: PipelineObject, key: str) -> int | None:
    """A duration field (``"10 minutes"``) in seconds, or None when unset."""
    text = obj.text(key)
    if text is None:
        return None
    matched = _DURATION.match(text)
    if matched is None:
        raise PipelineError(
            f"object '{obj.id}': field '{key}' must be a duration like '10 minutes', not {text!r}"
        )
    return int(matched.group(1)) * _UNIT[matched.group(2).lower()]


def s3_parts(value: str) -> tuple[str, str]:
    """(Bucket, Key) of an ``s3://bucket/key`` value as written for ASL Arguments.

    ``value`` is either plain text or a ``{% ... %}`` template; a template is split at
    run time with JSONata string functions.
    """
    if value.startswith("{%"):
        uri = value[2:-2].strip()
        rest = f"$substringAfter({uri}, 's3://')"
        return f"{{% $substringBefore({rest}, '/') %}}", f"{{% $substringAfter({rest}, '/') %}}"
    if not value.startswith(("s3://", "s3n://")):
        raise Untranslatable(f"{value!r} is not an s3:// location")
    bucket, _, key = value.split("://", 1)[1].partition("/")
    return bucket, key


@dataclass
class Entry:
    """What one pipeline object became, and what of it was not carried over."""

    obj: PipelineObject
    became: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


@dataclass
class Conversion:
    """The state of one conversion (see the module doc)."""

    pipeline: Pipeline
    name: str
    region: str = "us-east-1"
    account: str = "123456789012"
    shell_runner: str = "activity"
    entries: dict[str, Entry] = field(default_factory=dict)
    #: State name → the mocked ``Return`` of that Task state.
    mocks: dict[str, Any] = field(default_factory=dict)
    #: Extra execution-input values the generated machine reads (runner settings).
    runner_inputs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for obj in self.pipeline.objects.values():
            self.entries[obj.id] = Entry(obj)

    # -- the report ------------------------------------------------------------------

    def became(self, obj: PipelineObject, text: str) -> None:
        """Record what ``obj`` became (once per text)."""
        entry = self.entries[obj.id]
        if text not in entry.became:
            entry.became.append(text)

    def lost(self, obj: PipelineObject, text: str) -> None:
        """Record what of ``obj`` could not be carried over, and why."""
        entry = self.entries[obj.id]
        if text not in entry.lost:
            entry.lost.append(text)

    # -- field text -------------------------------------------------------------------

    def resolver(
        self, obj: PipelineObject, extra: Mapping[str, tuple[str, str]] | None = None
    ) -> Callable[[str], tuple[str, str]]:
        """Names in ``obj``'s expressions: parameters, its fields, input./output. fields."""
        extra = extra or {}

        def resolve(name: str) -> tuple[str, str]:
            if name in extra:
                return extra[name]
            if name in self.pipeline.parameters:
                return f"$params.{name}", "text"
            head, _, rest = name.partition(".")
            if rest and head in ("input", "output", "node", "runsOn", "database"):
                if head == "node":
                    return resolve(rest)
                refs = obj.refs(head)
                if not refs:
                    raise Untranslatable(f"'{obj.id}' has no field '{head}' for #{{{name}}}")
                target = self.pipeline.get(refs[0], obj, head)
                return self._field(target, rest, self.resolver(target))
            if name in ("id", "name"):
                return json.dumps(getattr(obj, name)), "text"
            if isinstance(obj.fields.get(name), str):
                return self._field(obj, name, resolve)
            raise Untranslatable(f"#{{{name}}} names no parameter or field of '{obj.id}'")

        return resolve

    def _field(
        self, obj: PipelineObject, key: str, resolve: Callable[[str], tuple[str, str]]
    ) -> tuple[str, str]:
        text = obj.text(key)
        if text is None:
            raise Untranslatable(f"'{obj.id}' has no field '{key}'")
        return translate_text(text, resolve)

    def value(
        self,
        obj: PipelineObject,
        key: str,
        default: str | None = None,
        extra: Mapping[str, tuple[str, str]] | None = None,
        text: str | None = None,
    ) -> str | None:
        """A field for ASL Arguments: plain text, or a ``{% ... %}`` JSONata template.

        An expression that cannot be translated is kept as written (``#{...}``) and
        reported as not carried over.
        """
        raw = text if text is not None else obj.text(key, default)
        if raw is None:
            return None
        try:
            jsonata, kind = translate_text(raw, self.resolver(obj, extra))
        except Untranslatable as exc:
            self.lost(obj, f"field '{key}' is kept as written ({raw!r}): {exc}")
            return raw
        if "#{" not in raw:
            return raw
        from asl.datapipeline.expressions import as_text

        return "{% " + as_text(jsonata, kind) + " %}"

    # -- mocks ------------------------------------------------------------------------

    def mock(self, state_name: str, answer: Any) -> None:
        """The mocked ``Return`` of a Task state (and a Map's ItemReader)."""
        self.mocks[state_name] = answer

    def activity_arn(self, suffix: str) -> str:
        """An activity ARN named after the pipeline and ``suffix``."""
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.name}-{suffix}")[:80]
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"
