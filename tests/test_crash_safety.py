"""A run can always be stopped and never bricks the next one, on the persistent instance that
`make run` and `make dev` share: a run waiting for the warehouse pool says who holds it, sleeps,
and stops on SIGTERM; Ctrl-C cancels a run (dbt ended, nothing published); a run killed under
`make dev` does not block the next launch from the UI's GraphQL API.

Slow (real runs, a real `dagster dev`): marked `slow`, run by `make test-slow` (and by CI).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import REPO
from dagster_graphql import DagsterGraphQLClient
from runner import (
    checksums,
    copy_state,
    inbox_with,
    instance_of,
    output_of,
    run_env,
    start_run,
    wait_for,
)

from dagster_project.lib import processes, runs

pytestmark = pytest.mark.slow
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


def cpu_seconds(pid: int) -> float:
    fields = processes.stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_waiting_run_is_visible_cheap_and_stops_and_ctrl_c_cancels(tmp_path: Path, version_1: Path):
    inbox, data = copy_state(version_1, tmp_path)
    serving = data / "serving" / "ree.duckdb"
    before = checksums(serving)
    inbox_with(tmp_path, "comtrade")

    holder = start_run(inbox, data, REE_FAULT_PAUSE="dbt")
    wait_for(data / ".paused-dbt", holder)
    with instance_of(data) as instance:
        (holding,) = runs.pool_holders(instance, "duckdb_warehouse")

    waiting = start_run(inbox, data)
    deadline = time.monotonic() + 120
    while output_of(waiting).count("waiting") < 2:
        assert waiting.poll() is None and time.monotonic() < deadline, output_of(waiting)[-3000:]
        time.sleep(0.2)
    lines = [line for line in output_of(waiting).splitlines() if "waiting" in line]
    assert all(holding.run_id in line and "duckdb_warehouse" in line for line in lines), lines
    # It sleeps: a few seconds of waiting cost almost no CPU (Dagster's own wait spun a core).
    cpu = cpu_seconds(waiting.pid)
    time.sleep(4)
    assert cpu_seconds(waiting.pid) - cpu < 0.5
    started = time.monotonic()
    waiting.send_signal(signal.SIGTERM)
    assert waiting.wait(timeout=10) == 143, output_of(waiting)[-3000:]
    assert time.monotonic() - started < 10
    assert "stopped by SIGTERM while waiting" in output_of(waiting)

    # Ctrl-C: a terminal sends SIGINT to the whole foreground process group.
    started = time.monotonic()
    os.killpg(holder.pid, signal.SIGINT)
    assert holder.wait(timeout=15) == 130, output_of(holder)[-3000:]
    assert time.monotonic() - started < 10
    assert "marked canceled" in output_of(holder)
    time.sleep(0.5)
    assert not group_alive(holder.pid), "a process of the stopped run (dbt?) outlived it"
    assert checksums(serving) == before  # nothing was published
    with instance_of(data) as instance:
        assert instance.get_run_by_id(holding.run_id).status == dg.DagsterRunStatus.CANCELED
        assert not instance.event_log_storage.get_concurrency_run_ids()

    # A second Ctrl-C stops at once.
    (data / ".paused-dbt").unlink()
    again = start_run(inbox, data, REE_FAULT_PAUSE="dbt")
    wait_for(data / ".paused-dbt", again)
    os.killpg(again.pid, signal.SIGINT)
    time.sleep(0.2)
    started = time.monotonic()
    os.killpg(again.pid, signal.SIGINT)
    assert again.wait(timeout=10) == 130
    assert time.monotonic() - started < 3
    assert checksums(serving) == before
    # (That the next run then publishes is test_resilience's SIGKILL tests' last step.)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_dev(inbox: Path, data: Path, port: int, **extra: str) -> subprocess.Popen:
    """`make dev` as a user starts it: the webserver and the daemon on the persistent instance."""
    log = open(data.parent / f"dev-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "dagster_project.definitions"]
        + ["-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=run_env(inbox, data, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def client_of(dev: subprocess.Popen, port: int) -> DagsterGraphQLClient:
    deadline = time.monotonic() + 180
    while True:
        assert dev.poll() is None, output_of(dev)[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=30)
        except OSError:
            assert time.monotonic() < deadline, output_of(dev)[-3000:]
            time.sleep(1)


def launch(client: DagsterGraphQLClient, dev: subprocess.Popen) -> str:
    deadline = time.monotonic() + 180
    while True:  # the code location may still be loading
        try:
            return client.submit_job_execution("materialize_everything", run_config=IN_PROCESS)
        except Exception:
            assert dev.poll() is None and time.monotonic() < deadline, output_of(dev)[-3000:]
            time.sleep(2)


def kill_everything(dev: subprocess.Popen) -> None:
    """A power cut: the webserver, the daemon, the code server and the run workers, at once."""
    for pid in processes.descendants(dev.pid):
        processes.send(pid, signal.SIGKILL)
    os.killpg(dev.pid, signal.SIGKILL)
    dev.wait()


def test_a_run_killed_under_make_dev_does_not_block_the_next_launch(tmp_path: Path):
    data = tmp_path / "data"
    inbox = inbox_with(tmp_path, "fx", "prices")
    port = free_port()
    dev = start_dev(inbox, data, port, REE_FAULT_PAUSE="dbt")
    try:
        first = launch(client_of(dev, port), dev)
        wait_for(data / ".paused-dbt", dev, seconds=400)
    finally:
        kill_everything(dev)
    (data / ".paused-dbt").unlink()
    with instance_of(data) as instance:
        assert instance.event_log_storage.get_concurrency_run_ids(), "the killed run held no slot"

    dev = start_dev(inbox, data, port)
    try:
        client = client_of(dev, port)
        second = launch(client, dev)
        deadline = time.monotonic() + 600
        while (status := client.get_run_status(second)) not in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        ):
            assert time.monotonic() < deadline, f"run {second} still {status}: {output_of(dev)[-3000:]}"
            time.sleep(2)
        assert status == dg.DagsterRunStatus.SUCCESS, output_of(dev)[-5000:]
    finally:
        kill_everything(dev)
    with instance_of(data) as instance:
        dead = instance.get_run_by_id(first)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(first, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "is gone" in failure[-1].event_log_entry.dagster_event.message
    assert checksums(data / "serving" / "ree.duckdb")["fct_prices"]
