"""Dead runs on the persistent instance (dagster_project/lib/runs.py), on a real instance made
from deploy/dagster.yaml: a run whose process is gone is marked failed and its pool slot freed;
a live run, or one that cannot be told, is never touched."""

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from conftest import REPO
from dagster._core.events import EngineEventData
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext

from dagster_project.lib import dagster_fixes, processes, runs
from dagster_project.lib.locks import WAREHOUSE_POOL


@pytest.fixture
def instance(tmp_path: Path):
    shutil.copy(REPO / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        yield instance


def dead_worker() -> runs.Worker:
    child = subprocess.Popen(["sleep", "30"])
    started = runs.process_start_time(child.pid)
    child.kill()
    child.wait()
    return runs.Worker(socket.gethostname(), child.pid, started, exact=True)


def add_run(instance: dg.DagsterInstance, worker: runs.Worker | None, *, claim: bool = True) -> str:
    run_id = str(uuid.uuid4())
    tags = runs.worker_tags(worker) if worker else {}
    instance.add_run(
        dg.DagsterRun(
            job_name="materialize_everything", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags
        )
    )
    if claim:
        status = instance.event_log_storage.claim_concurrency_slot(
            WAREHOUSE_POOL, run_id, "warehouse_dbt_build"
        )
        assert status.is_claimed or not claim
    return run_id


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


def test_process_start_time_tells_a_live_process_from_a_gone_one():
    me = runs.this_worker()
    assert runs.is_alive(me) is True
    assert runs.is_alive(dead_worker()) is False
    # The same pid with another start time is another process (pid reuse): the run's is gone.
    assert runs.is_alive(runs.Worker(me.host, me.pid, me.started_at - 100, exact=True)) is False
    # Another host cannot be told from here.
    assert runs.is_alive(runs.Worker("elsewhere", me.pid, me.started_at, exact=True)) is None


def test_a_dead_run_is_marked_failed_and_its_slot_freed(instance: dg.DagsterInstance):
    dead = add_run(instance, dead_worker())
    assert runs.pool_is_full(instance, WAREHOUSE_POOL)
    (reaped,) = runs.reap_dead_runs(instance)
    assert reaped.run_id == dead and reaped.freed_slots
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    assert not runs.pool_is_full(instance, WAREHOUSE_POOL)
    failure = instance.get_records_for_run(dead, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert "its process (pid" in failure[0].event_log_entry.dagster_event.message
    assert runs.reap_dead_runs(instance) == []  # once


def test_live_and_unknown_runs_keep_their_slots(instance: dg.DagsterInstance):
    live = add_run(instance, runs.this_worker())
    unknown = add_run(instance, None, claim=False)
    remote = add_run(instance, runs.Worker("elsewhere", 1, time.time(), exact=True), claim=False)
    assert runs.reap_dead_runs(instance) == []
    assert {status(instance, r) for r in (live, unknown, remote)} == {dg.DagsterRunStatus.STARTED}
    assert runs.pool_is_full(instance, WAREHOUSE_POOL)
    (holder,) = runs.pool_holders(instance, WAREHOUSE_POOL)
    assert (holder.run_id, holder.pid, holder.alive) == (live, os.getpid(), True)


def test_a_ui_launched_run_is_told_by_its_started_process_event(instance: dg.DagsterInstance):
    worker = dead_worker()
    run_id = add_run(instance, None)
    run = instance.get_run_by_id(run_id)
    instance.report_engine_event(
        f"Started process for run (pid: {worker.pid}).", run, EngineEventData.in_process(worker.pid)
    )
    assert runs.run_worker(instance, run).pid == worker.pid
    assert [r.run_id for r in runs.reap_dead_runs(instance)] == [run_id]
    # The same event naming a live process (this one) leaves the run alone.
    alive = add_run(instance, None, claim=False)
    instance.report_engine_event(
        f"Started process for run (pid: {os.getpid()}).",
        instance.get_run_by_id(alive),
        EngineEventData.in_process(os.getpid()),
    )
    assert runs.reap_dead_runs(instance) == []


def test_slots_left_by_a_finished_run_are_freed(instance: dg.DagsterInstance):
    run_id = add_run(instance, runs.this_worker())
    instance.report_run_failed(instance.get_run_by_id(run_id), message="ended, slot not released")
    assert runs.pool_is_full(instance, WAREHOUSE_POOL)
    runs.reap_dead_runs(instance)
    assert not runs.pool_is_full(instance, WAREHOUSE_POOL)


def test_wait_for_pool_says_who_holds_it_and_returns_when_freed(instance: dg.DagsterInstance):
    holder = add_run(instance, runs.this_worker())
    said: list[str] = []
    threading.Timer(1.5, instance.event_log_storage.free_concurrency_slots_for_run, [holder]).start()
    cpu = time.process_time()
    waited = runs.wait_for_pool(instance, WAREHOUSE_POOL, said.append, poll_seconds=0.2, message_seconds=0.5)
    assert 1.4 <= waited < 10
    assert len(said) >= 2 and all(holder in line for line in said), said
    assert time.process_time() - cpu < 1.0  # it sleeps; it does not spin


def test_a_dead_wait_holder_is_reaped_by_the_wait(instance: dg.DagsterInstance):
    dead = add_run(instance, dead_worker())
    said: list[str] = []
    assert runs.wait_for_pool(instance, WAREHOUSE_POOL, said.append) < 5
    assert dead in said[0] and "is gone" in said[0]


def test_the_instance_coordinator_reaps_before_queueing(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
):
    assert isinstance(instance.run_coordinator, runs.ReapingRunCoordinator)
    dead = add_run(instance, dead_worker())
    queued = []
    # Queueing itself (Dagster's) needs a code location; what matters is what happens before it.
    monkeypatch.setattr(
        QueuedRunCoordinator,
        "submit_run",
        lambda self, context: queued.append(
            (status(instance, dead), runs.pool_is_full(instance, WAREHOUSE_POOL))
        ),
    )
    new = instance.add_run(dg.DagsterRun(job_name="materialize_everything", run_id=str(uuid.uuid4())))
    instance.run_coordinator.submit_run(SubmitRunContext(new, workspace=None))
    assert queued == [(dg.DagsterRunStatus.FAILURE, False)]


class _Pending:
    """The two fields Dagster's concurrency context keeps for a step waiting for a slot."""

    def __init__(self, ready_in: float):
        self._pending_claims = {"warehouse_dbt_build"}
        self._pending_timeouts = {"warehouse_dbt_build": time.time() + ready_in}


def test_a_step_waiting_for_the_pool_sleeps_instead_of_spinning():
    dagster_fixes.apply()
    interval = InstanceConcurrencyContext.interval_to_next_pending_claim_check
    # Dagster's own method returns min([0, ...]) <= 0: the executor never sleeps (100 % CPU).
    assert interval(_Pending(10)) == dagster_fixes.MAX_SLEEP_SECONDS
    assert 0 < interval(_Pending(0.2)) <= 0.2
    assert interval(_Pending(-1)) == 0.0  # due: claim now


def test_descendants_are_found_and_killed():
    child = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    deadline = time.monotonic() + 5
    while len(processes.descendants()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.pid in processes.descendants()
    grandchildren = processes.descendants(child.pid)
    assert grandchildren
    processes.kill_descendants()
    child.wait(timeout=5)
    assert all(runs.process_start_time(pid) is None for pid in grandchildren)


def test_killed_descendants_are_reaped_not_left_as_zombies():
    """The supervisor's clean-up leaves nothing in its process group, not even a zombie for an
    init that never reaps (the CI failure of stop 19): every descendant is gone from /proc."""
    script = textwrap.dedent(
        """
        import subprocess, time
        from dagster_project.lib import processes
        assert processes.become_subreaper()
        subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & sh -c 'sleep 30 & wait' & wait"])
        deadline = time.monotonic() + 5
        while len(processes.descendants()) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        found = len(processes.descendants())
        print(found, processes.kill_descendants(), processes.descendants())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "True", "[]"], out.stdout
