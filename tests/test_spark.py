"""The same dbt project on Spark (README "Past one machine"): `make run-spark`'s path gives the
serving file `make run` gives, on the shipped samples and then after one new month.

Both engines run the whole job (`python -m dagster_project.run`) on a persistent Dagster
instance, as `make run` and `make run-spark` do. The Spark session is dbt-spark's
(`method: session`): it starts and stops with each dbt process. Every table of the serving
file's marts and audit schemas is compared (tools/compare.py): same columns and types, same
rows, keys and integers equal, floats within 1e-9 relative.

Needs the `spark` dependency group and Java 17 (`make setup-spark`); `make test-slow` installs
both.
"""

import importlib.util
import shutil

import pytest
from conftest import FIXTURES, SAMPLES
from runner import copy_state, run_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
        reason="Spark needs `make setup-spark` (the spark dependency group and Java 17)",
    ),
]

NEW_MONTH = FIXTURES / "incremental" / "china_exports_2026_01.json"
PUBLISHED = ("marts", "audit")


def run_job(inbox, data, **extra):
    import subprocess
    import sys

    from conftest import REPO

    done = subprocess.run(
        [sys.executable, "-m", "dagster_project.run"],
        cwd=REPO,
        env=run_env(inbox, data, **extra),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def differences(a, b):
    from tools.compare import compare_marts

    result = compare_marts(a, b, PUBLISHED)
    assert result["tables"] >= 20, result
    return result["differences"]


def test_spark_builds_the_marts_duckdb_builds_on_the_samples_and_after_a_new_month(samples_state, tmp_path):
    # the samples, landed and built on DuckDB by `make run`'s path; Spark then builds the same lake
    inbox, data = copy_state(samples_state, tmp_path)
    shutil.copytree(SAMPLES, inbox, dirs_exist_ok=True)
    duckdb_serving = samples_state / "data" / "serving" / "ree.duckdb"
    output = run_job(inbox, data, REE_ENGINE="spark")
    assert "Spark marts copied into" in output
    assert (data / "spark" / "spark-warehouse" / "marts.db" / "fct_trade_flows").is_dir()
    assert differences(duckdb_serving, data / "serving" / "ree.duckdb") == {}

    # one new month on both engines: Spark replaces only its partitions (insert_overwrite)
    (inbox / "comtrade" / NEW_MONTH.name).write_bytes(NEW_MONTH.read_bytes())
    duckdb_root = tmp_path / "duckdb"
    duckdb_inbox, duckdb_data = copy_state(samples_state, duckdb_root)
    shutil.copytree(inbox, duckdb_inbox, dirs_exist_ok=True)
    run_job(duckdb_inbox, duckdb_data)
    output = run_job(inbox, data, REE_ENGINE="spark")
    assert "fct_trade_flows: incremental, 1 period_start partition(s) to rebuild: 2026-01-01" in output
    assert "mart_mirror_flows: incremental, 1 year partition(s) to rebuild: 2026" in output
    assert differences(duckdb_data / "serving" / "ree.duckdb", data / "serving" / "ree.duckdb") == {}
    new_month = "select count(*) from marts.fct_trade_flows where period_start = date '2026-01-01'"
    import duckdb

    with duckdb.connect(str(data / "serving" / "ree.duckdb"), read_only=True) as con:
        assert con.execute(new_month).fetchone()[0] > 0
