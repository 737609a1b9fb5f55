"""A fix for a Dagster bug that `make run` and `make dev` would otherwise hit.

A step blocked by a pool limit (our `duckdb_warehouse`, limit 1) waits in the executor's loop.
Dagster 1.13's `InstanceConcurrencyContext.interval_to_next_pending_claim_check` returns
`min([0, ...])`, which is never above 0, so the loop never sleeps: a waiting run burns a whole
core (measured: 92 % CPU for as long as it waits) and hammers the instance's SQLite database.
Upstream's fix (dagster-io/dagster#20367) was closed unmerged. `apply()` makes the interval the
time to the next claim check, capped at `MAX_SLEEP_SECONDS` so that the loop still handles the
events of other steps promptly. It falls back to Dagster's own method if the private attributes
it reads ever change.
"""

from __future__ import annotations

import time

MAX_SLEEP_SECONDS = 0.5


def apply() -> None:
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    original = InstanceConcurrencyContext.interval_to_next_pending_claim_check
    if getattr(original, "ree_fixed", False):
        return

    def interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
        try:
            pending, timeouts = self._pending_claims, self._pending_timeouts
        except AttributeError:
            return original(self)
        if not pending or not timeouts:
            return 0.0
        wait = min(ready_at for ready_at in timeouts.values()) - time.time()
        return min(MAX_SLEEP_SECONDS, max(0.0, wait))

    interval_to_next_pending_claim_check.ree_fixed = True  # type: ignore[attr-defined]
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check
