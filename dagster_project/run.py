"""`make run`: materialize every asset in process, then print what happened.

In-process execution is chosen on purpose: the multiprocess executor pays a process start per
step (STACK.md measured 49 s against 9–13 s for this graph), and the warehouse steps run one at
a time anyway (one DuckDB writer).
"""

import os
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl

from dagster_project.ingest.landing import LANDED, REJECTED, unknown_folders
from dagster_project.serving.report import report_path
from dagster_project.settings import get_settings
from dagster_project.sources import SOURCES


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set (the Makefile sets it), the run is recorded and shows in the UI.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def landed_before(lake_dir: Path, source: str) -> tuple[int, str | None]:
    """How many files of a source have landed (in any run), and when the latest one was loaded."""
    folder = lake_dir / "audit" / "load_log" / source
    if not folder.is_dir():
        return 0, None
    log = pl.read_parquet(folder / "*.parquet", columns=["status", "loaded_at"]).filter(
        pl.col("status") == LANDED
    )
    latest = log["loaded_at"].max()
    return log.height, (f"{latest:%Y-%m-%d %H:%M} UTC" if latest is not None else None)


def refused_lines(materialized: list, lake_dir: Path) -> list[str]:
    """Loud lines for every file refused in this run, and what its source's figures are now."""
    lines = []
    for event in materialized:
        key = event.asset_key.to_user_string()
        if not key.startswith("raw_"):
            continue
        files = getattr(event.materialization.metadata.get("files"), "value", None) or []
        refused = [f for f in files if f.get("status") == REJECTED]
        if not refused:
            continue
        source = key[4:]
        for file in refused:
            message = file["message"]
            lines.append(
                f"REFUSED {message if message.startswith(file['file']) else file['file'] + ': ' + message}"
            )
        count, latest = landed_before(lake_dir, source)
        lines.append(
            (
                f"  => {source} figures are the PREVIOUS ones: nothing of the refused file(s) landed, "
                f"so {source} data is that of its {count} landed file(s) (latest loaded {latest})"
                if count
                else f"  => NO {source} figures: nothing of the refused file(s) landed, and no {source} "
                "file has landed before"
            )
            + "; the other sources are built and published as usual. Fix the file and run again."
        )
    return lines


def summarise(result: dg.ExecuteInProcessResult, seconds: float) -> tuple[list[str], bool]:
    settings = get_settings()
    materialized = result.get_asset_materialization_events()
    lines = [f"assets materialized: {len(materialized)} in {seconds:.1f} s"]
    for event in materialized:
        key = event.asset_key.to_user_string()
        if key.startswith("raw_"):
            meta = event.materialization.metadata
            value = {k: getattr(v, "value", v) for k, v in meta.items()}
            lines.append(
                f"  {key[4:]:<9} files loaded {value['files_loaded']}, rejected "
                f"{value['files_rejected']}, already loaded {value['files_skipped_already_loaded']}; "
                f"rows read {value['rows_read']}, landed {value['rows_landed']}, "
                f"quarantined {value['rows_quarantined']}"
                + (f", out of scope {value['rows_out_of_scope']}" if value.get("rows_out_of_scope") else "")
            )
            for reason, rows in (value.get("out_of_scope_reasons") or {}).items():
                lines.append(f"            out of scope: {rows} {reason}")
    evaluations = result.get_asset_check_evaluations()
    passed = sum(1 for e in evaluations if e.passed)
    failed = [e for e in evaluations if not e.passed]
    errors = [e for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    lines.append(f"checks: {passed} passed, {len(failed)} failed ({len(errors)} errors)")
    for evaluation in failed:
        lines.append(
            f"  FAILED {evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
            f"[{evaluation.severity.value}] {evaluation.description or ''}"[:300]
        )
    lines.extend(refused_lines(materialized, settings.lake_dir))
    ignored = unknown_folders(settings.inbox_dir, set(SOURCES))
    lines.append(
        f"inbox: {settings.inbox_dir}" + (f" (ignored folders: {', '.join(ignored)})" if ignored else "")
    )
    published = any(e.asset_key.to_user_string() == "serving_marts" for e in materialized)
    stale = sorted(
        e.asset_key.to_user_string()[4:]
        for e in materialized
        if e.asset_key.to_user_string().startswith("raw_")
        and getattr(e.materialization.metadata.get("files_rejected"), "value", 0)
    )
    if published:
        lines.append(
            f"serving file: {settings.serving_path}"
            + (f" (published; previous figures for {', '.join(stale)}: file(s) refused)" if stale else "")
        )
        lines.append(f"parquet marts: {settings.serving_dir / 'parquet'} (manifest.json beside it)")
        if any(e.asset_key.to_user_string() == "supply_risk_report" for e in materialized):
            lines.append(f"report: {report_path(settings)}")
    else:
        lines.append(
            f"NOT PUBLISHED: the serving file {settings.serving_path} still holds the previous version"
        )
    return lines, result.success and published


def main() -> int:
    from dagster_project.definitions import defs

    started = time.monotonic()
    job = defs.resolve_job_def("materialize_everything")
    result = job.execute_in_process(instance=_instance(), raise_on_error=False)
    lines, ok = summarise(result, time.monotonic() - started)
    print("\n".join(["", "== run summary ==", *lines]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
