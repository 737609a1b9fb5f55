"""The lake's load protocol, shared by both landing paths (whole file in `landing`, bounded
memory in `streaming`): the load record, the lineage and load_log schemas, the quarantine, the
status and message text, and `finish_load`, the one place a load is finished. Paths come from
`settings.Lake`; every file is written by `storage.write_atomic` (hidden name, fsync, rename), so
a killed run leaves no partial file under a name a reader globs.

The load_log record is written last: rows of a load count downstream only when its record says
`landed` (dbt joins on it), which makes a crash between the data and the record harmless, and
the next run redoes that file.

`load_id` is derived from the source and the file's content hash, so loading the same bytes again
is recognised and skipped, whatever the file is called.

Every row read is accounted for exactly once: `rows_read = rows_landed + rows_quarantined +
rows_out_of_scope` (`check_balance`, run by `finish_load`). A row out of scope (`normalise` set
`_out_of_scope`) is neither landed nor quarantined, and does not raise the quarantine warning; its
count per reason is in the load record (`out_of_scope_reasons`, JSON). A row with a reject reason
is quarantined whatever `_out_of_scope` says. When a file fails its GX suite, its in-scope rows go
to quarantine with `failed_suite_reason` and its out-of-scope rows stay out of scope.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.ingest.validation import SuiteResult
from dagster_project.lib.storage import write_atomic
from dagster_project.settings import Lake
from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    RAGGED_FIELD,
    REJECT_REASON,
    ROW_NUMBER,
    Frame,
    SourceSpec,
)

LINEAGE_SCHEMA: dict[str, pl.DataType] = {
    "_source_file": pl.String,
    "_source_row": pl.Int64,
    "_load_id": pl.String,
    "_loaded_at": pl.Datetime("us"),
}
LOAD_LOG_SCHEMA: dict[str, pl.DataType] = {
    "load_id": pl.String,
    "source": pl.String,
    "source_file": pl.String,
    "file_sha256": pl.String,
    "file_bytes": pl.Int64,
    "loaded_at": pl.Datetime("us"),
    "status": pl.String,
    "rows_read": pl.Int64,
    "rows_landed": pl.Int64,
    "rows_quarantined": pl.Int64,
    "rows_out_of_scope": pl.Int64,
    "out_of_scope_reasons": pl.String,
    "periods": pl.String,
    "message": pl.String,
    "gx_success": pl.Boolean,
    "gx_failed": pl.String,
    "request": pl.String,
}
LANDED = "landed"
REJECTED = "rejected"
# A live pull saves `<payload>.request.json` beside the payload: the request it made (no key).
REQUEST_SUFFIX = ".request.json"
STALE_TEMP_SECONDS = 3600
# Out-of-scope reasons named in a load's message, most frequent first.
MESSAGE_REASONS = 3


@dataclass
class FileLoad:
    load_id: str
    source: str
    source_file: str
    file_sha256: str
    file_bytes: int
    loaded_at: datetime.datetime
    status: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_out_of_scope: int = 0
    # reason → rows, for the rows counted out of scope
    out_of_scope_reasons: dict[str, int] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)
    message: str = ""
    gx_success: bool | None = None
    gx_failed: list[dict] = field(default_factory=list)
    request: str | None = None
    # Seconds per phase of a streamed load (`make bench` reports them); not in the load_log.
    phases: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict:
        return {
            **{
                k: getattr(self, k)
                for k in LOAD_LOG_SCHEMA
                if k not in ("periods", "gx_failed", "out_of_scope_reasons")
            },
            "periods": ",".join(self.periods),
            "out_of_scope_reasons": (
                json.dumps(self.out_of_scope_reasons, ensure_ascii=False, sort_keys=True)
                if self.out_of_scope_reasons
                else None
            ),
            "gx_failed": json.dumps(self.gx_failed, ensure_ascii=False) if self.gx_failed else None,
        }


# --- starting a load ------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_id(source: str, sha256: str) -> str:
    """The same bytes give the same load, whatever the file is called."""
    return f"{source}-{sha256[:16]}"


def previous_status(lake: Lake, source: str, load: str) -> str | None:
    """The status the load_log records for load id `load`, or None when it never finished."""
    path = lake.load_log_file(source, load)
    if not path.exists():
        return None
    return pl.read_parquet(path, columns=["status"])["status"][0]


def start_load(lake: Lake, source: str, path: Path, *, inbox_dir: Path, sha256: str) -> FileLoad:
    """The record of a new load of `path` (rejected until finished), with the request a live pull
    saved beside it. A reload (forced, or after a rejection) replaces whatever this load wrote
    before, so that is removed first."""
    relative = path.relative_to(inbox_dir).as_posix() if path.is_relative_to(inbox_dir) else str(path)
    load = FileLoad(
        load_id=load_id(source, sha256),
        source=source,
        source_file=relative,
        file_sha256=sha256,
        file_bytes=path.stat().st_size,
        loaded_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        status=REJECTED,
    )
    sidecar = path.with_name(path.name + REQUEST_SUFFIX)
    if sidecar.exists():
        load.request = sidecar.read_text(encoding="utf-8")
    for old in lake.raw_files(source, load.load_id):
        old.unlink()
    lake.quarantine_file(source, load.load_id).unlink(missing_ok=True)
    lake.out_of_scope_file(source, load.load_id).unlink(missing_ok=True)
    return load


# --- rows -------------------------------------------------------------------------------------------


def lineage(frame: Frame, load: FileLoad) -> Frame:
    """The lineage columns every landed and quarantined row carries (eager or lazy frames)."""
    return frame.with_columns(
        pl.lit(load.source_file).alias("_source_file"),
        pl.lit(load.load_id).alias("_load_id"),
        pl.lit(load.loaded_at, dtype=pl.Datetime("us")).alias("_loaded_at"),
    )


def landing_rows(typed: Frame, spec: SourceSpec, load: FileLoad) -> Frame:
    """Typed rows as the lake keeps them: the landing schema, then the lineage columns."""
    return lineage(typed.drop(REJECT_REASON, OUT_OF_SCOPE), load).select(
        *spec.landing_schema, *LINEAGE_SCHEMA
    )


def keep_apart(rows: Frame, path: Path, load: FileLoad, *, reason: str = REJECT_REASON) -> None:
    """Rows kept apart with their raw text and `reason` (the quarantine, or the rows out of scope):
    the raw columns as strings, the row number, the reason, the lineage. A lazy frame streams to
    its file."""
    names = [c for c in rows.collect_schema().names() if c not in (ROW_NUMBER, reason, RAGGED_FIELD)]
    kept = rows.select(*[pl.col(c).cast(pl.String) for c in names], ROW_NUMBER, reason)
    write_atomic(path, lineage(kept, load))


def failed_suite_reason(suite: SuiteResult) -> str:
    """The reject reason of a row quarantined because its file failed the GX suite."""
    return f"file failed validation: {suite.summary()}"


def reason_counts(out_of_scope: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """Rows per out-of-scope reason, most frequent first (eager, or lazy: aggregated as it streams)."""
    counts = (
        out_of_scope.lazy()
        .group_by(OUT_OF_SCOPE)
        .len()
        .sort(["len", OUT_OF_SCOPE], descending=[True, False])
        .collect()
    )
    return {str(reason): int(rows) for reason, rows in counts.iter_rows()}


# --- finishing a load -------------------------------------------------------------------------------


def landed_message(load: FileLoad) -> str:
    """What a landed file gave, with the rows out of scope and their reasons when there are any."""
    if not load.rows_read:
        return "no data rows (header only or empty list)"
    message = f"{load.rows_landed} rows landed, {load.rows_quarantined} quarantined"
    if load.rows_out_of_scope:
        # The most frequent reasons (all of them are in `out_of_scope_reasons`).
        items = list(load.out_of_scope_reasons.items())
        reasons = ", ".join(f"{reason}: {rows}" for reason, rows in items[:MESSAGE_REASONS])
        if len(items) > MESSAGE_REASONS:
            others = sum(rows for _, rows in items[MESSAGE_REASONS:])
            reasons += f", {len(items) - MESSAGE_REASONS} other reasons: {others}"
        message += f", {load.rows_out_of_scope} out of scope ({reasons})"
        if not load.rows_landed and not load.rows_quarantined:
            message += "; no row of this file is in the product's scope"
    return message


def check_balance(load: FileLoad) -> None:
    """Every row read is landed, quarantined or out of scope, exactly once."""
    total = load.rows_landed + load.rows_quarantined + load.rows_out_of_scope
    if load.rows_read != total:
        raise AssertionError(f"{load.source_file}: rows_read {load.rows_read} != {total}: {load}")
    if sum(load.out_of_scope_reasons.values()) != load.rows_out_of_scope:
        raise AssertionError(f"{load.source_file}: out-of-scope reasons do not add up: {load}")


def finish_load(
    lake: Lake, load: FileLoad, suite: SuiteResult | None = None, *, problem: str | None = None
) -> FileLoad:
    """End a load, whichever path landed it: its status, message and GX result, then the
    load_log record, written last (the commit marker).

    - `problem`: the file was refused before its rows were counted (unreadable, wrong format):
      rejected, with the problem as the message.
    - else the rows are counted and written, and `suite` is the file's GX result (None when no
      row reached the suite: nothing failed it). A passing suite lands the file; a failing one
      rejects it (its rows are in quarantine). The rows must balance either way."""
    if problem is not None:
        load.status = REJECTED
        load.message = f"{load.source_file}: {problem}"
    else:
        load.gx_success = True if suite is None else suite.success
        load.gx_failed = [] if suite is None else suite.failed
        if load.gx_success:
            load.status = LANDED
            load.message = landed_message(load)
        else:
            load.status = REJECTED
            load.message = f"{load.source_file}: failed GX suite: {suite.summary()}"
        check_balance(load)
    record = pl.DataFrame([load.record()], schema=LOAD_LOG_SCHEMA)
    write_atomic(lake.load_log_file(load.source, load.load_id), record)
    return load


# --- one source's datasets ----------------------------------------------------------------------------


def ensure_schemas(spec: SourceSpec, lake: Lake) -> None:
    """Zero-row files that fix each dataset's schema, so an empty source still reads as a table."""
    write_atomic(
        lake.raw_schema_file(spec.name), pl.DataFrame(schema={**spec.landing_schema, **LINEAGE_SCHEMA})
    )
    write_atomic(lake.load_log_schema_file(spec.name), pl.DataFrame(schema=LOAD_LOG_SCHEMA))


def remove_stale_temporaries(root: Path) -> int:
    """Temporary files older than an hour belong to a killed run; younger ones may be live."""
    removed = 0
    if not root.exists():
        return removed
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temporary in root.rglob(".*.partial"):
        try:
            stale = temporary.stat().st_mtime < cutoff
        except FileNotFoundError:  # renamed into place by a run loading at the same time
            continue
        if stale:
            temporary.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_stale_staging(lake: Lake, max_age_seconds: float = STALE_TEMP_SECONDS) -> int:
    """Work folders of streamed loads a killed run left behind (older than `max_age_seconds`)."""
    root = lake.staging_root
    if not root.is_dir():
        return 0
    cutoff = time.time() - max_age_seconds
    removed = 0
    for folder in root.iterdir():
        try:
            stale = folder.stat().st_mtime < cutoff
        except FileNotFoundError:  # removed by the load that owned it, meanwhile
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
