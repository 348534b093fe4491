"""ItemBatcher: items grouped into one child input each (DG: input-output-itembatcher).

A batch is ``{"BatchInput": ..., "Items": [...]}`` (``BatchInput`` only when the state sets
it). A batch closes when it holds ``MaxItemsPerBatch`` items or when one more item would
make its JSON larger than ``MaxInputBytesPerBatch``, which AWS caps at 256 KiB (the limit
of an execution's input) and which applies even when only ``MaxItemsPerBatch`` is set. An
item too large for any batch travels alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from runtime.engine.events import dumps

__all__ = ["MAX_BATCH_BYTES", "batches"]

#: AWS's ceiling for MaxInputBytesPerBatch: 256 KiB.
MAX_BATCH_BYTES = 256 * 1024


def batches(
    items: Iterable[Any],
    max_items: int | None,
    max_bytes: int | None,
    batch_input: Any = None,
    with_input: bool = False,
) -> Iterator[tuple[dict[str, Any], int]]:
    """Batches of ``items`` and the number of items in each."""
    limit = max_bytes or MAX_BATCH_BYTES
    head: dict[str, Any] = {"BatchInput": batch_input} if with_input else {}
    empty = _size({**head, "Items": []})
    group: list[Any] = []
    size = empty
    for item in items:
        added = _size(item) + (1 if group else 0)
        if group and size + added > limit:
            yield {**head, "Items": group}, len(group)
            group, size, added = [], empty, added - 1
        group.append(item)
        size += added
        if max_items is not None and len(group) >= max_items:
            yield {**head, "Items": group}, len(group)
            group, size = [], empty
    if group:
        yield {**head, "Items": group}, len(group)


def _size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))
