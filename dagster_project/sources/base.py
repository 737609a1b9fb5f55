"""The shape every source module shares, and the error a source raises on a file it cannot read.

A source is a `SourceSpec`: which files it accepts, how to `read` one (file → frame of raw
strings, one row per record, with `_source_row`), how to `normalise` that frame into the typed
landing schema (plus `_reject_reason`, null for a good row), and its GX `suite`, written as plain
data so that nothing imports Great Expectations until a load is validated.
"""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

ROW_NUMBER = "_source_row"
REJECT_REASON = "_reject_reason"

# (GX expectation class name, keyword arguments). Resolved lazily by ingest.validation.
Expectation = tuple[str, dict[str, Any]]


class SourceFileError(Exception):
    """A file that cannot be loaded at all. The message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


@dataclass(frozen=True)
class SourceSpec:
    name: str
    suffixes: tuple[str, ...]
    read: Callable[[Path], pl.DataFrame]
    normalise: Callable[[pl.DataFrame], pl.DataFrame]
    suite: Callable[[], list[Expectation]]
    landing_schema: dict[str, pl.DataType]
    # Columns that identify the figures a revised file replaces (besides the source itself).
    revision_key: tuple[str, ...]
    description: str = ""
    derived_for_validation: dict[str, pl.Expr] = field(default_factory=dict)


# --- shared readers ---------------------------------------------------------------------------


def data_suffix(path: Path) -> str:
    """The format suffix, looking through a `.gz`: `x.json.gz` → `.json`."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as err:
            raise SourceFileError(path, f"truncated or corrupt gzip: {err}") from err
    return data


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    """Decode a text file strictly: a BOM is removed, a wrong encoding is an error, never mojibake."""
    data = read_bytes(path)
    if not data.strip():
        raise SourceFileError(path, "file is empty")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        encodings = ("utf-8",)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as err:
            last = err
    raise SourceFileError(
        path,
        f"not valid {' or '.join(encodings)} text (byte {last.start}: {last.reason}); "
        "re-save the file as UTF-8",
    )


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "<html" in head


def read_csv_strings(path: Path, required: list[str], *, text: str | None = None) -> pl.DataFrame:
    """Every cell as a string, so normalise decides what a bad number is (and quarantines it)."""
    text = read_text(path) if text is None else text
    if looks_like_html(text):
        raise SourceFileError(path, "is an HTML page, not CSV (an error page saved as data?)")
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as err:
        raise SourceFileError(path, f"cannot parse as CSV: {str(err).splitlines()[0]}") from err
    frame = frame.rename({c: c.strip() for c in frame.columns})
    check_columns(path, frame.columns, required)
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def read_json_records(path: Path, required: list[str]) -> pl.DataFrame:
    """A JSON payload of records: `{"data": [...]}` (Comtrade API v1) or a bare list."""
    text = read_text(path)
    if looks_like_html(text):
        raise SourceFileError(path, "is an HTML page, not JSON (an API error page saved as .json?)")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceFileError(
            path, f"invalid or truncated JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from err
    if isinstance(payload, dict):
        if "data" not in payload:
            error = payload.get("error") or payload.get("message") or payload.get("statusCode")
            detail = f" (the API said: {error})" if error else ""
            raise SourceFileError(path, f'JSON object has no "data" list{detail}')
        records = payload["data"]
    else:
        records = payload
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceFileError(path, "JSON is not a list of records")
    if not records:
        return pl.DataFrame(
            {c: [] for c in required} | {ROW_NUMBER: []},
            schema={c: pl.String for c in required} | {ROW_NUMBER: pl.Int64},
        )
    columns: list[str] = []
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    check_columns(path, columns, required)

    def cell(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    data = {c: [cell(r.get(c)) for r in records] for c in columns}
    frame = pl.DataFrame(data, schema={c: pl.String for c in columns})
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def check_columns(path: Path, present: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise SourceFileError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(present[:20])}",
        )


# --- shared row rules -------------------------------------------------------------------------


def to_number(column: str) -> pl.Expr:
    """A number from a string cell; null when empty. Non-numeric text becomes null too, and the
    caller's row rules turn 'present but not a number' into a quarantine reason."""
    return pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)


def not_a_number(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return text.is_not_null() & (text != "") & to_number(column).is_null()


def first_reason(*rules: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The first rule that a row breaks, as text; null when it breaks none.

    A rule whose condition is null (it could not be decided, usually because a value is
    missing) counts as broken: a row is landed only when every rule says it is good. Rules on
    optional columns therefore say `.fill_null(False)` themselves.
    """
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, reason in reversed(rules):
        value = pl.lit(reason) if isinstance(reason, str) else reason.fill_null("invalid row")
        expr = pl.when(condition.fill_null(True)).then(value).otherwise(expr)
    return expr
