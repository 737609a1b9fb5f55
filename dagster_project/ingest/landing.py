"""The generic landing step shared by every source: read → normalise → row rules → GX suite →
land (raw Parquet, partitioned by period) or quarantine, and one `load_log` record per file.

This module picks the files and the path for each: a large CSV of a source that can scan goes
to `streaming` (bounded memory), every other file is read whole here. Both paths end in
`lake.finish_load`. The lake protocol (load_id, lineage, quarantine, the rows' balance, the
load_log as commit marker) is in `ingest/lake.py`, the lake's layout in `settings.Lake`.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.ingest import lake as lakes
from dagster_project.ingest import streaming, validation
from dagster_project.ingest.lake import (
    LANDED,
    REJECTED,
    REQUEST_SUFFIX,
    FileLoad,
    file_sha256,
    finish_load,
    start_load,
)
from dagster_project.ingest.validation import SuiteResult
from dagster_project.lib.faults import pause_point
from dagster_project.lib.storage import write_atomic, write_error
from dagster_project.settings import Lake
from dagster_project.sources.contract import (
    OUT_OF_SCOPE,
    REJECT_REASON,
    ROW_NUMBER,
    SourceFileError,
    SourceSpec,
    with_scope_column,
)

IGNORED_NAMES = ("README", "readme")


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


# --- one file ---------------------------------------------------------------------------------


def load_file(
    spec: SourceSpec, path: Path, *, inbox_dir: Path, lake_dir: Path, sha256: str | None = None
) -> FileLoad:
    lake = Lake(lake_dir)
    load = start_load(lake, spec.name, path, inbox_dir=inbox_dir, sha256=sha256 or file_sha256(path))
    try:
        if streaming.applies(spec, path):
            # A large CSV: landed in bounded memory, with the same outcome (ingest/streaming.py).
            return finish_load(lake, load, streaming.land(spec, path, load, lake))
        raw = spec.read(path)
        typed = spec.normalise(raw)
    except SourceFileError as err:
        return finish_load(lake, load, problem=err.problem)
    except Exception as err:  # noqa: BLE001 (one file the readers did not foresee must not stop the others)
        if write_error(err, lake_dir):  # the disk, not the file: never record the file as refused
            raise
        detail = (str(err).splitlines() or [""])[0][:300]
        problem = (
            f"could not be read ({type(err).__name__}: {detail}); "
            "the file was rejected and the other files still load"
        )
        return finish_load(lake, load, problem=problem)
    return finish_load(lake, load, _land_whole(spec, raw, typed, load, lake))


def _land_whole(
    spec: SourceSpec, raw: pl.DataFrame, typed: pl.DataFrame, load: FileLoad, lake: Lake
) -> SuiteResult | None:
    """Count, validate and write the rows of a file read whole; the suite's result (None when
    no row reached it)."""
    load.rows_read = raw.height
    typed = with_scope_column(typed)
    rejected_row = pl.col(REJECT_REASON).is_not_null()
    scoped_out = ~rejected_row & pl.col(OUT_OF_SCOPE).is_not_null()
    good = typed.filter(~rejected_row & pl.col(OUT_OF_SCOPE).is_null())
    bad_reasons = typed.filter(rejected_row).select(ROW_NUMBER, REJECT_REASON)
    out_of_scope = typed.filter(scoped_out).select(ROW_NUMBER, OUT_OF_SCOPE)

    suite = None
    if good.height:
        # Called through the module, as in streaming: bench/measure.py times the suite by
        # replacing validation.run_suite.
        suite = validation.run_suite(spec.name, validation.suite_view(spec, good), spec.suite())
        if not suite.success:
            # The suite gates the whole file: nothing of it lands, every row in scope is kept in
            # quarantine (rows out of scope stay out of scope: the suite never saw them).
            bad_reasons = typed.filter(~scoped_out).select(
                ROW_NUMBER,
                pl.coalesce(pl.col(REJECT_REASON), pl.lit(lakes.failed_suite_reason(suite))).alias(
                    REJECT_REASON
                ),
            )
            good = good.clear()

    if bad_reasons.height:
        rejected = raw.join(bad_reasons, on=ROW_NUMBER, how="inner")
        lakes.keep_apart(rejected, lake.quarantine_file(spec.name, load.load_id), load)
    load.rows_quarantined = bad_reasons.height
    if out_of_scope.height:
        kept = raw.join(out_of_scope, on=ROW_NUMBER, how="inner")
        lakes.keep_apart(kept, lake.out_of_scope_file(spec.name, load.load_id), load, reason=OUT_OF_SCOPE)
    load.rows_out_of_scope = out_of_scope.height
    load.out_of_scope_reasons = lakes.reason_counts(out_of_scope)

    if good.height:
        rows = lakes.landing_rows(good, spec, load)
        for (period,), part in rows.group_by("period", maintain_order=True):
            write_atomic(lake.raw_file(spec.name, str(period), load.load_id), part)
            pause_point("ingest")
        load.periods = sorted(rows["period"].unique().to_list())
    load.rows_landed = good.height
    return suite


# --- one source -------------------------------------------------------------------------------


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
    lake = Lake(lake_dir)
    report = SourceLoadReport(source=spec.name)
    lakes.remove_stale_temporaries(lake.root)
    lakes.remove_stale_staging(lake)
    lakes.ensure_schemas(spec, lake)
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
        relative = path.relative_to(root).as_posix()
        if not force and lakes.previous_status(lake, spec.name, lakes.load_id(spec.name, sha256)) == LANDED:
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
