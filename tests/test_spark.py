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
import json
import shutil
import subprocess
import sys

import duckdb
import pytest
from conftest import FIXTURES, REPO, SAMPLES
from runner import copy_state, run_env

from dagster_project.warehouse import spark

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
        reason="Spark needs `make setup-spark` (the spark dependency group and Java 17)",
    ),
]

NEW_MONTH = FIXTURES / "incremental" / "china_exports_2026_01.json"
PUBLISHED = ("marts", "audit")


def run_job(inbox, data, *, succeeds=True, **extra):
    done = subprocess.run(
        [sys.executable, "-m", "dagster_project.run"],
        cwd=REPO,
        env=run_env(inbox, data, **extra),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = done.stdout + done.stderr
    assert (done.returncode == 0) == succeeds, output[-4000:]
    return output


def differences(a, b, exclude=()):
    from tools.compare import compare_marts

    # publish_info says when and from which file each serving file was published
    result = compare_marts(a, b, PUBLISHED, exclude=("audit.publish_info", *exclude))
    assert result["tables"] >= 20, result
    return result["differences"]


def test_spark_publishes_the_marts_duckdb_publishes_on_the_samples_then_a_month_and_a_revision(
    samples_state, tmp_path
):
    # the samples, landed and built on DuckDB by `make run`'s path; Spark then builds the same lake,
    # in a data dir with a space in its path (Spark's options, warehouse and metastore take it)
    inbox, data = copy_state(samples_state, tmp_path / "a data dir")
    shutil.copytree(SAMPLES, inbox, dirs_exist_ok=True)
    duckdb_serving = samples_state / "data" / "serving" / "ree.duckdb"

    # a table folder no metastore entry owns, as a build killed while Spark wrote that table
    # leaves it (Spark writes a new table's files before it registers the table): the run fails
    # on that table with LOCATION_ALREADY_EXISTS, sets the folder aside (kept) and says so
    orphan = data / "spark" / "spark-warehouse" / "marts.db" / "dim_element"
    orphan.mkdir(parents=True)
    (orphan / "part-00000-left-by-a-killed-build.parquet").write_bytes(b"PAR1")
    output = run_job(inbox, data, succeeds=False, REE_ENGINE="spark")
    assert "LOCATION_ALREADY_EXISTS" in output, output[-4000:]
    (kept,) = (data / "spark" / "orphaned").glob("*/marts.db/dim_element")
    assert f"the folder is kept at {kept} and the next run builds the table" in output
    assert (kept / "part-00000-left-by-a-killed-build.parquet").read_bytes() == b"PAR1"
    assert not orphan.exists()
    # the options with the space arrived whole: Spark logs to the data dir's file, not the console
    assert (data / "spark" / "spark.log").stat().st_size > 0
    assert (data / "spark" / "metastore_db").is_dir()

    # the next run builds every table, that one too
    output = run_job(inbox, data, REE_ENGINE="spark")
    assert "Spark marts copied into" in output
    assert spark.table_files(orphan), "dim_element has its Parquet files"
    assert (data / "spark" / "spark-warehouse" / "marts.db" / "fct_trade_flows").is_dir()
    assert differences(duckdb_serving, data / "serving" / "ree.duckdb") == {}

    # one new month, and a revised file for an old period in which a partner is gone, on both
    # engines: Spark replaces only the two changed partitions (insert_overwrite after dropping
    # them: dynamic overwrite alone would keep the partner's old rows)
    (inbox / "comtrade" / NEW_MONTH.name).write_bytes(NEW_MONTH.read_bytes())
    payload = json.loads((SAMPLES / "comtrade" / "china_exports_monthly_2023_2025.json").read_text())
    revised = [r for r in payload["data"] if r["period"] == "202511" and r["partnerCode"] != 392]
    for record in revised:
        record["primaryValue"] = record["fobvalue"] = round(record["primaryValue"] * 0.5)
    payload["data"], payload["count"] = revised, len(revised)
    (inbox / "comtrade" / "china_exports_2025_11_revised.json").write_text(json.dumps(payload))
    duckdb_inbox, duckdb_data = copy_state(samples_state, tmp_path / "duckdb")
    shutil.copytree(inbox, duckdb_inbox, dirs_exist_ok=True)
    run_job(duckdb_inbox, duckdb_data)
    output = run_job(inbox, data, REE_ENGINE="spark")
    assert (
        "fct_trade_flows: incremental, 2 period_start partition(s) to rebuild: 2025-11-01, 2026-01-01"
        in output
    )
    assert "mart_mirror_flows: incremental, 2 year partition(s) to rebuild: 2025, 2026" in output
    # (the two data dirs landed the new files at different times: their load log records differ
    # in load id and time; the first comparison, on one lake, covers audit.load_log)
    assert (
        differences(
            duckdb_data / "serving" / "ree.duckdb",
            data / "serving" / "ree.duckdb",
            exclude=("audit.load_log",),
        )
        == {}
    )
    with duckdb.connect(str(data / "serving" / "ree.duckdb"), read_only=True) as con:
        japan = con.execute(
            "select count(*) from marts.fct_trade_flows where source = 'comtrade' and reporter_iso3 = 'CHN' "
            "and partner_iso3 = 'JPN' and flow = 'export' and period_start = date '2025-11-01'"
        ).fetchone()[0]
        new_month = con.execute(
            "select count(*) from marts.fct_trade_flows where period_start = date '2026-01-01'"
        ).fetchone()[0]
    assert japan == 0 and new_month > 0


def test_gx_validates_with_pyspark_installed_in_a_worker_started_with_python_c():
    """pyspark.sql.connect exits the process (sys.exit(0), silently) when GX imports it from a
    main module without `__file__`, as a run worker under `make dev` has: every load of that run
    failed with SystemExit. Validation imports GX with pyspark hidden; pyspark still imports."""
    code = (
        "import polars as pl\n"
        "from dagster_project.ingest import validation\n"
        "suite = [('ExpectColumnValuesToNotBeNull', {'column': 'a'})]\n"
        "result = validation.run_suite('t', pl.DataFrame({'a': [1, None]}), suite)\n"
        "import pyspark.sql\n"
        "print('validated', result.success, result.failed[0]['unexpected_count'], pyspark.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("validated False 1 "), (done.stdout, done.stderr[-3000:])
