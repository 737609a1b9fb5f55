"""USGS Mineral Commodity Summaries data-release CSV (long layout): cp1252 and CRLF, as USGS
publishes it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

# MCS 2025's columns; earlier editions have no "Is critical mineral" column (PRE_2025_HEADER).
HEADER = [
    "MCS chapter",
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Year",
    "Value",
    "Notes",
    "Is critical mineral 2025",
    "Other notes",
]
PRE_2025_HEADER = [column for column in HEADER if not column.startswith("Is critical mineral")]
ENCODING = "cp1252"
NEWLINE = "\r\n"


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=NEWLINE)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, header))
    return path
