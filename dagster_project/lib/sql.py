"""The only ways a value goes into SQL text: a checked, quoted identifier; a quoted literal; a
checked column type. tests/test_security.py allows nothing else in an f-string given to
`execute`/`sql`, so every module that writes SQL text (publish, the incremental planner, the
copy from Spark) uses these three."""

from __future__ import annotations

import re

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# A DuckDB type as a contract writes it: `varchar`, `decimal(18, 3)`, `timestamp with time zone`.
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]*( [A-Za-z][A-Za-z0-9_]*)*( ?\(\d+( ?, ?\d+)?\))?")


def identifier(name: str) -> str:
    """A schema, table or column name (dbt's: lower case), checked and quoted."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"refusing an SQL identifier with an unexpected name: {name!r}")
    return f'"{name}"'


def literal(text: str) -> str:
    """A string literal: single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def data_type(text: str) -> str:
    """A column type from a model's contract, checked."""
    if not _TYPE.fullmatch(text.strip()):
        raise ValueError(f"refusing a column with an unexpected data type: {text!r}")
    return text.strip()
