"""A file lock around every warehouse writer, on top of the Dagster pool.

The `duckdb_warehouse` pool (limit 1) serialises writers inside one Dagster instance. Two
instances, or a `dbt` run from a shell, would still collide, and DuckDB would answer with a raw
lock error; this lock turns that into a wait and then a clear message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

# The Dagster pool (limit 1, deploy/dagster.yaml) of every warehouse writer: dbt build, publish.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseBusyError(RuntimeError):
    pass


@contextlib.contextmanager
def warehouse_lock(
    lock_path: Path, *, timeout_seconds: float = 600, poll_seconds: float = 0.5
) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise WarehouseBusyError(
                        f"the warehouse {lock_path.parent / 'warehouse.duckdb'} is being written by "
                        f"{holder} for more than {timeout_seconds:.0f} s; wait for that run to "
                        "finish, or stop it, then run again"
                    ) from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
