"""`make run`: materialize every asset in process, then print what happened.

In-process execution is chosen on purpose: the multiprocess executor pays a process start per
step (STACK.md measured 49 s against 9–13 s for this graph), and the warehouse steps run one at
a time anyway (one DuckDB writer).
"""

import os
import sys
import time

import dagster as dg

from dagster_project.ingest.landing import unknown_folders
from dagster_project.serving.report import report_path
from dagster_project.settings import get_settings
from dagster_project.sources import SOURCES


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set (the Makefile sets it), the run is recorded and shows in the UI.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


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
    lines.append(f"checks: {passed} passed, {len(failed)} failed ({len(errors)} blocking)")
    for evaluation in failed:
        lines.append(
            f"  FAILED {evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
            f"[{evaluation.severity.value}] {evaluation.description or ''}"[:300]
        )
    ignored = unknown_folders(settings.inbox_dir, set(SOURCES))
    lines.append(
        f"inbox: {settings.inbox_dir}" + (f" (ignored folders: {', '.join(ignored)})" if ignored else "")
    )
    published = any(e.asset_key.to_user_string() == "serving_marts" for e in materialized)
    if published:
        lines.append(f"serving file: {settings.serving_path}")
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
