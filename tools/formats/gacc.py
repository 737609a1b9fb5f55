"""GACC statistics-platform CSV export: Chinese headers, quoted thousands separators, GBK and
CRLF as the platform writes it (other encodings and line ends are fixture traps)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

# The columns of a query without trade mode or registration place; the value column (人民币) is
# the last and is optional in some fixtures (a file with quantities only).
HEADER = [
    "数据年月",
    "商品编码",
    "商品名称",
    "贸易伙伴编码",
    "贸易伙伴名称",
    "第一数量",
    "第一计量单位",
    "第二数量",
    "第二计量单位",
    "人民币",
]
# A query broken down by trade mode and registration place (the benchmark's files).
DETAILED_HEADER = [*HEADER[:5], "贸易方式编码", "贸易方式", "注册地编码", "注册地", *HEADER[5:]]
ENCODING = "gbk"
NEWLINE = "\r\n"


def grouped(number: float) -> str:
    """A number as the platform prints it: rounded, with thousands separators (quoted by csv)."""
    return f"{round(number):,}"


def csv_text(rows: list[list[str]], header: list[str] = HEADER, newline: str = NEWLINE) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_bytes(
    rows: list[list[str]], header: list[str] = HEADER, encoding: str = ENCODING, newline: str = NEWLINE
) -> bytes:
    return csv_text(rows, header, newline).encode(encoding)


def lines_bytes(header: str, rows: tuple[str, ...], encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Rows already joined by commas (hand-written fixture lines, traps included), one per line."""
    return (newline.join([header, *rows]) + newline).encode(encoding)


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = ENCODING) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, header, encoding))
    return path


def frame_chunk_bytes(frame, include_header: bool) -> bytes:
    """One chunk of a large file from a polars frame whose columns are the header (benchmark)."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=include_header, line_terminator=NEWLINE, null_value="")
    return buffer.getvalue().decode("utf-8").encode(ENCODING)
