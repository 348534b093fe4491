"""The S3 objects a Distributed Map reads and writes: boto3, or local directories.

:class:`Buckets` is registered in the adapter registry for the ItemReader and ResultWriter
resources (``arn:aws:states:::s3:getObject``, ``s3:listObjectsV2``, ``s3:putObject``), so a
MockConfigFile mock of the Map state takes precedence over it exactly as it does for a
Task. A bucket named in ``--bucket NAME=DIR`` (``Services.buckets``) is a local directory,
its keys the file paths below it; every other bucket goes through the execution's boto3
:class:`~runtime.adapters.aws.ClientPool` (AWS, LocalStack or moto).

The methods block (a network or disk read): the Map Run calls :meth:`Buckets.get` and
:meth:`Buckets.put` in a worker thread; listing pages and body chunks are read as the
items are consumed, never all at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from asl.errors import StatesError

if TYPE_CHECKING:
    from runtime.adapters.aws import ClientPool
    from runtime.adapters.base import AdapterRegistry, TaskCall

__all__ = ["S3_RESOURCES", "Buckets", "register"]

#: The ItemReader and ResultWriter resources this store answers.
S3_RESOURCES = r"^arn:[^:]+:states:::s3:(getObject|listObjectsV2|putObject)$"


class Buckets:
    """S3 buckets as local directories (by name) or through boto3."""

    def __init__(self, pool: ClientPool | None, local: Mapping[str, Path]) -> None:
        self.pool = pool
        self.local = {name: Path(path) for name, path in local.items()}

    async def invoke(self, call: TaskCall) -> Any:
        """A Task state cannot call these resources (AWS offers them to Map states only)."""
        raise StatesError(
            "States.Runtime",
            f"The resource '{call.resource.arn}' is only valid in a Distributed Map's "
            "ItemReader or ResultWriter.",
        )

    # -- reading -------------------------------------------------------------------

    def get(self, params: Mapping[str, Any]) -> IO[bytes]:
        """The body of ``s3:getObject`` as a binary stream (read lazily)."""
        bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
        root = self.local.get(bucket)
        if root is not None:
            path = _inside(root, key)
            if not path.is_file():
                raise _no_such_key(bucket, key)
            return path.open("rb")
        response = self._client().get_object(**params)
        body: IO[bytes] = response["Body"]
        return body

    def list(self, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """The objects of ``s3:listObjectsV2``, page after page, in S3's raw shape."""
        bucket = str(params.get("Bucket", ""))
        root = self.local.get(bucket)
        if root is not None:
            yield from _list_local(root, params)
            return
        client = self._client()
        request = dict(params)
        while True:
            page = client.list_objects_v2(**request)
            yield from page.get("Contents", ())
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    # -- writing -------------------------------------------------------------------

    def put(self, bucket: str, key: str, body: IO[bytes]) -> int:
        """Write an object from a binary stream; return its size in bytes."""
        body.seek(0, os.SEEK_END)
        size = body.tell()
        body.seek(0)
        root = self.local.get(bucket)
        if root is not None:
            path = _inside(root, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                shutil.copyfileobj(body, out)
            return size
        self._client().put_object(Bucket=bucket, Key=key, Body=body)
        return size

    def _client(self) -> Any:
        if self.pool is None:
            raise StatesError(
                "States.Runtime",
                "This run is offline: map the bucket to a local directory (--bucket NAME=DIR) "
                "or enable AWS.",
            )
        return self.pool.client("s3")


def register(
    registry: AdapterRegistry, pool: ClientPool | None, local: Mapping[str, Path]
) -> Buckets:
    """Route the ItemReader and ResultWriter S3 resources to a :class:`Buckets`."""
    buckets = Buckets(pool, local)
    registry.register(S3_RESOURCES, buckets)
    return buckets


def _inside(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root.resolve()):
        raise StatesError("States.Runtime", f"The key '{key}' leaves the bucket's directory.")
    return path


def _no_such_key(bucket: str, key: str) -> StatesError:
    return StatesError(
        "S3.NoSuchKeyException",
        f"The specified key does not exist. (Service: Amazon S3; Status Code: 404; Error "
        f"Code: NoSuchKey; Request ID: {bucket}/{key}; Proxy: null)",
    )


def _list_local(root: Path, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A directory listed as S3 lists a bucket: keys in byte order, Prefix, Delimiter."""
    prefix = str(params.get("Prefix", "") or "")
    delimiter = str(params.get("Delimiter", "") or "")
    start = str(params.get("StartAfter", "") or "")
    keys = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            key = Path(dirpath, name).relative_to(root).as_posix()
            if key.startswith(prefix) and key > start:
                if delimiter and delimiter in key[len(prefix) :]:
                    continue  # grouped into a CommonPrefix: not an object of this listing
                keys.append(key)
    keys.sort(key=lambda k: k.encode("utf-8"))
    for key in keys:
        path = root / key
        stat = path.stat()
        yield {
            "Key": key,
            "LastModified": stat.st_mtime,
            "ETag": f'"{_md5(path)}"',
            "Size": stat.st_size,
            "StorageClass": "STANDARD",
        }


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
