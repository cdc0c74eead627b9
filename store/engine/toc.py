"""The snapshot's first line: its table of contents (see `snapshot`), written and read.

Kept apart from `snapshot` so that a reader that needs only the small tables
(`peek`) loads neither polars nor the large tables' machinery."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from store.base.errors import StoreCorrupt

TOC = "_toc"
START = b'{"_toc":{"1":'
END = b"},\n"
_WIDTH = 14


def toc_line(generation: str, ranges: Mapping[str, tuple[int, int, int]]) -> bytes:
    # Fixed widths: the placeholder written first has the length of the real line.
    body = ",".join(f'"{name}":[{start:{_WIDTH}d},{end:{_WIDTH}d},{crc:10d}]' for name, (start, end, crc) in ranges.items())
    return START + f'{{"generation":"{generation}","tables":{{{body}}}}}'.encode() + END


def is_toc(first: bytes) -> bool:
    """Whether the file's first line is a table of contents (else a file TinyDB wrote)."""
    return first.startswith(START) and first.endswith(END)


def parse_toc(path: Path, first: bytes) -> tuple[str, dict[str, list[int]]]:
    """(generation, table → [start, end, crc]) of a first line that `is_toc`."""
    try:
        toc: dict[str, Any] = orjson.loads(first[len(START):-len(END)])
        return toc["generation"], toc["tables"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as err:
        raise StoreCorrupt(f"{path}: not a custdesk store (table of contents: {err})") from None
