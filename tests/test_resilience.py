"""Nothing lost, nothing half-published: BI readers during a run, SIGKILL at three points, and
overlapping runs. Each test runs the real `python -m dagster_project.run` in a subprocess.

Slow (several full runs each): marked `slow`, run by `make test-slow` (and by CI).
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import REPO, SAMPLES

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


def _env(inbox: Path, data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "REE_FAULT_PAUSE")}
    env.update(REE_INBOX_DIR=str(inbox), REE_DATA_DIR=str(data), **extra)
    return env


def start_run(inbox: Path, data: Path, **extra: str) -> subprocess.Popen:
    # The log goes to a file, not a pipe: a run writes far more than a pipe buffer holds, and a
    # child blocked on a full pipe would never reach the pause point.
    log = open(data.parent / f"run-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 (kept by Popen)
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.run"],
        cwd=REPO,
        env=_env(inbox, data, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so SIGKILL reaches dbt too
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def output_of(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read()  # type: ignore[attr-defined]


def run(inbox: Path, data: Path) -> str:
    process = start_run(inbox, data)
    process.wait(timeout=600)
    output = output_of(process)
    assert process.returncode == 0, output[-3000:]
    return output


def checksums(serving: Path) -> dict[str, str]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        sums = {}
        for table in tables:
            rows = con.execute(f"select * from marts.{table} order by all").fetchall()  # noqa: S608
            sums[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return sums
    finally:
        con.close()


def inbox_with(tmp: Path, *sources: str) -> Path:
    inbox = tmp / "inbox"
    for source in sources:
        shutil.copytree(SAMPLES / source, inbox / source, dirs_exist_ok=True)
    inbox.mkdir(exist_ok=True)
    return inbox


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The marts of one uninterrupted run over the comtrade, prices and fx samples."""
    tmp = tmp_path_factory.mktemp("reference")
    inbox = inbox_with(tmp, "comtrade", "prices", "fx")
    run(inbox, tmp / "data")
    return checksums(tmp / "data" / "serving" / "ree.duckdb")


@pytest.mark.parametrize("point", ["ingest", "dbt", "publish"])
def test_sigkill_never_corrupts_or_half_publishes(point: str, tmp_path: Path, reference: dict[str, str]):
    data = tmp_path / "data"
    serving = data / "serving" / "ree.duckdb"
    inbox = inbox_with(tmp_path, "prices", "fx")
    run(inbox, data)  # version 1: prices and FX only
    version_1 = checksums(serving)

    inbox_with(tmp_path, "comtrade")
    process = start_run(inbox, data, REE_FAULT_PAUSE=point)
    marker = data / f".paused-{point}"
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert process.poll() is None, output_of(process)[-3000:]
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    marker.unlink()

    # The serving file opens and still holds the previous complete version.
    assert checksums(serving) == version_1
    # No file under a name a reader globs is partial: every Parquet file in the lake reads.
    for parquet in (data / "lake").rglob("*.parquet"):
        pl.read_parquet(parquet)
    # The next run completes (stale lock and temporaries ignored or cleaned) with the figures of
    # an uninterrupted run.
    run(inbox, data)
    assert checksums(serving) == reference
    assert not list(serving.parent.glob(".marts-*"))
    assert not list((serving.parent / "builds").glob(".*")), "a crashed publish left its work folder"
    # The Parquet marts are from the same (current) build as the DuckDB file.
    manifest = json.loads((serving.parent / "manifest.json").read_text("utf-8"))
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("select build_id from audit.publish_info").fetchall() == [(manifest["build_id"],)]
    finally:
        con.close()


@pytest.mark.parametrize("mode", ["duckdb", "sqlalchemy"])
def test_bi_reader_never_blocks_the_run_and_sees_whole_versions(mode: str, tmp_path: Path):
    data = tmp_path / "data"
    serving = data / "serving" / "ree.duckdb"
    inbox = inbox_with(tmp_path, "prices", "fx")
    run(inbox, data)
    log = tmp_path / "reader.log"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), str(log), mode], cwd=REPO)
    try:
        time.sleep(1)
        inbox_with(tmp_path, "comtrade")
        run(inbox, data)  # the reader holds the file open in a loop for the whole run
        time.sleep(1)
    finally:
        reader.kill()
        reader.wait()
    lines = log.read_text().splitlines()
    assert not [line for line in lines if line.startswith("ERROR")], lines[:5]
    versions = {tuple(line.split("|")) for line in lines}
    # Exactly two complete versions were seen, old (no trade flows) then new, nothing between.
    assert len(versions) == 2, versions
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
