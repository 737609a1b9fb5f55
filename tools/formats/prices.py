"""Benchmark price assessments: the CSV layout the prices source reads (UTF-8, LF)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADER = [
    "date",
    "source",
    "product",
    "element",
    "form",
    "purity",
    "basis",
    "currency",
    "unit",
    "low",
    "high",
]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, header))
    return path


def lines_bytes(*rows: str, newline: str = "\n") -> bytes:
    """Rows already joined by commas (hand-written fixture lines, traps included), one per line."""
    return (newline.join(rows) + newline).encode("utf-8")
