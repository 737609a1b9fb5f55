"""Run `python -m dagster_project.run` (what `make run` runs) in a subprocess, on the persistent
Dagster instance the way the Makefile sets it up: `DAGSTER_HOME` beside the data dir, holding a
copy of deploy/dagster.yaml. Every run over one data dir shares that instance, as `make run` and
`make dev` share `.dagster_home` in a checkout. Used by the slow crash and overlap tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
from conftest import REPO, SAMPLES


def dagster_home(data: Path) -> Path:
    home = data.parent / "dagster_home"
    if not (home / "dagster.yaml").exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return home


def run_env(inbox: Path, data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "REE_FAULT_PAUSE")}
    env.update(
        REE_INBOX_DIR=str(inbox),
        REE_DATA_DIR=str(data),
        DAGSTER_HOME=str(dagster_home(data)),
        GX_ANALYTICS_ENABLED="false",
        DAGSTER_DISABLE_TELEMETRY="true",
        **extra,
    )
    return env


def start_run(inbox: Path, data: Path, *, new_session: bool = True, **extra: str) -> subprocess.Popen:
    # The log goes to a file, not a pipe: a run writes far more than a pipe buffer holds, and a
    # child blocked on a full pipe would never reach the pause point.
    log = open(data.parent / f"run-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 (kept by Popen)
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.run"],
        cwd=REPO,
        env=run_env(inbox, data, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,  # its own process group, as a shell job: SIGKILL reaches dbt
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


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, output_of(process)[-3000:]
        assert time.monotonic() < deadline, f"never reached {path.name}"
        time.sleep(0.1)


def instance_of(data: Path) -> dg.DagsterInstance:
    """The persistent instance the runs over `data` share (open it as `with ... as instance`)."""
    return dg.DagsterInstance.from_config(str(dagster_home(data)))


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


def build_state(root: Path, *sources: str) -> Path:
    """One run over `sources` at `root` (inbox, data, DAGSTER_HOME): a state tests copy."""
    run(inbox_with(root, *sources), root / "data")
    return root


def copy_state(state: Path, root: Path, data: Path | None = None) -> tuple[Path, Path]:
    """A copy of a `build_state` at `root` (the data dir may be elsewhere, say a small file
    system): the next run there goes on from that state. Returns (inbox, data)."""
    data = data or root / "data"
    shutil.copytree(state / "inbox", root / "inbox", dirs_exist_ok=True)
    shutil.copytree(state / "data", data, symlinks=True, dirs_exist_ok=True)
    shutil.copytree(state / "dagster_home", data.parent / "dagster_home", dirs_exist_ok=True)
    return root / "inbox", data
