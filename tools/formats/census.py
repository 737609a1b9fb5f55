"""US Census international-trade API (`/data/timeseries/intltrade/{imports,exports}/hs`): a JSON
array of arrays, the header row first, every value a string, one row per line."""

from __future__ import annotations

import json
from pathlib import Path

IMPORT_HEADER = [
    "I_COMMODITY",
    "I_COMMODITY_SDESC",
    "CTY_CODE",
    "CTY_NAME",
    "GEN_VAL_MO",
    "CON_VAL_MO",
    "GEN_CIF_MO",
    "GEN_QY1_MO",
    "CON_QY1_MO",
    "UNIT_QY1",
    "time",
    "COMM_LVL",
]
EXPORT_HEADER = [
    "E_COMMODITY",
    "E_COMMODITY_SDESC",
    "CTY_CODE",
    "CTY_NAME",
    "ALL_VAL_MO",
    "QTY_1_MO",
    "UNIT_QY1",
    "DF",
    "time",
    "COMM_LVL",
]


def row_text(row: list[str], compact: bool = True) -> str:
    """One row as the API writes it (compact: no spaces, as the API sends it)."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":") if compact else None)


def table_bytes(table: list[list[str]], *, compact: bool = True, final_newline: bool = False) -> bytes:
    """The response body for a table whose first row is the header. The API ends without a
    newline; the benchmark's files end with one (both parse)."""
    text = "[" + ",\n".join(row_text(row, compact) for row in table) + "]"
    return (text + ("\n" if final_newline else "")).encode("utf-8")


def write(path: Path, table: list[list[str]], **options: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(table_bytes(table, **options))
    return path
