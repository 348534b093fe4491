"""S3 inventory manifests as an ItemReader source (ReaderConfig ``InputType: MANIFEST``).

The ``manifest.json`` of an S3 inventory names its data files (``files[].key``) in
``destinationBucket`` (an ``arn:aws:s3:::`` ARN) and their columns (``fileSchema``, e.g.
``"Bucket, Key, Size"``). Each data file is a gzipped CSV without a header row; every row
becomes one item keyed by the schema's column names. Files are read one after the other,
each streamed through gzip.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from contextlib import closing
from typing import Any

from runtime.distributed.reader import ReadError, csv_items

__all__ = ["manifest_items"]


def manifest_items(store: Any, params: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """The rows listed by the inventory manifest at ``params`` (Bucket, Key)."""
    with closing(store.get(params)) as body:
        try:
            manifest = json.loads(body.read())
        except ValueError as exc:
            raise ReadError(f"The inventory manifest is not valid JSON: {exc}") from None
    if manifest.get("fileFormat", "CSV") != "CSV":
        raise ReadError("Only CSV inventory files can be read.")
    schema = tuple(name.strip() for name in str(manifest.get("fileSchema", "")).split(","))
    bucket = str(manifest.get("destinationBucket", "")).removeprefix("arn:aws:s3:::")
    return _rows(store, bucket or str(params.get("Bucket", "")), manifest, schema)


def _rows(
    store: Any, bucket: str, manifest: Mapping[str, Any], schema: tuple[str, ...]
) -> Iterator[dict[str, str]]:
    for entry in manifest.get("files", ()):
        raw = store.get({"Bucket": bucket, "Key": entry["key"]})
        with closing(raw), gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
            yield from csv_items(text, schema, ",")
