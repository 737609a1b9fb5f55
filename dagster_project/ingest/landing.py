"""The generic landing step shared by every source: read → normalise → row rules → GX suite →
land (raw Parquet, partitioned by period) or quarantine, and one `load_log` record per file.

Layout under `$REE_DATA_DIR/lake/`:
  raw/<source>/period=<p>/<load_id>.parquet      typed rows with lineage columns
  raw/<source>/_schema.parquet                   zero rows: keeps the dataset readable when empty
  quarantine/<source>/<load_id>.parquet          rejected rows, raw strings + `_reject_reason`
  out_of_scope/<source>/<load_id>.parquet        rows outside the product's scope, raw strings +
                                                 `_out_of_scope` (the reason), kept for debugging
  audit/load_log/<source>/<load_id>.parquet      one record per file load (the commit marker)
  audit/load_log/<source>/_schema.parquet        zero rows, as for raw

Every Parquet file is written to a hidden temporary name and renamed into place, so a killed run
leaves no partial file under a name a reader globs. The load_log record is written last: rows of a
load count downstream only when its record says `landed` (dbt joins on it), which makes a crash
between the data and the record harmless, and the next run redoes that file.

`load_id` is derived from the source and the file's content hash, so loading the same bytes again
is recognised and skipped, whatever the file is called.

Every row read is accounted for exactly once: `rows_read = rows_landed + rows_quarantined +
rows_out_of_scope`. A row out of scope (`normalise` set `_out_of_scope`: a product line that is
not a rare-earth line, a `TOTAL` commodity, a missing FX quote) is well-formed but not the
product's data: it is neither landed nor quarantined, and does not raise the quarantine warning;
its count per reason is in the load record (`out_of_scope_reasons`, JSON). A row with a reject
reason is quarantined whatever `_out_of_scope` says. When a file fails its GX suite, its in-scope
rows go to quarantine and its out-of-scope rows stay out of scope (the suite never saw them).
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.ingest import streaming
from dagster_project.lib.faults import pause_point
from dagster_project.lib.storage import write_error
from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    REJECT_REASON,
    ROW_NUMBER,
    Frame,
    SourceFileError,
    SourceSpec,
    with_scope_column,
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
IGNORED_NAMES = ("README", "readme")
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


@dataclass
class SourceLoadReport:
    source: str
    loads: list[FileLoad] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Companion files (SourceSpec.companions) seen in the inbox and left alone.
    ignored: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(load.rows_read for load in self.loads)

    @property
    def rows_landed(self) -> int:
        return sum(load.rows_landed for load in self.loads)

    @property
    def rows_quarantined(self) -> int:
        return sum(load.rows_quarantined for load in self.loads)

    @property
    def rows_out_of_scope(self) -> int:
        return sum(load.rows_out_of_scope for load in self.loads)

    def out_of_scope_reasons(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for load in self.loads:
            for reason, rows in load.out_of_scope_reasons.items():
                totals[reason] = totals.get(reason, 0) + rows
        return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))

    @property
    def rejected(self) -> list[FileLoad]:
        return [load for load in self.loads if load.status == REJECTED]


# --- files ------------------------------------------------------------------------------------


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        frame.write_parquet(temporary, statistics=True)
        fsync_replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def fsync_replace(written: Path, path: Path) -> None:
    """Move a finished file into place: flushed to disk first, then one rename, so a reader sees
    the old file or the new one, never part of it. A file from another file system (a work
    folder elsewhere) is first copied beside its target under a hidden temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if written.stat().st_dev != path.parent.stat().st_dev:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        shutil.copyfile(written, temporary)
        written = temporary
    with open(written, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(written, path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


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


def discover(inbox_dir: Path, source: str) -> list[Path]:
    folder = inbox_dir / source
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(folder).parts)
        and not p.name.startswith(IGNORED_NAMES)
        and not p.name.endswith(REQUEST_SUFFIX)
    )


def is_companion(spec: SourceSpec, path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in spec.companions)


def unknown_folders(inbox_dir: Path, known: set[str]) -> list[str]:
    if not inbox_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in inbox_dir.iterdir()
        if p.is_dir() and p.name not in known and not p.name.startswith(".")
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_log_path(lake_dir: Path, source: str, load_id: str) -> Path:
    return lake_dir / "audit" / "load_log" / source / f"{load_id}.parquet"


def previous_status(lake_dir: Path, source: str, load_id: str) -> str | None:
    path = _load_log_path(lake_dir, source, load_id)
    if not path.exists():
        return None
    return pl.read_parquet(path, columns=["status"])["status"][0]


# --- one file ---------------------------------------------------------------------------------


def _lineage(frame: Frame, relative: str, load_id: str, loaded_at: datetime.datetime) -> Frame:
    """The lineage columns every landed and quarantined row carries (eager or lazy frames)."""
    return frame.with_columns(
        pl.lit(relative).alias("_source_file"),
        pl.lit(load_id).alias("_load_id"),
        pl.lit(loaded_at, dtype=pl.Datetime("us")).alias("_loaded_at"),
    )


def load_file(
    spec: SourceSpec, path: Path, *, inbox_dir: Path, lake_dir: Path, sha256: str | None = None
) -> FileLoad:
    sha256 = sha256 or file_sha256(path)
    load_id = f"{spec.name}-{sha256[:16]}"
    relative = path.relative_to(inbox_dir).as_posix() if path.is_relative_to(inbox_dir) else str(path)
    loaded_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    load = FileLoad(
        load_id=load_id,
        source=spec.name,
        source_file=relative,
        file_sha256=sha256,
        file_bytes=path.stat().st_size,
        loaded_at=loaded_at,
        status=REJECTED,
    )
    sidecar = path.with_name(path.name + REQUEST_SUFFIX)
    if sidecar.exists():
        load.request = sidecar.read_text(encoding="utf-8")
    raw_dir = lake_dir / "raw" / spec.name
    quarantine_path = lake_dir / "quarantine" / spec.name / f"{load_id}.parquet"
    # A reload (forced, or after a rejection) replaces whatever this load wrote before.
    for old in raw_dir.glob(f"period=*/{load_id}.parquet"):
        old.unlink()
    quarantine_path.unlink(missing_ok=True)
    out_of_scope_path(lake_dir, spec.name, load_id).unlink(missing_ok=True)

    try:
        if streaming.applies(spec, path):
            # A large CSV: landed in bounded memory, with the same outcome (ingest/streaming.py).
            streaming.land(
                spec, path, load, lake_dir=lake_dir, raw_dir=raw_dir, quarantine_path=quarantine_path
            )
            check_balance(load)
            _write_load_log(lake_dir, load)
            return load
        raw = spec.read(path)
        typed = spec.normalise(raw)
    except SourceFileError as err:
        load.message = f"{relative}: {err.problem}"
        _write_load_log(lake_dir, load)
        return load
    except Exception as err:  # noqa: BLE001 (one file the readers did not foresee must not stop the others)
        if write_error(err, lake_dir):  # the disk, not the file: never record the file as refused
            raise
        detail = (str(err).splitlines() or [""])[0][:300]
        load.message = (
            f"{relative}: could not be read ({type(err).__name__}: {detail}); "
            "the file was rejected and the other files still load"
        )
        _write_load_log(lake_dir, load)
        return load

    load.rows_read = raw.height
    typed = with_scope_column(typed)
    rejected_row = pl.col(REJECT_REASON).is_not_null()
    scoped_out = ~rejected_row & pl.col(OUT_OF_SCOPE).is_not_null()
    good = typed.filter(~rejected_row & pl.col(OUT_OF_SCOPE).is_null())
    bad_reasons = typed.filter(rejected_row).select(ROW_NUMBER, REJECT_REASON)
    out_of_scope = typed.filter(scoped_out).select(ROW_NUMBER, OUT_OF_SCOPE)

    landing = _lineage(good.drop(REJECT_REASON, OUT_OF_SCOPE), relative, load_id, loaded_at).select(
        *spec.landing_schema, *LINEAGE_SCHEMA
    )
    if good.height:
        from dagster_project.ingest.validation import run_suite

        view = landing.select(*spec.landing_schema).with_columns(
            expr.alias(name) for name, expr in spec.derived_for_validation.items()
        )
        result = run_suite(spec.name, view, spec.suite())
        load.gx_success, load.gx_failed = result.success, result.failed
        if not result.success:
            # The suite gates the whole file: nothing of it lands, every row in scope is kept in
            # quarantine (rows out of scope stay out of scope: the suite never saw them).
            bad_reasons = typed.filter(~scoped_out).select(
                ROW_NUMBER,
                pl.coalesce(
                    pl.col(REJECT_REASON), pl.lit(f"file failed validation: {result.summary()}")
                ).alias(REJECT_REASON),
            )
            good = good.clear()
            load.message = f"{relative}: failed GX suite: {result.summary()}"
    else:
        load.gx_success = True

    if bad_reasons.height:
        quarantined = raw.join(bad_reasons, on=ROW_NUMBER, how="inner").select(
            pl.all().exclude(ROW_NUMBER, REJECT_REASON).cast(pl.String), ROW_NUMBER, REJECT_REASON
        )
        write_parquet_atomic(_lineage(quarantined, relative, load_id, loaded_at), quarantine_path)
    load.rows_quarantined = bad_reasons.height
    if out_of_scope.height:
        kept = raw.join(out_of_scope, on=ROW_NUMBER, how="inner").select(
            pl.all().exclude(ROW_NUMBER, OUT_OF_SCOPE).cast(pl.String), ROW_NUMBER, OUT_OF_SCOPE
        )
        write_parquet_atomic(
            _lineage(kept, relative, load_id, loaded_at), out_of_scope_path(lake_dir, spec.name, load_id)
        )
    load.rows_out_of_scope = out_of_scope.height
    load.out_of_scope_reasons = reason_counts(out_of_scope)

    if good.height:
        landing = landing.filter(pl.col("_source_row").is_in(good[ROW_NUMBER].implode()))
        for (period,), part in landing.group_by("period", maintain_order=True):
            # A two-month period such as China's "2025-01/02" must stay one folder level.
            folder = f"period={str(period).replace('/', '_')}"
            write_parquet_atomic(part, raw_dir / folder / f"{load_id}.parquet")
            pause_point("ingest")
        load.periods = sorted(landing["period"].unique().to_list())
    load.rows_landed = good.height
    if load.gx_success:
        load.status = LANDED
        if not load.message:
            load.message = landed_message(load)
    check_balance(load)
    _write_load_log(lake_dir, load)
    return load


def out_of_scope_path(lake_dir: Path, source: str, load_id: str) -> Path:
    return lake_dir / "out_of_scope" / source / f"{load_id}.parquet"


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


def _write_load_log(lake_dir: Path, load: FileLoad) -> None:
    frame = pl.DataFrame([load.record()], schema=LOAD_LOG_SCHEMA)
    write_parquet_atomic(frame, _load_log_path(lake_dir, load.source, load.load_id))


# --- one source -------------------------------------------------------------------------------


def ensure_schemas(spec: SourceSpec, lake_dir: Path) -> None:
    """Zero-row files that fix each dataset's schema, so an empty source still reads as a table."""
    schema = {**spec.landing_schema, **LINEAGE_SCHEMA}
    write_parquet_atomic(pl.DataFrame(schema=schema), lake_dir / "raw" / spec.name / "_schema.parquet")
    write_parquet_atomic(
        pl.DataFrame(schema=LOAD_LOG_SCHEMA),
        lake_dir / "audit" / "load_log" / spec.name / "_schema.parquet",
    )


def ingest_source(
    spec: SourceSpec,
    *,
    inbox_dir: Path,
    lake_dir: Path,
    force: bool = False,
    pulled_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SourceLoadReport:
    """Load every new or changed file of one source, from the inbox and from the live pulls'
    folder. Files already landed are skipped. `progress` receives one line per file (the
    ingest asset sends it to the run log, so a bulk load shows where it is)."""
    report = SourceLoadReport(source=spec.name)
    remove_stale_temporaries(lake_dir)
    streaming.remove_stale_staging(lake_dir, STALE_TEMP_SECONDS)
    ensure_schemas(spec, lake_dir)
    roots = [inbox_dir] + ([pulled_dir] if pulled_dir else [])
    files = [(root, path) for root in roots for path in discover(root, spec.name)]
    started = time.monotonic()
    companions = [(root, path) for root, path in files if is_companion(spec, path)]
    for root, path in companions:
        relative = path.relative_to(root).as_posix()
        report.ignored.append(relative)
        if progress:
            progress(f"{spec.name}: {relative}: ignored (a companion file, not data)")
    files = [item for item in files if item not in companions]
    for number, (root, path) in enumerate(files, start=1):
        sha256 = file_sha256(path)
        load_id = f"{spec.name}-{sha256[:16]}"
        relative = path.relative_to(root).as_posix()
        if not force and previous_status(lake_dir, spec.name, load_id) == LANDED:
            report.skipped.append(relative)
            line = "already loaded, skipped"
        else:
            load = load_file(spec, path, inbox_dir=root, lake_dir=lake_dir, sha256=sha256)
            report.loads.append(load)
            line = f"{load.status}: {load.rows_landed} landed, {load.rows_quarantined} quarantined"
            if load.rows_out_of_scope:
                line += f", {load.rows_out_of_scope} out of scope"
        if progress:
            elapsed = time.monotonic() - started
            progress(f"{spec.name} [{number}/{len(files)}, {elapsed:.1f} s] {relative}: {line}")
    return report
