"""The Census API's response format, as saved: a JSON array of arrays, header row first, every value
a string. An empty body (204), an HTML page (a missing key, answered with HTTP 200) and a one-line
`error: ...` (HTTP 400) are refused from the file's head with what they mean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster_project.sources.contract import SourceFileError
from dagster_project.sources.textio import json_start, open_head, parse_json

EMPTY_FILE = (
    "file is empty: no data (the Census API answers 204 with an empty body for a comma list of "
    "commodities, or when nothing matches); pull one commodity wildcard per call"
)
# Why a saved response is an HTML page (`textio.html_page` words the rest).
HTML_WHY = (
    "the Census API answers with an HTML page (HTTP 200) when the API key is missing or invalid; "
    "check the key and pull again"
)


def parse(path: Path) -> list[list[Any]]:
    """The saved response as JSON: a list of arrays, refused from its head when it is an empty
    body, an HTML page, an API error message or not JSON at all."""
    # The head first: an empty body, an HTML page, an error message or junk is refused before the
    # whole file is read.
    head = open_head(path, "JSON", empty=EMPTY_FILE, html=HTML_WHY)
    head_text = head.text
    if head_text.lstrip()[:6].lower() == "error:":
        # A bad variable or predicate is answered (HTTP 400) with one line of plain text.
        first_line = head_text.strip().splitlines()[0][:200]
        raise SourceFileError(path, f"is a Census API error message, not data: {first_line!r}")
    json_start(path, head_text)
    payload = parse_json(path, head.read_text())
    if isinstance(payload, dict):
        raise SourceFileError(
            path,
            "is a JSON object, not the array of arrays the Census API returns (header row first); "
            "save the response body as is",
        )
    if not isinstance(payload, list) or not payload:
        raise SourceFileError(path, "JSON array is empty: the Census API always sends a header row first")
    for number, row in enumerate(payload):
        if not isinstance(row, list):
            where = "the header" if number == 0 else f"row {number}"
            raise SourceFileError(
                path, f"{where} is a JSON {type(row).__name__}, not an array: not a Census API response"
            )
    return payload


def header(path: Path, payload: list[list[Any]]) -> list[str]:
    """The header row's column names, stripped."""
    names = payload[0]
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise SourceFileError(path, "the first row is not a header of column names")
    return [name.strip() for name in names]


def columns(path: Path, header: list[str], rows: list[list[Any]]) -> dict[str, list[str | None]]:
    """The data rows as one list of strings per column name. A variable asked for both in `get`
    and as a predicate comes back twice: one column, when the two agree on every row."""
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise SourceFileError(
                path,
                f"row {number} has {len(row)} values but the header has {len(header)}; "
                "the file is damaged or not one API response",
            )
    first_index: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in first_index:
            first_index[name] = index
            continue
        keep = first_index[name]
        for number, row in enumerate(rows, start=1):
            if row[index] != row[keep]:
                raise SourceFileError(
                    path,
                    f"column {name} appears twice and row {number} holds {row[keep]!r} and {row[index]!r}",
                )
    return {
        name: [_cell(path, number, name, row[index]) for number, row in enumerate(rows, start=1)]
        for name, index in first_index.items()
    }


def _cell(path: Path, row: int, column: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceFileError(
            path, f"row {row} column {column} holds {type(value).__name__} {value!r}, not a string"
        )
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
