"""Named pause points for the crash tests (tests/test_resilience.py).

With `REE_FAULT_PAUSE=<point>` set, the process writes `<REE_DATA_DIR>/.paused-<point>` when it
reaches that point and then sleeps, so a test can SIGKILL it at a known place (mid-ingest,
mid-dbt, mid-publish) and check that nothing was corrupted or half-published. Unset (always, in
normal use) it does nothing.
"""

import os
import time

from dagster_project.settings import get_settings


def pause_point(name: str) -> None:
    if os.environ.get("REE_FAULT_PAUSE") != name:
        return
    marker = get_settings().data_dir / f".paused-{name}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("REE_FAULT_PAUSE_SECONDS", "120")))
