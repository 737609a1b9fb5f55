"""What the Spark engine needs around dbt, without Spark (dagster_project/warehouse/spark.py):
the lake's tables as Spark DDL, the tables Spark's warehouse holds, and the copy of Spark's
marts (Parquet folders, partition column as a folder name) into the DuckDB file publish reads.
The Spark build itself: tests/test_spark.py (slow)."""

import json
from datetime import UTC, date, datetime

import duckdb
import polars as pl
import pytest

from dagster_project.settings import Lake, Settings
from dagster_project.warehouse import spark


def test_lake_types_map_to_spark_types_and_an_unknown_one_is_named():
    assert spark.spark_type(pl.Int64(), where="x") == "bigint"
    assert spark.spark_type(pl.Datetime("us"), where="x") == "timestamp_ntz"
    assert spark.spark_type(pl.Datetime("us", "UTC"), where="x") == "timestamp"
    assert spark.spark_type(pl.Date(), where="x") == "date"
    with pytest.raises(ValueError, match=r"raw/comtrade/_schema.parquet column tags: no Spark type"):
        spark.spark_type(pl.List(pl.String), where="raw/comtrade/_schema.parquet column tags")


def test_lake_tables_come_from_each_datasets_schema_file(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.raw_dir("comtrade").mkdir(parents=True)
    schema = {"period_start": pl.Date, "cmd code": pl.String, "net_weight_kg": pl.Float64,
              "_loaded_at": pl.Datetime("us")}  # fmt: skip
    pl.DataFrame(schema=schema).write_parquet(lake.raw_schema_file("comtrade"))
    tables = spark.lake_tables(lake, ["comtrade", "gacc"])  # gacc never landed: left out
    assert tables == [
        {
            "schema": "lake_comtrade",
            "name": "records",
            "location": str(lake.raw_dir("comtrade")),
            "columns": "`period_start` date, `cmd code` string, `net_weight_kg` double, "
            "`_loaded_at` timestamp_ntz",
        }
    ]
    assert json.loads(spark.lake_tables_env(lake, ["comtrade"])["REE_SPARK_LAKE_TABLES"]) == tables


def test_the_spark_build_environment_names_the_target_and_paths(tmp_path):
    settings = Settings(inbox_dir=tmp_path, data_dir=tmp_path / "data", engine="spark")
    env = spark.build_env(settings)
    assert env["REE_DBT_TARGET"] == "spark"
    assert env["REE_SPARK_WAREHOUSE"] == str(tmp_path / "data" / "spark" / "spark-warehouse")
    assert env["REE_WAREHOUSE_PATH"] == str(tmp_path / "data" / "spark" / "warehouse.duckdb")
    assert json.loads(env["REE_SPARK_LAKE_TABLES"]) == []
    assert Settings(inbox_dir=tmp_path, data_dir=tmp_path).dbt_env()["REE_DBT_TARGET"] == "local"


def test_existing_tables_are_the_table_folders_of_the_warehouse(tmp_path):
    assert spark.existing_tables(tmp_path / "none") == set()
    (tmp_path / "marts.db" / "fct_trade_flows").mkdir(parents=True)
    (tmp_path / "audit.db" / "load_log").mkdir(parents=True)
    (tmp_path / "audit.db" / "stray.txt").write_text("")
    assert spark.existing_tables(tmp_path) == {("marts", "fct_trade_flows"), ("audit", "load_log")}


def _model(name, schema, columns, materialized="table", description=""):
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": schema,
        "description": description,
        "config": {"materialized": materialized},
        "columns": {c: {"data_type": t, "description": f"the {c}"} for c, t in columns.items()},
    }


def _manifest(*nodes):
    return {"nodes": {f"model.p.{n['name']}": n for n in nodes}}


def test_spark_marts_are_copied_in_contract_order_with_partitions_and_comments(tmp_path):
    warehouse = tmp_path / "spark-warehouse"
    fct = spark.table_folder(warehouse, "marts", "fct")
    for year, value in ((2025, 1.5), (2026, 2.5)):  # Spark: partition column as a folder, last
        (fct / f"year={year}").mkdir(parents=True)
        pl.DataFrame({"value_usd": [value], "period_start": [date(year, 1, 1)]}).write_parquet(
            fct / f"year={year}" / "part-00000.parquet"
        )
    empty = spark.table_folder(warehouse, "audit", "load_log")
    empty.mkdir(parents=True)
    manifest = _manifest(
        _model("fct", "marts", {"year": "integer", "period_start": "date", "value_usd": "double"},
               materialized="incremental", description="Trade flows."),
        _model("load_log", "audit", {"loaded_at": "timestamp", "status": "varchar"}),
        _model("stg", "staging", {"x": "integer"}),  # not published
        _model("view", "marts", {"x": "integer"}, materialized="view"),
    )  # fmt: skip
    target = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(target)) as con:  # the ledger is kept, an old mart replaced
        con.execute("create schema build_state; create table build_state.ledger as select 1 as x")
        con.execute("create schema marts; create table marts.old as select 1 as x")
    assert spark.copy_to_duckdb(warehouse, manifest, target) == {"marts.fct": 2, "audit.load_log": 0}
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select * from marts.fct order by year").fetchall() == [
            (2025, date(2025, 1, 1), 1.5),
            (2026, date(2026, 1, 1), 2.5),
        ]
        assert con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'fct' order by column_index"
        ).fetchall() == [("year", "INTEGER"), ("period_start", "DATE"), ("value_usd", "DOUBLE")]
        assert con.execute("select comment from duckdb_tables() where table_name = 'fct'").fetchone() == (
            "Trade flows.",
        )
        tables = {
            t
            for (t,) in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        }
        assert tables == {"build_state.ledger", "marts.fct", "audit.load_log"}
        assert con.execute("select count(*) from audit.load_log").fetchone() == (0,)


def test_a_missing_spark_table_or_an_untyped_column_is_refused_by_name(tmp_path):
    warehouse = tmp_path / "spark-warehouse"
    target = tmp_path / "warehouse.duckdb"
    manifest = _manifest(_model("fct", "marts", {"year": "integer"}))
    with pytest.raises(FileNotFoundError, match=r"marts.db/fct: Spark has no table marts.fct"):
        spark.copy_to_duckdb(warehouse, manifest, target)
    untyped = _manifest(_model("fct", "marts", {"year": "integer"}))
    untyped["nodes"]["model.p.fct"]["columns"]["year"]["data_type"] = None
    with pytest.raises(
        ValueError, match="model fct: publish from Spark needs every column typed .*untyped: year"
    ):
        spark.copy_to_duckdb(warehouse, untyped, target)
    with pytest.raises(ValueError, match="no marts or audit tables"):
        spark.copy_to_duckdb(warehouse, _manifest(), target)


def test_leftovers_of_an_interrupted_spark_write_are_not_copied(tmp_path):
    # Spark skips `_…` and `.…` paths when it reads a table; a killed insert leaves part files in
    # `_temporary/` and `.spark-staging-<job>/` that hold rows the table does not have
    warehouse = tmp_path / "spark-warehouse"
    fct = spark.table_folder(warehouse, "marts", "fct")
    rows = pl.DataFrame({"value_usd": [1.5]})
    for part in ("year=2025", "year=2025/_temporary/0/task", ".spark-staging-7f/year=2025", "_temporary/0"):
        (fct / part).mkdir(parents=True)
        rows.write_parquet(fct / part / "part-00000.parquet")
    manifest = _manifest(_model("fct", "marts", {"year": "integer", "value_usd": "double"}))
    assert spark.table_files(fct) == [fct / "year=2025" / "part-00000.parquet"]
    assert spark.copy_to_duckdb(warehouse, manifest, tmp_path / "w.duckdb") == {"marts.fct": 1}


def _run_results(path, *messages):
    path.write_text(json.dumps({"results": [{"unique_id": f"model.p.m{i}", "status": "error", "message": m}
                                            for i, m in enumerate(messages)]}))  # fmt: skip
    return path


def test_a_table_folder_unknown_to_the_metastore_is_set_aside_after_the_failed_build(tmp_path):
    # what Spark 4 says when a killed build left a table's files but not its metastore entry
    warehouse = tmp_path / "spark" / "spark-warehouse"
    orphan = spark.table_folder(warehouse, "marts", "mart_prices")
    orphan.mkdir(parents=True)
    (orphan / "part-00000.parquet").write_bytes(b"PAR1")
    kept = spark.table_folder(warehouse, "marts", "fct_trade_flows")
    kept.mkdir(parents=True)
    outside = tmp_path / "elsewhere" / "marts.db" / "x"
    outside.mkdir(parents=True)
    message = (
        "Runtime Error in model mart_prices (models/marts/mart_prices.sql)\n"
        "  [LOCATION_ALREADY_EXISTS] Cannot name the managed table as `spark_catalog`.`marts`.`{name}`, "
        "as its associated location '{location}' already exists. Please pick a different table name, "
        "or remove the existing location first. SQLSTATE: 42710"
    )
    results = _run_results(
        tmp_path / "run_results.json",
        message.format(name="mart_prices", location=f"file:{orphan}"),
        message.format(name="x", location=f"file:{outside}"),  # not Spark's warehouse: left alone
        "Database Error in model fct_trade_flows: something else",
        None,
    )
    moved = spark.set_aside_orphaned_tables(warehouse, results, now=datetime(2026, 12, 4, 22, 5, tzinfo=UTC))
    place = tmp_path / "spark" / "orphaned" / "20261204T220500Z" / "marts.db" / "mart_prices"
    assert moved == [place]
    assert (place / "part-00000.parquet").read_bytes() == b"PAR1"  # kept, not deleted
    assert not orphan.exists() and kept.is_dir() and outside.is_dir()
    assert spark.existing_tables(warehouse) == {("marts", "fct_trade_flows")}
    assert spark.set_aside_orphaned_tables(warehouse, tmp_path / "no-run-results.json") == []
