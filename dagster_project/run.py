"""`make run`: materialize every asset in process, then print what happened.

In-process execution is chosen on purpose: the multiprocess executor pays a process start per
step (STACK.md measured 49 s against 9–13 s for this graph), and the warehouse steps run one at
a time anyway (one DuckDB writer).

Two processes, so that a run can always be stopped and never bricks the next one:
- the supervisor (`python -m dagster_project.run`) checks that the data dir is writable, clears
  runs whose process is gone (lib/runs.py), waits visibly for the warehouse pool, starts the
  worker (in the same process group, so `kill -9` of the group still ends everything) and owns
  the signals. The first Ctrl-C or SIGTERM is passed to the worker as SIGINT (its step stops,
  dbt is ended, nothing is published); a worker still alive `STOP_GRACE_SECONDS` later, or a
  second Ctrl-C, is killed with everything below it (dbt too: the supervisor is the child
  subreaper). A stopped run is marked canceled and its pool slots freed; the previous serving
  version stays.
- the worker (`--worker RUN_ID`) executes the job in process, tagged with its pid and start time
  so that other processes can tell whether it still lives.
"""

import argparse
import fcntl
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from dagster_project.lib import processes, runs, storage
from dagster_project.lib.locks import WAREHOUSE_POOL
from dagster_project.settings import Lake, get_settings


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set (the Makefile sets it), the run is recorded and shows in the UI.
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    # Two runs started at once on a fresh instance would both create its SQLite schema, and the
    # second fail (IntegrityError on alembic_version): the first to come creates it, under a lock.
    Path(home).mkdir(parents=True, exist_ok=True)
    with open(Path(home) / ".instance-init.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            instance = dg.DagsterInstance.get()
            instance.get_runs(limit=1)
            instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
            return instance
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def landed_before(lake_dir: Path, source: str) -> tuple[int, str | None]:
    """How many files of a source have landed (in any run), and when the latest one was loaded."""
    import polars as pl

    from dagster_project.ingest.landing import LANDED

    folder = Lake(lake_dir).load_log_dir(source)
    if not folder.is_dir():
        return 0, None
    log = pl.read_parquet(folder / "*.parquet", columns=["status", "loaded_at"]).filter(
        pl.col("status") == LANDED
    )
    latest = log["loaded_at"].max()
    return log.height, (f"{latest:%Y-%m-%d %H:%M} UTC" if latest is not None else None)


def refused_lines(materialized: list, lake_dir: Path) -> list[str]:
    """Loud lines for every file refused in this run, and what its source's figures are now."""
    from dagster_project.ingest.landing import REJECTED

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
    from dagster_project.ingest.landing import unknown_folders
    from dagster_project.serving.report import report_path
    from dagster_project.sources import SOURCES

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
            if value.get("files_ignored"):
                lines.append(
                    f"            ignored (companion files, not data): {', '.join(value['files_ignored'])}"
                )
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data:
            error = event.step_failure_data.error
            while error and error.cause and error.cls_name.startswith(("DagsterExecution", "DagsterUser")):
                error = error.cause
            message = (error.message if error else "").strip().splitlines()
            lines.append(f"  STEP FAILED {event.step_key}: {(message or [''])[0][:400]}")
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


# A SIGTERM must stop the run within 10 s (a service manager's usual patience): 8 s for the
# worker to stop on its own, then it is killed.
STOP_GRACE_SECONDS = 8.0
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def worker(run_id: str) -> int:
    from dagster_project.definitions import defs  # applies lib/dagster_fixes at load

    started = time.monotonic()
    job = defs.resolve_job_def("materialize_everything")
    result = job.execute_in_process(
        instance=_instance(), raise_on_error=False, run_id=run_id, tags=runs.worker_tags()
    )
    lines, ok = summarise(result, time.monotonic() - started)
    print("\n".join(["", "== run summary ==", *lines]), flush=True)
    return 0 if ok else 1


def say(message: str) -> None:
    print(f"make run: {message}", flush=True)


class Stop(BaseException):
    """Raised by the signal handler. A BaseException, as KeyboardInterrupt is: the signal can land
    inside a storage call of the wait (more often on a busy machine), and an `except Exception`
    there must not swallow or re-wrap it (that ended a stopped run with exit 1, not 143)."""

    def __init__(self, signum: int):
        self.signum = signum


def _raise_stop(signum: int, _frame: object) -> None:
    raise Stop(signum)


def supervise() -> int:
    problem = storage.check_writable(get_settings().data_dir)
    if problem:
        say(str(problem))
        return 1
    instance = _instance()
    for handled in EXIT_CODES:
        signal.signal(handled, _raise_stop)
    try:
        for reaped in runs.reap_dead_runs(instance):
            say(reaped.describe())
        waited = runs.wait_for_pool(instance, WAREHOUSE_POOL, say)
        if waited >= 1:
            say(f"the pool {WAREHOUSE_POOL} is free after {waited:.0f} s; starting")
    except Stop as stop:
        say(f"stopped by {signal.Signals(stop.signum).name} while waiting; nothing was changed")
        return EXIT_CODES[stop.signum]

    run_id = str(uuid.uuid4())  # what Dagster itself uses for a run id
    # The worker stays in our process group, so `kill -9` of the group ends everything; as the
    # child subreaper we also adopt (and so can end) whatever it leaves behind, such as dbt.
    processes.become_subreaper()
    child = subprocess.Popen([sys.executable, "-m", "dagster_project.run", "--worker", run_id])
    stopped_by: int | None = None
    deadline = float("inf")
    while True:
        try:
            code = child.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                say(f"the run did not stop within {STOP_GRACE_SECONDS:.0f} s: killing it")
                processes.kill_descendants()
        except Stop as stop:
            if stopped_by is None:
                stopped_by = stop.signum
                deadline = time.monotonic() + STOP_GRACE_SECONDS
                say(
                    f"{signal.Signals(stop.signum).name}: stopping run {run_id} (dbt is ended, "
                    "nothing is published); press Ctrl-C again to stop at once"
                )
                # A terminal's Ctrl-C reaches the worker too; a `kill` of this process does not.
                processes.send(child.pid, signal.SIGINT)
            else:
                say("stopping at once")
                processes.kill_descendants()
    for handled in EXIT_CODES:  # the clean-up below is short: a late signal must not cut it
        signal.signal(handled, signal.SIG_IGN)
    # Nothing of the run (a dbt process) outlives it, not even as a zombie.
    if not processes.kill_descendants():
        say(f"a process of run {run_id} did not end when killed: {processes.descendants()}")
    if stopped_by is None and code >= 0:
        return code
    if stopped_by is not None:
        reason = f"stopped by {signal.Signals(stopped_by).name}"
        _mark_ended(instance, run_id, reason, canceled=True)
        say(f"run {run_id} {reason}: marked canceled; the serving file keeps its previous version")
        return EXIT_CODES[stopped_by]
    reason = f"its process was killed by {signal.Signals(-code).name} (the OOM killer?)"
    _mark_ended(instance, run_id, reason, canceled=False)
    say(f"run {run_id}: {reason}; marked failed; the serving file keeps its previous version")
    return 1


def _mark_ended(instance: dg.DagsterInstance, run_id: str, reason: str, *, canceled: bool) -> None:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return
    message = f"Run {reason}; marked by make run."
    if canceled and run.status != dg.DagsterRunStatus.CANCELED:
        instance.report_run_canceled(run, message=message)
    elif not canceled and not run.is_finished:
        instance.report_run_failed(run, message=message)
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.run", description=__doc__)
    parser.add_argument("--worker", metavar="RUN_ID", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    return supervise()


if __name__ == "__main__":
    sys.exit(main())
