"""The contract every source module fulfils, and the error a source raises on a file it cannot read.

A source is a `SourceSpec`: how to `read` one file (file → frame of raw strings, one row per
record, with `_source_row`; optionally `scan`, the same as a lazy frame for files too large to
hold), how to `normalise` that frame into the typed landing schema (plus `_reject_reason`, null
for a good row), and its GX `suite`, written as plain data so that nothing imports Great
Expectations until a load is validated. Every field is read by the generic ingest step or, for
`revision_key`, checked against the source's `int_<source>__current` model by the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import polars as pl

ROW_NUMBER = "_source_row"
REJECT_REASON = "_reject_reason"
# A well-formed row outside the product's scope (a line that is not a rare-earth line, a `TOTAL`
# commodity, a missing FX quote): `normalise` may add this column with the reason (null for a row
# in scope). Such rows are counted apart (`rows_out_of_scope`), never quarantined; a row with a
# reject reason is quarantined whatever this column says.
OUT_OF_SCOPE = "_out_of_scope"
# A column past the header's last one, declared by the streamed scan: a row with more fields than
# the header fills it (`textio.scan_csv_strings`).
RAGGED_FIELD = "_field_past_header"
# Columns the loader adds to every frame (lineage, reject reason): a file may not bring its own.
RESERVED_COLUMNS = (ROW_NUMBER, REJECT_REASON, OUT_OF_SCOPE, "_source_file", "_load_id", "_loaded_at")

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


class LazyNormalise(Protocol):
    """The `normalise` of a source with `scan`: eager in, eager out (a file read whole), and lazy
    in, lazy out (the streamed load)."""

    def __call__(self, raw: Frame, /) -> Frame: ...


@dataclass(frozen=True)
class SourceSpec:
    name: str
    read: Callable[[Path], pl.DataFrame]
    # Eager only, or (a source with `scan`) eager and lazy.
    normalise: Callable[[pl.DataFrame], pl.DataFrame] | LazyNormalise
    suite: Callable[[], list[Expectation]]
    landing_schema: dict[str, pl.DataType]
    # Columns that identify the figures a revised file replaces (besides the source itself): the
    # partition of the source's `int_<source>__current` model, which a test compares with this.
    revision_key: tuple[str, ...]
    description: str = ""
    derived_for_validation: dict[str, pl.Expr] = field(default_factory=dict)
    # Large CSV files: `scan(path, workdir)` is `read` as a lazy frame (same columns, same row
    # numbers), and `normalise` accepts it; ingest.streaming lands such files in bounded memory.
    scan: Callable[[Path, Path], pl.LazyFrame] | None = None
    # File-name patterns (fnmatch) of what the agency ships beside its data, such as metadata
    # and revision notes: not data, so never loaded nor refused, only listed as ignored.
    companions: tuple[str, ...] = ()


def with_scope_column(frame: Frame) -> Frame:
    """`frame` with `OUT_OF_SCOPE` (all null when `normalise` did not add it): every source is
    read the same way, whether or not it has rows out of scope."""
    if OUT_OF_SCOPE in frame.collect_schema().names():
        return frame
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(OUT_OF_SCOPE))
