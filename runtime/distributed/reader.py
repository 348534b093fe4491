"""ItemReader: the items of a Distributed Map, read lazily from an object's bytes.

Each reader turns a binary stream into an iterator of items and reads it one chunk at a
time, so a file of any size is never held whole (DG: input-output-itemreader):

* ``JSON``: the object is one JSON array; each element is an item.
* ``JSONL``: one JSON value per line; blank lines are skipped.
* ``CSV``: each row an object of strings keyed by the headers (the first row, or
  ``CSVHeaders`` when ``CSVHeaderLocation`` is ``GIVEN``); a short row leaves the missing
  columns ``""``, extra values are dropped.
* ``listObjectsV2``: each object of the listing as AWS passes it: ``Etag``, ``Key``,
  ``LastModified`` (epoch seconds), ``Size``, ``StorageClass``.
* ``MANIFEST``: an S3 inventory ``manifest.json`` whose gzipped CSV files list the objects,
  one item per row keyed by the manifest's ``fileSchema``.

Malformed content raises :class:`ReadError`; the Map Run reports it as
``States.ItemReaderFailed``.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import IO, Any

__all__ = ["CHUNK", "DELIMITERS", "ReadError", "listing_items", "stream_items"]

#: Bytes read from a body at a time.
CHUNK = 1 << 20

#: CSVDelimiter names and their characters.
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


class ReadError(Exception):
    """Raised when an object's content does not match the ItemReader's InputType."""


def stream_items(
    body: IO[bytes],
    input_type: str,
    *,
    header_location: str = "FIRST_ROW",
    headers: tuple[str, ...] = (),
    delimiter: str = "COMMA",
) -> Iterator[Any]:
    """The items of one object of ``input_type`` (JSON, JSONL or CSV)."""
    if input_type == "JSON":
        return _json_array(_text(body))
    if input_type == "JSONL":
        return _json_lines(_text(body))
    if input_type == "CSV":
        given = headers if header_location == "GIVEN" else None
        return csv_items(_lines(_text(body)), given, DELIMITERS.get(delimiter, ","))
    raise ReadError(f"Unsupported InputType '{input_type}'.")


def listing_items(entries: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """``listObjectsV2`` entries in the item shape AWS gives them."""
    for entry in entries:
        modified = entry.get("LastModified")
        if isinstance(modified, datetime):
            modified = modified.timestamp()
        elif isinstance(modified, str):  # a mocked listing, as the CLI or an SDK prints it
            try:
                modified = datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise ReadError(
                    f"LastModified of {entry.get('Key')!r} is not an ISO 8601 time: {modified!r}"
                ) from None
        yield {
            "Etag": entry.get("ETag"),
            "Key": entry.get("Key"),
            "LastModified": int(modified or 0),
            "Size": entry.get("Size"),
            "StorageClass": entry.get("StorageClass", "STANDARD"),
        }


def _text(body: IO[bytes]) -> Iterator[str]:
    """The body decoded as UTF-8 (a leading BOM dropped), one chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        while chunk := body.read(CHUNK):
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    except UnicodeDecodeError as exc:
        raise ReadError(f"The object is not valid UTF-8: {exc}") from None
    finally:
        body.close()  # also when the reader stops early (MaxItems, a failed run)


def _lines(chunks: Iterator[str]) -> Iterator[str]:
    """Lines with their ``\\n`` kept (the csv module needs them for quoted newlines)."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind("\n")
        if cut < 0:
            continue
        whole, pending = pending[: cut + 1], pending[cut + 1 :]
        for line in whole.split("\n")[:-1]:
            yield line + "\n"
    if pending:
        yield pending


#: One JSON value at a given offset, without :func:`json.loads`'s wrapper (the C scanner).
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json_lines(chunks: Iterator[str]) -> Iterator[Any]:
    """The values of JSON Lines text, one per line (blank lines skipped).

    Each line's value is scanned where it lies in its chunk: the common line is one value
    ending at its newline. Any other line (spaces around the value, ``\\r\\n``, a blank
    line, a mistake) is cut out and read on its own as :func:`json.loads` reads it."""
    scan = _SCAN
    number = 0
    text = ""
    for chunk in chunks:
        text += chunk
        at = 0
        while (cut := text.find("\n", at)) >= 0:
            number += 1
            try:
                value, end = scan(text, at)
            except (StopIteration, ValueError):
                end = -1
            if end == cut:
                yield value
            elif (line := text[at : cut + 1]).strip():
                yield _line_value(line, number)
            at = cut + 1
        text = text[at:]
    if text.strip():
        yield _line_value(text, number + 1)


def _line_value(line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise ReadError(f"Line {number} is not valid JSON: {exc}") from None


def _json_array(chunks: Iterator[str]) -> Iterator[Any]:
    """The elements of one JSON array, decoded one by one as the text arrives."""
    decoder = json.JSONDecoder()
    buffer, at, done = "", 0, False

    def more() -> bool:
        nonlocal buffer, at, done
        chunk = next(chunks, None)
        if chunk is None:
            done = True
            return False
        buffer, at = buffer[at:] + chunk, 0
        return True

    def skip_space() -> str:
        nonlocal at
        while True:
            while at < len(buffer) and buffer[at] in " \t\r\n":
                at += 1
            if at < len(buffer):
                return buffer[at]
            if not more():
                return ""

    if skip_space() != "[":
        raise ReadError("The object is not a JSON array.")
    at += 1
    first = True
    while True:
        char = skip_space()
        if char == "]":
            at += 1
            break
        if not first:
            if char != ",":
                raise ReadError("The JSON array is malformed: expected ',' or ']'.")
            at += 1
            skip_space()
        first = False
        while True:
            try:
                value, end = decoder.raw_decode(buffer, at)
            except ValueError:
                value, end = None, -1
            # A value that ends the buffer may be cut (a number): read on to be sure.
            if end >= 0 and (end < len(buffer) or done):
                break
            if not more():
                if end >= 0:
                    break
                raise ReadError("The JSON array is malformed or truncated.")
        at = end
        yield value
    if skip_space():
        raise ReadError("Extra data after the JSON array.")


def csv_items(
    lines: Iterable[str], headers: tuple[str, ...] | None, delimiter: str
) -> Iterator[dict[str, str]]:
    """CSV rows as objects keyed by ``headers`` (None: the first row)."""
    rows = csv.reader(lines, delimiter=delimiter)
    try:
        names = list(headers) if headers is not None else next(rows, [])
        if len(set(names)) < len(names):
            raise ReadError("CSV headers cannot contain duplicates.")
        width = len(names)
        for row in rows:
            if not row:
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield dict(zip(names, row, strict=False))
    except csv.Error as exc:
        raise ReadError(f"The CSV object is malformed: {exc}") from None
