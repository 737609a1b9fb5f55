"""Nothing lost, nothing half-published: BI readers during a run, SIGKILL at three points, and
overlapping runs. Each test runs the real `python -m dagster_project.run` in a subprocess.

Slow (several full runs each): marked `slow`, run by `make test-slow` (and by CI).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from conftest import REPO
from runner import checksums, copy_state, inbox_with, instance_of, output_of, run, start_run, wait_for

from dagster_project.lib import runs

pytestmark = pytest.mark.slow

READER = r"""
import sys, time, duckdb
path, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "sqlalchemy":
    import sqlalchemy
    from sqlalchemy.pool import NullPool
    engine = sqlalchemy.create_engine(
        f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=NullPool
    )
with open(out, "w") as log:
    while True:
        try:
            q = ("select (select cast(published_at as varchar) from audit.publish_info), "
                 "count(*), coalesce(sum(value_usd), 0) from marts.fct_trade_flows")
            if mode == "sqlalchemy":
                with engine.connect() as con:
                    row = tuple(con.exec_driver_sql(q).fetchone())
            else:
                con = duckdb.connect(path, read_only=True)
                row = con.execute(q).fetchall()[0]
                con.close()
            log.write(f"{row[0]}|{row[1]}|{row[2]:.2f}\n")
        except Exception as error:
            log.write(f"ERROR {type(error).__name__}: {error}\n".replace("\n", " ") + "\n")
        log.flush()
        time.sleep(0.02)
"""


def test_sigkill_never_corrupts_or_half_publishes(tmp_path: Path, reference: dict[str, str], version_1: Path):
    """SIGKILL of the run's whole process group (what the OOM killer, a closed laptop or a power
    cut does) at each point in turn, on the persistent instance `make run` uses: mid-ingest;
    mid-dbt, together with a second run waiting for the warehouse pool that the first holds;
    mid-publish. Each next run finds the one before it dead and marks it failed; after each kill
    the serving file holds the previous version and every lake file reads; the run after the
    last kill finishes with the figures of an uninterrupted run. (One sequence of kills rather
    than one test per point: each recovery would be the same full run, and a crash after a
    crash is the harder case.)"""
    inbox, data = copy_state(version_1, tmp_path)  # version 1: prices and FX only
    serving = data / "serving" / "ree.duckdb"
    before = checksums(serving)

    inbox_with(tmp_path, "comtrade")
    for point in ("ingest", "dbt", "publish"):
        process = start_run(inbox, data, REE_FAULT_PAUSE=point)
        marker = data / f".paused-{point}"
        wait_for(marker, process)
        if point != "ingest":
            assert "is gone: marked failed" in output_of(process), (point, output_of(process)[-3000:])
        killed = [process]
        if point == "dbt":
            waiting = start_run(inbox, data)
            deadline = time.monotonic() + 120
            while "waiting" not in output_of(waiting):
                assert waiting.poll() is None and time.monotonic() < deadline, output_of(waiting)[-3000:]
                time.sleep(0.2)
            killed.insert(0, waiting)
        for victim in killed:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
        marker.unlink()

        # The serving file opens and still holds the previous complete version.
        assert checksums(serving) == before, point
        # No file under a name a reader globs is partial: every Parquet file in the lake reads.
        for parquet in (data / "lake").rglob("*.parquet"):
            pl.read_parquet(parquet)

    # The next run completes (stale lock and temporaries ignored or cleaned) with the figures of
    # an uninterrupted run.
    output = run(inbox, data)
    assert "is gone: marked failed" in output, output[-3000:]
    assert checksums(serving) == reference
    with instance_of(data) as instance:
        stuck = instance.get_runs(filters=dg.RunsFilter(statuses=runs.ACTIVE_STATUSES))
        assert not stuck, [r.run_id for r in stuck]
        assert not instance.event_log_storage.get_concurrency_run_ids()
    assert not list(serving.parent.glob(".marts-*"))
    assert not list((serving.parent / "builds").glob(".*")), "a crashed publish left its work folder"
    # The Parquet marts are from the same (current) build as the DuckDB file.
    manifest = json.loads((serving.parent / "manifest.json").read_text("utf-8"))
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("select build_id from audit.publish_info").fetchall() == [(manifest["build_id"],)]
    finally:
        con.close()


def test_bi_readers_never_block_the_run_and_see_whole_versions(tmp_path: Path, version_1: Path):
    """Two BI readers at once (plain DuckDB and SQLAlchemy/duckdb-engine, the Superset path) poll
    the serving file in a loop for the whole run."""
    inbox, data = copy_state(version_1, tmp_path)
    serving = data / "serving" / "ree.duckdb"
    logs = {mode: tmp_path / f"reader-{mode}.log" for mode in ("duckdb", "sqlalchemy")}
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(serving), str(log), mode], cwd=REPO)
        for mode, log in logs.items()
    ]
    try:
        time.sleep(1)
        inbox_with(tmp_path, "comtrade")
        run(inbox, data)
        time.sleep(1)
    finally:
        for reader in readers:
            reader.kill()
            reader.wait()
    for mode, log in logs.items():
        lines = log.read_text().splitlines()
        assert lines, f"the {mode} reader read nothing"
        assert not [line for line in lines if line.startswith("ERROR")], (mode, lines[:5])
        versions = {tuple(line.split("|")) for line in lines}
        # Exactly two complete versions were seen, old (no trade flows) then new, nothing between.
        assert len(versions) == 2, (mode, versions)
        (old,) = [v for v in versions if v[1] == "0"]
        (new,) = [v for v in versions if v[1] != "0"]
        assert lines.index("|".join(old)) < lines.index("|".join(new))
        assert [tuple(line.split("|")) for line in lines[lines.index("|".join(new)) :]] == [new] * (
            len(lines) - lines.index("|".join(new))
        )


def test_overlapping_runs_serialise_and_agree(tmp_path: Path, reference: dict[str, str]):
    data = tmp_path / "data"
    inbox = inbox_with(tmp_path, "comtrade", "prices", "fx")
    first, second = start_run(inbox, data), start_run(inbox, data)
    for process in (first, second):
        process.wait(timeout=900)
    outputs = [output_of(p) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [o[-2000:] for o in outputs]
    for output in outputs:
        assert "Could not set lock on file" not in output
    assert checksums(data / "serving" / "ree.duckdb") == reference
