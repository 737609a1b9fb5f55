"""The shape every source module shares, and the error a source raises on a file it cannot read.

A source is a `SourceSpec`: which files it accepts, how to `read` one (file → frame of raw
strings, one row per record, with `_source_row`; optionally `scan`, the same as a lazy frame for
files too large to hold), how to `normalise` that frame into the typed
landing schema (plus `_reject_reason`, null for a good row), and its GX `suite`, written as plain
data so that nothing imports Great Expectations until a load is validated.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

ROW_NUMBER = "_source_row"
REJECT_REASON = "_reject_reason"
# A well-formed row outside the product's scope (a line that is not a rare-earth line, a `TOTAL`
# commodity, a missing FX quote): `normalise` may add this column with the reason (null for a row
# in scope). Such rows are counted apart (`rows_out_of_scope`), never quarantined; a row with a
# reject reason is quarantined whatever this column says.
OUT_OF_SCOPE = "_out_of_scope"

# A source's frames are eager for a file read whole, lazy for one streamed (SourceSpec.scan).
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

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
    # Large CSV files: `scan(path, workdir)` is `read` as a lazy frame (same columns, same row
    # numbers), and `normalise` accepts it; ingest.streaming lands such files in bounded memory.
    scan: Callable[[Path, Path], pl.LazyFrame] | None = None
    # File-name patterns (fnmatch) of what the agency ships beside its data, such as metadata
    # and revision notes: not data, so never loaded nor refused, only listed as ignored.
    companions: tuple[str, ...] = ()


# --- shared readers ---------------------------------------------------------------------------

# How much of a file is looked at before the whole of it is read: enough for the header and the
# first records, so junk (a binary file, a wrong encoding, a page of HTML, another layout) is
# refused without loading a large file into memory.
HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# Columns the loader adds to every frame (lineage, reject reason): a file may not bring its own.
RESERVED_COLUMNS = (ROW_NUMBER, REJECT_REASON, OUT_OF_SCOPE, "_source_file", "_load_id", "_loaded_at")


def data_suffix(path: Path) -> str:
    """The format suffix, looking through a `.gz`: `x.json.gz` → `.json`."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as err:
            raise SourceFileError(path, f"truncated or corrupt gzip: {err}") from err
    return data


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first `size` bytes of the file's content (through a gzip), without reading the rest."""
    with open(path, "rb") as handle:
        head = handle.read(size)
        if head[:2] != GZIP_MAGIC:
            return head
        handle.seek(0)
        try:
            with gzip.GzipFile(fileobj=handle) as stream:
                return stream.read(size)
        except (EOFError, OSError, zlib.error) as err:
            raise SourceFileError(path, f"truncated or corrupt gzip: {err}") from err


def decode(path: Path, data: bytes, encodings: tuple[str, ...] = ("utf-8",), *, partial: bool = False) -> str:
    """Strict decoding: a BOM is removed (and then means UTF-8), a wrong encoding is an error, never
    mojibake, and NUL characters (UTF-16 or a binary file) are refused. `partial` data is the head
    of a file: a character cut at its end is not an error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceFileError(
            path, "is UTF-16 text (it starts with a UTF-16 byte-order mark); re-save the file as UTF-8"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        encodings = ("utf-8",)
    last: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
            break
        except UnicodeDecodeError as err:
            last = err
    else:
        assert last is not None
        raise SourceFileError(
            path,
            f"not valid {' or '.join(encodings)} text (byte {last.start}: {last.reason}); "
            "re-save the file as UTF-8",
        )
    if "\x00" in text:
        raise SourceFileError(
            path,
            f"contains NUL characters at character {text.index(chr(0))}: a binary file or UTF-16 "
            "text, not UTF-8; re-save the file as UTF-8",
        )
    return text


def sniff_text(path: Path, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    """The decoded head of a file: an empty file, a binary file or a wrong encoding is refused here,
    from the first HEAD_BYTES, before the whole file is read."""
    head = read_head(path)
    if not head.strip() and len(head) < HEAD_BYTES:
        raise SourceFileError(path, "file is empty")
    return decode(path, head, encodings, partial=True)


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8",)) -> str:
    """Decode a text file strictly: a BOM is removed, a wrong encoding is an error, never mojibake."""
    sniff_text(path, encodings)
    data = read_bytes(path)
    if not data.strip():
        raise SourceFileError(path, "file is empty")
    return decode(path, data, encodings)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "<html" in head


def one_line_ending(text: str) -> str:
    """CRLF and lone CR (old Mac exports, or lines appended by another tool) become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def csv_header(text: str) -> list[str] | None:
    """The column names of the first CSV record of `text` (the head of a file), stripped; None when
    the head does not hold a whole header line."""
    text = one_line_ending(text[:HEAD_BYTES])
    if "\n" not in text and len(text) >= HEAD_BYTES // 4:
        return None
    try:
        return [name.strip() for name in next(csv.reader(io.StringIO(text)), [])]
    except csv.Error:
        return None


def head_columns(path: Path, head: str) -> list[str]:
    """The CSV header in the head of a file; a first line too long to be a header is refused."""
    header = csv_header(head)
    if header is None:
        raise SourceFileError(
            path, f"the first line is longer than {HEAD_BYTES // 4:,} characters: not a CSV header"
        )
    return header


def _csv_problem(text: str, width: int) -> str | None:
    """Where a CSV that polars cannot parse goes wrong: a record wider than the header, or a quote
    that is never closed. Only called on the error path."""
    line, record_line, fields, quoted, opened = 1, 1, 1, False, 0
    position = 0
    while position < len(text):
        char = text[position]
        if quoted:
            if char == '"' and text[position + 1 : position + 2] == '"':
                position += 1  # an escaped quote inside a quoted field
            elif char == '"':
                quoted = False
            elif char == "\n":
                line += 1
        elif char == '"':
            quoted, opened = True, line
        elif char == ",":
            fields += 1
        elif char == "\n":
            if fields > width:
                return f"line {record_line} has {fields} fields but the header has {width}"
            line += 1
            record_line, fields = line, 1
        position += 1
    if quoted:
        return f"the quote opened on line {opened} is never closed"
    if fields > width:
        return f"line {record_line} has {fields} fields but the header has {width}"
    return None


def read_csv_strings(path: Path, required: list[str], *, text: str | None = None) -> pl.DataFrame:
    """Every cell as a string, so normalise decides what a bad number is (and quarantines it)."""
    if text is None:
        head = sniff_text(path)
        if looks_like_html(head):
            raise SourceFileError(path, "is an HTML page, not CSV (an error page saved as data?)")
        # A file that is not this layout is refused from its first line, never parsed whole.
        check_columns(path, head_columns(path, head), required)
        text = read_text(path)
    if looks_like_html(text):
        raise SourceFileError(path, "is an HTML page, not CSV (an error page saved as data?)")
    text = one_line_ending(text)
    header = csv_header(text) or []
    check_unique_header(path, header)
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.DuplicateError) as err:
        problem = _csv_problem(text, len(header)) or str(err).splitlines()[0]
        raise SourceFileError(path, f"cannot parse as CSV: {problem}") from err
    # Names are trimmed; unnamed columns (trailing commas) keep the names polars gave them.
    frame = frame.rename({c: c.strip() for c in frame.columns if c.strip()})
    check_columns(path, frame.columns, required)
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def check_unique_header(path: Path, header: list[str]) -> None:
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise SourceFileError(
            path,
            f"column(s) {', '.join(duplicated)} appear more than once in the header; "
            "which one holds the data is ambiguous",
        )


# --- large CSV files: read lazily, in bounded memory ----------------------------------------------

COPY_BLOCK_BYTES = 16 << 20


def _blocks(path: Path) -> Iterator[bytes]:
    """The file's content in blocks, through a gzip when it is one."""
    with open(path, "rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        stream: Any = gzip.GzipFile(fileobj=handle) if compressed else handle
        try:
            while block := stream.read(COPY_BLOCK_BYTES):
                yield block
        except (EOFError, OSError, zlib.error) as err:
            raise SourceFileError(path, f"truncated or corrupt gzip: {err}") from err


def plain_csv(path: Path, workdir: Path, encoding: str, head: str) -> Path:
    """A file polars can scan as it is (UTF-8, not compressed, LF or CRLF line ends): the file
    itself when it already is one, otherwise a copy written to `workdir` block by block (memory:
    one block, whatever the file size). The copy is decoded strictly in `encoding`, which the
    file's head chose: a byte that is not valid there is an error naming where it is."""
    with open(path, "rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
    lone_cr = "\r" in head.replace("\r\n", "")
    if encoding in ("utf-8", "utf-8-sig") and not compressed and not lone_cr:
        return path
    target = workdir / "plain.csv"
    decoder = codecs.getincrementaldecoder("utf-8" if encoding == "utf-8-sig" else encoding)()
    position, carry_cr, first = 0, False, True
    with open(target, "w", encoding="utf-8", newline="") as out:
        for block in _blocks(path):
            if first and block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8) :]
            first = False
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as err:
                raise SourceFileError(
                    path, f"not valid {encoding} text (byte {position + err.start}: {err.reason})"
                ) from err
            position += len(block)
            if carry_cr:
                text = "\r" + text
            carry_cr = text.endswith("\r")
            if carry_cr:
                text = text[:-1]
            out.write(one_line_ending(text) if "\r" in text else text)
        if carry_cr:
            out.write("\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            raise SourceFileError(path, f"not valid {encoding} text (it ends inside a character)") from err
    return target


# A column past the header's last one: a row with more fields than the header fills it.
RAGGED_FIELD = "_field_past_header"


def carried(raw: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """Columns `normalise` passes through untouched: the scan's `RAGGED_FIELD`, so the streamed
    load checks it in the one query that parses the file (a second consumer of the scan would
    make polars cache the parsed file: measured 1.6 GB at 3*10^6 rows)."""
    return [c for c in (RAGGED_FIELD,) if c in raw.collect_schema().names()]


def scan_csv_strings(path: Path, plain: Path, head: str) -> pl.LazyFrame:
    """`read_csv_strings` as a lazy scan of `plain` (`plain_csv(path, ...)`, whose decoded head is
    `head`): every cell a string, names trimmed, rows numbered from 1 as the whole-file reader
    numbers them. Errors name `path`.

    The whole-file reader refuses a row with more fields than the header (an unquoted comma that
    shifts the values). Polars checks a row's field count only when it parses every column, which
    costs twice the parse; so the scan declares one column past the header, `RAGGED_FIELD`, that
    such a row fills (the caller refuses the file when it is ever set). A header with an unnamed
    column cannot be declared by name: then the scan has no `RAGGED_FIELD` and the caller parses
    every column instead."""
    header = head_columns(path, head)
    check_unique_header(path, header)
    raw_names = next(csv.reader(io.StringIO(one_line_ending(head))), [])
    declared = all(name.strip() for name in raw_names) and len(raw_names) == len(header)
    frame = pl.scan_csv(
        plain,
        infer_schema=False,
        row_index_name=ROW_NUMBER,
        row_index_offset=1,
        **(
            {
                "schema": {**dict.fromkeys(raw_names, pl.String), RAGGED_FIELD: pl.String},
                "missing_columns": "insert",
                "truncate_ragged_lines": True,
            }
            if declared
            else {"truncate_ragged_lines": False}
        ),
    )
    names = frame.collect_schema().names()
    frame = frame.rename({name: name.strip() for name in names if name.strip() and name.strip() != name})
    return frame.with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))


def json_start(path: Path, head: str) -> None:
    """Refuse a file that cannot be JSON from its first character (JSON data starts with { or [)."""
    start = head.lstrip()[:40]
    if not start.startswith(("{", "[")):
        raise SourceFileError(path, f"is not JSON: it starts with {start!r}")


def parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceFileError(
            path, f"invalid or truncated JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from err
    except RecursionError as err:
        raise SourceFileError(path, "JSON is nested too deeply to be a data payload") from err


def read_json_records(path: Path, required: list[str]) -> pl.DataFrame:
    """A JSON payload of records: `{"data": [...]}` (Comtrade API v1) or a bare list."""
    head = sniff_text(path)
    if looks_like_html(head):
        raise SourceFileError(path, "is an HTML page, not JSON (an API error page saved as .json?)")
    json_start(path, head)
    text = read_text(path)
    payload = parse_json(path, text)
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
    reserved = [c for c in present if c in RESERVED_COLUMNS]
    if reserved:
        raise SourceFileError(
            path, f"column(s) {', '.join(reserved)} are reserved for the loader's lineage; rename them"
        )
    missing = [c for c in required if c not in present]
    if missing:
        raise SourceFileError(
            path,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(present[:20])}",
        )


# --- shared row rules -------------------------------------------------------------------------


def to_number(column: str) -> pl.Expr:
    """A number from a string cell; null when empty. Non-numeric text becomes null too, and so do
    "NaN", "inf" and overflowing exponents ("1e400"): the caller's row rules turn 'present but not
    a number' into a quarantine reason."""
    value = pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def lookup(expr: pl.Expr, mapping: dict[str, Any], dtype: pl.DataType | None = None) -> pl.Expr:
    """`expr` mapped through a small dict, null when absent: `replace_strict(mapping, default=None)`
    as a when/then chain, which polars' streaming engine runs batch by batch (`replace_strict`
    collects the whole column first: measured 4.9 GB for a 10^7-row file)."""
    result: pl.Expr = pl.lit(None, dtype=dtype)
    for key, value in reversed(mapping.items()):
        result = pl.when(expr == key).then(pl.lit(value, dtype=dtype)).otherwise(result)
    return result


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


# Spreadsheet formula injection (CSV injection): a cell that starts with one of these is run as a
# formula when the data is opened in Excel or LibreOffice (`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`).
FORMULA_REASON = "formula-like text in {}"
_FORMULA_START = r"^\s*[=+\-@]\s*\S"


def formula_like(column: str) -> pl.Expr:
    """Text that a spreadsheet would run as a formula: it starts (after leading whitespace, which
    is trimmed before landing) with = + - or @, is longer than that one character, and is not a
    plain number ("-12.5" and "+5" are numbers, not formulas)."""
    # One anchored regex (a sign, then something) instead of trimming and measuring each cell.
    return (pl.col(column).str.contains(_FORMULA_START) & to_number(column).is_null()).fill_null(False)


def formula_rules(*columns: str) -> list[tuple[pl.Expr, str]]:
    """The shared rule for text fields: a formula-like cell quarantines its row, with the column
    named in the reason. Rows are quarantined rather than neutralised (say with a leading quote),
    so that what lands is exactly what the source declared."""
    return [(formula_like(column), FORMULA_REASON.format(column)) for column in columns]


def implausible(value: pl.Expr, limit: float) -> pl.Expr:
    """A number so large it can only be a unit, scale or keying error (null counts as plausible)."""
    return (value > limit).fill_null(False)


def with_scope_column(frame: Frame) -> Frame:
    """`frame` with `OUT_OF_SCOPE` (all null when `normalise` did not add it): every source is
    read the same way, whether or not it has rows out of scope."""
    if OUT_OF_SCOPE in frame.collect_schema().names():
        return frame
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(OUT_OF_SCOPE))


def split_scope(reason: pl.Expr, scope_reasons: tuple[str, ...]) -> list[pl.Expr]:
    """The reason `first_reason` gave, split in two columns: a reason in `scope_reasons` (a
    well-formed row outside the product's scope) becomes `OUT_OF_SCOPE`, any other reason stays
    the `REJECT_REASON`. The rules placed before the scope rules win, so a row broken in a way
    they check (a bad date, a bad number) is quarantined, never counted out of scope. The scope
    reasons are fixed texts, so the load record counts rows per reason."""
    scoped = reason.is_in(list(scope_reasons))
    return [
        pl.when(~scoped).then(reason).alias(REJECT_REASON),
        pl.when(scoped).then(reason).alias(OUT_OF_SCOPE),
    ]


Rule = tuple[pl.Expr, str | pl.Expr]


def reasons_with_scope(rules: list[Rule], structural: list[Rule], scope_reason: pl.Expr) -> list[pl.Expr]:
    """`REJECT_REASON` and `OUT_OF_SCOPE` for a source whose scope is decided per line.

    `scope_reason` is a fixed text for a row outside the product's scope (null in scope), such as
    "not a rare-earth product line". A row in scope gets the first of all `rules` it breaks, as
    before. A row out of scope is checked only against the `structural` rules (a subset of
    `rules`: the row's own form, a number that is not a number, a period that is not a period),
    never against reference data it has no place in (a soybean line is not an unknown rare-earth
    product): it is quarantined when it breaks one, else counted out of scope."""
    full = first_reason(*rules)
    broken = first_reason(*structural)
    scoped = scope_reason.is_not_null()
    return [
        pl.when(scoped).then(broken).otherwise(full).alias(REJECT_REASON),
        pl.when(scoped & broken.is_null()).then(scope_reason).alias(OUT_OF_SCOPE),
    ]
