"""Runs on the persistent Dagster instance: which process runs each one, whether it is still alive,
and the cleaning-up of runs whose process is gone.

A run killed with SIGKILL (the OOM killer, a closed laptop, a power cut) stays `STARTED` in
`$DAGSTER_HOME` and keeps its `duckdb_warehouse` pool slot for ever: every later run would wait
for it. `reap_dead_runs` finds such runs, marks them failed with the reason, and frees their pool
slots. A run counts as dead only when its process is known and gone: its worker is recorded
(the `ree/worker` tag that `make run` sets, or the "Started process for run (pid: N)" event of a
run launched from the UI), it ran on this host, and no process with that pid and start time is
alive. A run whose process cannot be told is never touched, so a live run's slot is never freed.

`reap_dead_runs` is called by `make run` before it claims the pool, by `ReapingRunCoordinator`
(deploy/dagster.yaml) before a run from the UI, the CLI, a schedule or a sensor is queued, and by
the `dead_run_reaper` sensor under `make dev` while runs wait.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext

from dagster_project.lib import processes

WORKER_TAG = "ree/worker"
# Statuses in which a run claims to have a live process.
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# A process that started this long after the record of its start is another process (pid reuse).
START_TOLERANCE_SECONDS = 2.0


@dataclass(frozen=True)
class Worker:
    host: str
    pid: int
    # When the process started (epoch seconds), or at the latest (a run's start event).
    started_at: float
    exact: bool  # started_at is the process's own start time, not an upper bound


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime")


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when there is no such process."""
    fields = processes.stat_fields(pid)
    if fields is None:
        return None
    if fields[0] == "Z":  # a zombie has exited; only its exit status is left
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def this_worker() -> Worker:
    pid = os.getpid()
    started = process_start_time(pid) or time.time()
    return Worker(socket.gethostname(), pid, started, exact=True)


def worker_tags(worker: Worker | None = None) -> dict[str, str]:
    """The tag `make run` puts on its run, so that another process can tell whether it lives."""
    worker = worker or this_worker()
    return {WORKER_TAG: f"{worker.host}:{worker.pid}:{worker.started_at:.2f}"}


def run_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    """The process that runs `run`, when the instance records it."""
    tag = run.tags.get(WORKER_TAG)
    if tag:
        host, pid, started = tag.rsplit(":", 2)
        return Worker(host, int(pid), float(started), exact=True)
    # A run launched by the DefaultRunLauncher (UI, CLI, schedules, sensors) logs its worker's
    # pid as an engine event when the worker starts; the instance is local, so is the worker.
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None and "Started process for run" in (event.message or ""):
            value = getattr(pid, "value", pid)
            return Worker(socket.gethostname(), int(value), record.event_log_entry.timestamp, exact=False)
    return None


def is_alive(worker: Worker) -> bool | None:
    """True or False when it can be told, None when the worker ran on another host."""
    if worker.host != socket.gethostname():
        return None
    started = process_start_time(worker.pid)
    if started is None:
        return False
    if worker.exact:
        return abs(started - worker.started_at) <= START_TOLERANCE_SECONDS
    return started <= worker.started_at + START_TOLERANCE_SECONDS


@dataclass(frozen=True)
class Reaped:
    run_id: str
    status: str
    pid: int
    freed_slots: bool

    def describe(self) -> str:
        return (
            f"run {self.run_id} was {self.status} but its process (pid {self.pid}) is gone: "
            f"marked failed" + (", its warehouse pool slot freed" if self.freed_slots else "")
        )


def _runs_holding_slots(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    return set(storage.get_concurrency_run_ids())


def reap_dead_runs(instance: dg.DagsterInstance) -> list[Reaped]:
    """Mark failed every active run whose process is known to be gone; free the pool slots of
    every run that is dead or already finished."""
    reaped: list[Reaped] = []
    holding = _runs_holding_slots(instance)
    active = instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE_STATUSES))
    for run in active:
        worker = run_worker(instance, run)
        if worker is None or is_alive(worker) is not False:
            continue
        message = (
            f"Marked failed by {socket.gethostname()} pid {os.getpid()}: the run was "
            f"{run.status.value} but its process (pid {worker.pid}) is gone, killed or crashed "
            "without recording its end. Its warehouse pool slots are freed."
        )
        instance.report_run_failed(run, message=message)
        freed = run.run_id in holding
        if freed:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(Reaped(run.run_id, run.status.value, worker.pid, freed))
    # Slots left behind by runs that did finish (a crash between the end and the release).
    finished = holding - {r.run_id for r in active}
    for run_id in finished:
        record = instance.get_run_record_by_id(run_id)
        if record is None or record.dagster_run.is_finished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return reaped


@dataclass(frozen=True)
class Holder:
    run_id: str
    step_key: str
    pid: int | None
    alive: bool | None

    def describe(self) -> str:
        who = f"pid {self.pid}" if self.pid else "process unknown"
        return f"run {self.run_id} (step {self.step_key}, {who})"


def pool_holders(instance: dg.DagsterInstance, pool: str) -> list[Holder]:
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return []
    info = instance.event_log_storage.get_concurrency_info(pool)
    holders = []
    for slot in info.claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        worker = run_worker(instance, run) if run else None
        holders.append(
            Holder(
                slot.run_id,
                slot.step_key,
                worker.pid if worker else None,
                is_alive(worker) if worker else None,
            )
        )
    return holders


def pool_is_full(instance: dg.DagsterInstance, pool: str) -> bool:
    info = instance.event_log_storage.get_concurrency_info(pool)
    limit = info.limit if info.limit is not None else info.slot_count
    return limit is not None and limit > 0 and len(info.claimed_slots) >= limit


def wait_for_pool(
    instance: dg.DagsterInstance,
    pool: str,
    say: Callable[[str], None],
    *,
    poll_seconds: float = 1.0,
    message_seconds: float = 5.0,
) -> float:
    """Block (sleeping, never spinning) until `pool` has a free slot, reaping dead holders and
    saying every `message_seconds` what it waits for. Returns the seconds waited. A signal
    handler's exception (KeyboardInterrupt, SystemExit) ends the wait at once."""
    started = time.monotonic()
    last_message = float("-inf")
    while True:
        for reaped in reap_dead_runs(instance):
            say(reaped.describe())
        if not pool_is_full(instance, pool):
            return time.monotonic() - started
        now = time.monotonic()
        if now - last_message >= message_seconds:
            holders = "; ".join(h.describe() for h in pool_holders(instance, pool)) or "another run"
            say(
                f"waiting {now - started:.0f} s for the pool {pool} (one warehouse writer at a "
                f"time), held by {holders}; Ctrl-C or SIGTERM stops this run"
            )
            last_message = now
        time.sleep(poll_seconds)


class ReapingRunCoordinator(QueuedRunCoordinator):
    """The queued run coordinator that first clears runs whose process is gone, so a run from
    the UI, the CLI, a schedule or a sensor never queues behind a dead run's pool slot."""

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        try:
            for reaped in reap_dead_runs(self._instance):
                self._logger.warning(reaped.describe())
        except Exception:  # never let the clean-up stop a submission
            self._logger.exception("could not check for dead runs")
        return super().submit_run(context)


def build_dead_run_reaper() -> dg.SensorDefinition:
    """Under `make dev` (the daemon runs sensors): every 30 s, runs whose process is gone are
    marked failed and their pool slots freed, so a run queued or waiting behind them goes on."""

    @dg.sensor(
        name="dead_run_reaper",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed the runs whose process is gone and frees their pool slots "
        "(a run killed with SIGKILL never records its end).",
    )
    def dead_run_reaper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        reaped = reap_dead_runs(context.instance)
        for item in reaped:
            context.log.warning(item.describe())
        return dg.SkipReason("; ".join(item.describe() for item in reaped) or "no dead run")

    return dead_run_reaper
