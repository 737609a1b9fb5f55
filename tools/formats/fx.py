"""Daily FX rates, units of currency per USD: `date,currency,per_usd` (UTF-8, LF)."""

from __future__ import annotations

from pathlib import Path

from tools.formats.prices import csv_bytes as _csv_bytes
from tools.formats.prices import lines_bytes

HEADER = ["date", "currency", "per_usd"]
__all__ = ["HEADER", "csv_bytes", "lines_bytes", "write"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    return _csv_bytes(rows, header)


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, header))
    return path
