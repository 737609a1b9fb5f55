"""Reading a source file's text: the one "head first" preamble, the guards, the CSV and JSON readers.

Every source reads a file the same way: `open_head` looks at the first `HEAD_BYTES` of its
content (through a gzip), decodes them strictly and refuses junk from there (an empty file, a
gzip that is cut, UTF-16, NUL bytes, a wrong encoding, an HTML page) before anything large is
read; `Head.columns` is the CSV header found in it, so another layout is refused from its first
line. Then `Head.read_text` decodes the whole file with the same decoder, and `read_csv_strings`
/ `read_json_records` / `scan_csv_strings` turn it into a frame of strings with `_source_row`.
The error texts every source shares ("is an HTML page", "unsupported file type") are built here.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dagster_project.sources.contract import RAGGED_FIELD, RESERVED_COLUMNS, ROW_NUMBER, SourceFileError
from dagster_project.sources.rules import numbered

# How much of a file is looked at before the whole of it is read: enough for the header and the
# first records, so junk (a binary file, a wrong encoding, a page of HTML, another layout) is
# refused without loading a large file into memory.
HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


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


# A decoder: (path, bytes, partial) → (text, the encoding it was decoded as). `partial` bytes are
# the head of a file: a character cut at their end is not an error.
Decoder = Callable[[Path, bytes, bool], tuple[str, str]]
EMPTY = "file is empty"


def decode_as(
    path: Path, data: bytes, encodings: tuple[str, ...] = ("utf-8",), *, partial: bool = False
) -> tuple[str, str]:
    """Strict decoding, and the encoding that worked: a BOM is removed (and then means UTF-8), a
    wrong encoding is an error, never mojibake, and NUL characters (UTF-16 or a binary file) are
    refused. `partial` data is the head of a file: a character cut at its end is not an error."""
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
    return text, encoding


def strict(encodings: tuple[str, ...] = ("utf-8",)) -> Decoder:
    """The default decoder: `decode_as` over `encodings`, tried in order."""
    return lambda path, data, partial: decode_as(path, data, encodings, partial=partial)


@dataclass(frozen=True)
class Head:
    """The decoded head of a file (its first `HEAD_BYTES`), and how to read the rest the same way."""

    path: Path
    text: str
    encoding: str
    decoder: Decoder

    @property
    def columns(self) -> list[str]:
        """The CSV header in the head; a first line too long to be a header is refused."""
        return head_columns(self.path, self.text)

    def read_decoded(self) -> tuple[str, str]:
        """The whole file, decoded as its head was, and the encoding it was decoded as."""
        data = read_bytes(self.path)
        if not data.strip():
            raise SourceFileError(self.path, EMPTY)
        return self.decoder(self.path, data, False)

    def read_text(self) -> str:
        return self.read_decoded()[0]


def open_head(
    path: Path,
    kind: str,
    *,
    decoder: Decoder | None = None,
    encodings: tuple[str, ...] = ("utf-8",),
    empty: str = EMPTY,
    html: str | None = None,
) -> Head:
    """The "head first" preamble every reader starts with: the first `HEAD_BYTES` of the file's
    content, decoded strictly (`decoder`, else `encodings` in order), so that an empty file, a
    cut gzip, a binary file, a wrong encoding or an HTML page saved as `kind` data is refused
    before the whole file is read. `empty` and `html` word those two refusals for a source that
    knows why its API sends them."""
    data = read_head(path)
    if not data.strip() and len(data) < HEAD_BYTES:
        raise SourceFileError(path, empty)
    decoder = decoder or strict(encodings)
    text, encoding = decoder(path, data, True)
    if looks_like_html(text):
        raise html_page(path, kind, html)
    return Head(path, text, encoding, decoder)


# Why an HTML page sits where data should be, per kind of file, when the source says nothing better.
_HTML_HINTS = {
    "CSV": "(an error page saved as data?)",
    "JSON": "(an API error page saved as .json?)",
    "XLSX": "(an error page saved as .xlsx?)",
}


def html_page(path: Path, kind: str, why: str | None = None) -> SourceFileError:
    """The one wording of "this file is an HTML page"; `why` explains it when the source knows."""
    detail = f": {why}" if why else f" {_HTML_HINTS[kind]}"
    return SourceFileError(path, f"is an HTML page, not {kind}{detail}")


def require_suffix(path: Path, suffixes: tuple[str, ...], takes: str | None) -> str:
    """The file's format suffix (`data_suffix`), refused unless in `suffixes`. `takes` says what
    the source takes ("gacc takes .csv or .xlsx"); None words the refusal of a streamed load."""
    suffix = data_suffix(path)
    if suffix not in suffixes:
        where = f"; {takes}" if takes is not None else " for a streamed load"
        raise SourceFileError(path, f"unsupported file type {suffix!r}{where}")
    return suffix


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
        head = open_head(path, "CSV")
        # A file that is not this layout is refused from its first line, never parsed whole.
        check_columns(path, head.columns, required)
        text = head.read_text()
    if looks_like_html(text):
        raise html_page(path, "CSV")
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
    return numbered(frame)


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
    head = open_head(path, "JSON")
    json_start(path, head.text)
    payload = parse_json(path, head.read_text())
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
    return numbered(frame)


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
