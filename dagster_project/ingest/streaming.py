"""Landing of large CSV files (Comtrade bulk extracts, GACC exports) in bounded memory.

`landing.load_file` hands a file here when its source can `scan` it and it is at least
`REE_STREAM_MIN_MB` (default 64 MB) on disk. The outcome is the one the whole-file path gives
(same rows landed, same quarantine reasons, same load_log record, same GX suite), reached without
ever holding the file:

1. **Parse, normalise, row rules**: one polars streaming query, `scan` → `normalise` (lazy) →
   one staged Parquet file in a work folder (typed rows with their reject reason). A GBK or gzip
   file is first turned into a UTF-8 copy block by block (`textio.plain_csv`). A row with more
   fields than the header fills a column declared past it (`contract.RAGGED_FIELD`) and refuses the
   file, as the whole-file reader does.
2. **GX and the period files, in one pass**: the source's suite on every landing row, batch by
   batch (`BATCH_ROWS`, read back with pyarrow's batch iterator), pass/fail first
   (`validation.suite_passes`); a batch that fails is validated again with counts, so the failure
   reads as the whole-file path's. Two kinds of expectation are file-wide and are finished across
   batches: `mostly` thresholds (the counts of every batch are summed) and the record key's
   uniqueness (a 64-bit hash per row; a repeated hash is confirmed on the rows and the repeated
   rows go through GX). The column-set expectation is checked once. While GX looks at batch i+1,
   a second thread appends batch i's rows to one Parquet file per period in the work folder.
3. **Land or refuse**: when the suite passes, each period's file is renamed to
   `raw/<source>/period=<p>/<load_id>.parquet` (fsynced first, as every lake file) and rejected
   rows go to quarantine with their raw text, read back from the file. When it fails, nothing
   lands and every row in scope goes to quarantine with the reason, as in the whole-file path.
   Rows out of scope (`_out_of_scope` set, no reject reason) are counted per reason and kept
   apart in `out_of_scope/<source>/<load_id>.parquet`, as in the whole-file path.

Memory: polars' streaming engine works in morsels, GX sees one batch at a time, and the hash
column is 8 bytes a row (80 MB for 10^7 rows). `make bench` measures the peak (docs/benchmarks.md:
1.26 GB for a 3 GB, 10^7-row Comtrade CSV).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dagster_project.ingest import lake as lakes
from dagster_project.ingest import validation
from dagster_project.ingest.lake import FileLoad
from dagster_project.ingest.validation import SuiteResult, suite_view
from dagster_project.lib.faults import pause_point
from dagster_project.lib.storage import replace_atomic
from dagster_project.settings import Lake
from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    RAGGED_FIELD,
    REJECT_REASON,
    ROW_NUMBER,
    SourceFileError,
    SourceSpec,
    with_scope_column,
)
from dagster_project.sources.textio import data_suffix

BATCH_ROWS = 250_000
KEY_HASH = "_record_key_hash"
FULL_PARSE = pl.QueryOptFlags(projection_pushdown=False)
# Expectations on the table's shape, not its rows: checked once per file.
TABLE_LEVEL = ("ExpectTableColumnsToMatchSet",)
# A row that lands: no reject reason, and in scope.
LANDABLE = pl.col(REJECT_REASON).is_null() & pl.col(OUT_OF_SCOPE).is_null()


def min_bytes() -> int:
    return int(float(os.environ.get("REE_STREAM_MIN_MB", "64")) * (1 << 20))


def applies(spec: SourceSpec, path: Path) -> bool:
    """A CSV file of a source that can scan, large enough for holding it whole to matter."""
    return spec.scan is not None and data_suffix(path) == ".csv" and path.stat().st_size >= min_bytes()


def _parse_error(path: Path, err: Exception) -> SourceFileError:
    detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
    return SourceFileError(path, f"cannot parse as CSV: {detail}")


def land(spec: SourceSpec, path: Path, load: FileLoad, lake: Lake) -> SuiteResult:
    """Count, validate and write the rows of `path` in bounded memory, in a work folder of the
    lake removed afterwards; the file's GX result (`lake.finish_load` ends the load)."""
    work = lake.staging_dir(load.load_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        return _land(spec, path, load, lake, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _land(spec: SourceSpec, path: Path, load: FileLoad, lake: Lake, work: Path) -> SuiteResult:
    assert spec.scan is not None
    clock = time.perf_counter()
    phases = load.phases
    raw = spec.scan(path, work)
    typed_path = work / "typed.parquet"
    try:
        # FULL_PARSE when the scan has no column past the header: every column is then parsed,
        # which makes polars check each row's field count.
        full = RAGGED_FIELD not in raw.collect_schema().names()
        with_scope_column(spec.normalise(raw)).sink_parquet(
            typed_path, statistics=True, optimizations=FULL_PARSE if full else pl.QueryOptFlags()
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError) as err:
        raise _parse_error(path, err) from err
    if not full:
        # A row with more fields than the header (an unquoted comma shifting the values) refuses
        # the file, as read whole: it fills the column declared past the header.
        first = (
            pl.scan_parquet(typed_path)
            .filter(pl.col(RAGGED_FIELD).is_not_null())
            .select(ROW_NUMBER)
            .head(1)
            .collect()[ROW_NUMBER]
        )
        if len(first):
            raise SourceFileError(
                path, f"cannot parse as CSV: data row {first[0]:,} has more fields than the header"
            )
    phases["parse_normalise_s"] = time.perf_counter() - clock
    bad = (
        pl.scan_parquet(typed_path)
        .filter(pl.col(REJECT_REASON).is_not_null())
        .select(ROW_NUMBER, REJECT_REASON)
    )

    scoped_out = (
        pl.scan_parquet(typed_path)
        .filter(pl.col(REJECT_REASON).is_null() & pl.col(OUT_OF_SCOPE).is_not_null())
        .select(ROW_NUMBER, OUT_OF_SCOPE)
    )

    outcome = validate_and_split(spec, typed_path, work / "periods", load)
    load.rows_read = outcome.rows_good + outcome.rows_bad + outcome.rows_out_of_scope
    if outcome.rows_out_of_scope:
        clock = time.perf_counter()
        load.out_of_scope_reasons = lakes.reason_counts(scoped_out)
        # As for the quarantine: the rows' numbers (8 bytes each) pick them out of the file.
        out_numbers = scoped_out.select(ROW_NUMBER).collect()[ROW_NUMBER].implode()
        kept = raw.filter(pl.col(ROW_NUMBER).is_in(out_numbers)).join(
            scoped_out, on=ROW_NUMBER, how="inner", maintain_order="left"
        )
        lakes.keep_apart(kept, lake.out_of_scope_file(spec.name, load.load_id), load, reason=OUT_OF_SCOPE)
        load.rows_out_of_scope = outcome.rows_out_of_scope
        phases["out_of_scope_s"] = time.perf_counter() - clock
    phases.update(outcome.seconds)
    clock = time.perf_counter()
    quarantine_file = lake.quarantine_file(spec.name, load.load_id)

    if not outcome.result.success:
        # The suite gates the whole file: nothing lands, every row is kept in quarantine.
        # maintain_order: polars' streaming join then runs in bounded memory (without it,
        # measured 3 GB for a 3*10^6-row file)
        rejected = raw.join(bad, on=ROW_NUMBER, how="left", maintain_order="left").with_columns(
            pl.coalesce(pl.col(REJECT_REASON), pl.lit(lakes.failed_suite_reason(outcome.result))).alias(
                REJECT_REASON
            )
        )
        if outcome.rows_out_of_scope:  # they stay out of scope: the suite never saw them
            rejected = rejected.filter(~pl.col(ROW_NUMBER).is_in(out_numbers))
        lakes.keep_apart(rejected, quarantine_file, load)
        load.rows_quarantined = load.rows_read - load.rows_out_of_scope
        phases["quarantine_s"] = time.perf_counter() - clock
        return outcome.result

    if outcome.rows_bad:
        # The rejected rows' numbers (8 bytes each) pick them out of the file as it streams by.
        numbers = bad.select(ROW_NUMBER).collect()[ROW_NUMBER].implode()
        rejected = raw.filter(pl.col(ROW_NUMBER).is_in(numbers)).join(
            bad, on=ROW_NUMBER, how="inner", maintain_order="left"
        )
        lakes.keep_apart(rejected, quarantine_file, load)
    load.rows_quarantined = outcome.rows_bad
    phases["quarantine_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for period, written in sorted(outcome.periods.items()):
        replace_atomic(written, lake.raw_file(spec.name, period, load.load_id))
        pause_point("ingest")
    load.periods = sorted(outcome.periods)
    load.rows_landed = outcome.rows_good
    phases["land_s"] = time.perf_counter() - clock
    return outcome.result


# --- GX, batch by batch -------------------------------------------------------------------------


@dataclass
class Outcome:
    result: SuiteResult | None
    rows_good: int = 0
    rows_bad: int = 0
    rows_out_of_scope: int = 0
    periods: dict[str, Path] = field(default_factory=dict)  # period → its landing file in the work folder
    seconds: dict[str, float] = field(default_factory=dict)


def _batches(typed_path: Path) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(typed_path) as parquet:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            yield pl.from_arrow(batch)


class PeriodFiles:
    """One Parquet file per period, appended batch by batch (pyarrow writes each batch's rows of
    a period as row groups at once: memory stays one batch, whatever the number of periods)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.writers: dict[str, Any] = {}
        self.paths: dict[str, Path] = {}

    def write(self, frame: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        for (period,), part in frame.group_by("period", maintain_order=True):
            table = part.to_arrow()
            if period not in self.writers:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.paths[period] = self.folder / f"{len(self.paths):05d}.parquet"
                self.writers[period] = pq.ParquetWriter(self.paths[period], table.schema)
            writer = self.writers[period]
            writer.write_table(table.cast(writer.schema), row_group_size=BATCH_ROWS)

    def close(self) -> dict[str, Path]:
        for writer in self.writers.values():
            writer.close()
        return self.paths


def validate_and_split(spec: SourceSpec, typed_path: Path, periods_dir: Path, load: FileLoad) -> Outcome:
    """One pass over the staged rows: count, validate with the source's GX suite batch by batch,
    and write each period's landing rows to its own file (kept only when the file passes)."""
    expectations = spec.suite()
    key_columns = next(
        (kw["column_list"] for name, kw in expectations if name == "ExpectCompoundColumnsToBeUnique"), None
    )
    mostly = [(name, kw) for name, kw in expectations if "mostly" in kw]
    table_level = [(name, kw) for name, kw in expectations if name in TABLE_LEVEL]
    row_level = [(name, kw) for name, kw in expectations if name not in TABLE_LEVEL]
    checked_columns = False
    hashes: list[np.ndarray] = []
    failed: dict[tuple, dict] = {}
    recount_mostly = False
    outcome = Outcome(result=None)
    seconds = {"gx_s": 0.0, "split_s": 0.0}
    files = PeriodFiles(periods_dir)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ree-land")
    pending: Future | None = None
    try:
        for frame in _batches(typed_path):
            good = frame.filter(LANDABLE)
            rejected = frame.select(pl.col(REJECT_REASON).is_not_null().sum()).item()
            outcome.rows_bad += rejected
            outcome.rows_out_of_scope += frame.height - good.height - rejected
            if good.is_empty():
                continue
            clock = time.perf_counter()
            view = suite_view(spec, good)
            if key_columns:
                hashes.append(view.select(pl.struct(key_columns).hash()).to_series().to_numpy())
            if table_level and not checked_columns:
                # The column set is the same for every batch: checked once, on one row (GX's
                # view then converts only the columns the row-level expectations read).
                checked_columns = True
                if not validation.suite_passes(spec.name, view.head(1), table_level):
                    _merge(failed, validation.run_suite(spec.name, view.head(1), table_level).failed, mostly)
            if not validation.suite_passes(spec.name, view, row_level):
                recount_mostly |= _merge(
                    failed, validation.run_suite(spec.name, view, row_level).failed, mostly
                )
            seconds["gx_s"] += time.perf_counter() - clock
            if failed:
                # A hard expectation failed: the file fails, as it would validated whole. Its other
                # failures are found too, so the message lists what the whole-file suite lists.
                continue
            clock = time.perf_counter()
            landing_rows = lakes.landing_rows(good, spec, load)
            # Written by a second thread (Parquet encoding releases the GIL) while GX validates
            # the next batch; one batch in flight at most, so memory stays two batches.
            if pending is not None:
                pending.result()
            pending = writer.submit(files.write, landing_rows)
            outcome.rows_good += good.height
            seconds["split_s"] += time.perf_counter() - clock
        if pending is not None:
            clock = time.perf_counter()
            pending.result()
            seconds["split_s"] += time.perf_counter() - clock
    finally:
        writer.shutdown(wait=True)
        outcome.periods = files.close()
    outcome.seconds = seconds
    if failed:
        outcome.rows_good = pl.scan_parquet(typed_path).filter(LANDABLE).select(pl.len()).collect().item()
        for item in failed.values():  # of the file's landing rows (GX: of its non-missing values)
            item["unexpected_percent"] = round(100 * item["unexpected_count"] / max(outcome.rows_good, 1), 3)
        outcome.result = SuiteResult(success=False, evaluated=len(expectations), failed=list(failed.values()))
        return outcome
    clock = time.perf_counter()
    failures: list[dict] = []
    if recount_mostly:
        failures += _mostly_over_file(spec, typed_path, mostly)
    if key_columns and len(hashes) > 1:
        failures += _keys_over_file(typed_path, key_columns, hashes, spec.name)
    seconds["gx_s"] += time.perf_counter() - clock
    outcome.result = SuiteResult(success=not failures, evaluated=len(expectations), failed=failures)
    return outcome


def _merge(failed: dict[tuple, dict], items: list[dict], mostly: list) -> bool:
    """Add one batch's failures to the file's (counts summed, a few samples kept). `mostly`
    failures are not added: they are decided over the file. True when there was one."""
    saw_mostly = False
    for item in items:
        if _is_mostly(item, mostly):
            saw_mostly = True
            continue
        key = (item["expectation"], item["column"])
        if key in failed:  # the same expectation failed in an earlier batch: add up
            failed[key]["unexpected_count"] += item["unexpected_count"]
            failed[key]["sample"] = (failed[key]["sample"] + item["sample"])[: validation.SAMPLE_SIZE]
        else:
            failed[key] = item
    return saw_mostly


def _is_mostly(item: dict, mostly: list) -> bool:
    return any(
        item["expectation"] == _snake(name) and item["column"] == kw.get("column") for name, kw in mostly
    )


def _snake(name: str) -> str:
    """ExpectColumnValuesToBeBetween → expect_column_values_to_be_between (GX's `type`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _mostly_over_file(spec: SourceSpec, typed_path: Path, mostly: list) -> list[dict]:
    """`mostly` is a share of the file's rows: the counts of every batch, summed."""
    totals = [[0, 0] for _ in mostly]  # unexpected, non-missing
    samples: list[list[str]] = [[] for _ in mostly]
    for frame in _batches(typed_path):
        view = suite_view(spec, frame.filter(LANDABLE))
        for index, counts in enumerate(validation.unexpected_counts(view, mostly)):
            totals[index][0] += counts["unexpected"]
            totals[index][1] += counts["non_missing"]
            samples[index] = (samples[index] + counts["sample"])[: validation.SAMPLE_SIZE]
    failures = []
    for (name, kw), (unexpected, non_missing), sample in zip(mostly, totals, samples, strict=True):
        if non_missing and (non_missing - unexpected) / non_missing < kw["mostly"]:
            failures.append(
                {
                    "expectation": _snake(name),
                    "column": kw.get("column"),
                    "unexpected_count": unexpected,
                    "unexpected_percent": round(100 * unexpected / non_missing, 3),
                    "sample": sample,
                    "observed": None,
                    "error": None,
                }
            )
    return failures


def _keys_over_file(typed_path: Path, key_columns: list, hashes: list[np.ndarray], name: str) -> list[dict]:
    """The record key across batches: a repeated hash is checked on the rows, and the rows whose
    key repeats go through GX's own uniqueness expectation (so the failure reads as GX's).

    The hashes are sorted in one array and compared with their neighbours: 8 bytes a row and a
    copy, where a hash table (`is_duplicated`) took about 50 bytes a row."""
    ordered = np.concatenate(hashes)
    hashes.clear()
    ordered.sort()
    repeated = pl.Series(KEY_HASH, np.unique(ordered[1:][ordered[1:] == ordered[:-1]]))
    del ordered
    if repeated.is_empty():
        return []
    candidates = (
        pl.scan_parquet(typed_path)
        .filter(LANDABLE)
        .select(key_columns)
        .filter(pl.struct(key_columns).hash().is_in(repeated.implode()))
        .collect()
    )
    if not candidates.is_duplicated().any():
        return []  # a hash collision, not a repeated key
    result = validation.run_suite(
        name, candidates, [("ExpectCompoundColumnsToBeUnique", {"column_list": key_columns})]
    )
    return result.failed
