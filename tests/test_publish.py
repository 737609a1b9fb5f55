"""serving/publish.py without Dagster: one build a publish, one atomic switch of `current`, old
builds kept for open readers, a failed publish leaves the previous build current, the old file name
is removed so no tool reads a file that is no longer refreshed."""

import json
import os
from pathlib import Path

import duckdb
import pytest

from dagster_project.serving import publish as publish_module
from dagster_project.serving.publish import BUILDS_KEPT, publish


def make_warehouse(path: Path, years: list[int]) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create schema audit")
        con.execute(
            "create table marts.fct_trade_flows as select y::integer as year, "
            "(y * 10)::decimal(18, 2) as value_usd from unnest(?::integer[]) as t(y)",
            [years],
        )
        con.execute("comment on table marts.fct_trade_flows is 'trade flows'")
        con.execute("comment on column marts.fct_trade_flows.value_usd is 'USD'")
        con.execute("create table marts.dim_element as select 'Dy' as element")
        con.execute(
            "create table audit.load_log as select 'gacc-01' as load_id, 'gacc' as source, "
            "'a.csv' as source_file, 'landed' as status, 3::bigint as rows_read, "
            "timestamp '2026-01-01 00:00:00' as loaded_at"
        )
    finally:
        con.close()
    return path


def read(serving: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_publish_switches_duckdb_and_parquet_together(tmp_path: Path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", [2024, 2025])
    serving = tmp_path / "serving" / "ree.duckdb"
    (serving.parent).mkdir()
    (serving.parent / "marts.duckdb").write_bytes(b"old layout")
    first = publish(warehouse, serving)
    assert serving.is_symlink() and os.readlink(serving) == "current/ree.duckdb"
    assert os.readlink(serving.parent / "current") == f"builds/{first.build_id}"
    assert not (serving.parent / "marts.duckdb").exists(), "the old serving file name is removed"
    assert read(serving, "select sum(value_usd) from marts.fct_trade_flows") == [(40490,)]
    assert read(serving, "select build_id, storage_version from audit.publish_info") == [
        (first.build_id, "v1.0.0")
    ]
    assert read(serving, "select comment from duckdb_tables() where table_name = 'fct_trade_flows'") == [
        ("trade flows",)
    ]
    parquet = serving.parent / "parquet" / "fct_trade_flows"
    assert sorted(p.name for p in parquet.iterdir()) == ["year=2024", "year=2025"]
    manifest = json.loads((serving.parent / "manifest.json").read_text("utf-8"))
    assert manifest["build_id"] == first.build_id
    entry = {t["table"]: t for t in manifest["tables"]}["fct_trade_flows"]
    assert entry["rows"] == 2 and entry["partitioned_by"] == ["year"]
    assert entry["columns"] == [
        {"name": "year", "type": "INTEGER"},
        {"name": "value_usd", "type": "DECIMAL(18,2)"},
    ]
    assert manifest["source_loads"][0]["load_id"] == "gacc-01"

    # A reader that opened the first build keeps it while the second is published.
    held = duckdb.connect(str(serving), read_only=True)
    try:
        make_warehouse(tmp_path / "warehouse2.duckdb", [2023, 2024, 2025])
        second = publish(tmp_path / "warehouse2.duckdb", serving)
        assert held.execute("select count(*) from marts.fct_trade_flows").fetchall() == [(2,)]
    finally:
        held.close()
    assert read(serving, "select count(*) from marts.fct_trade_flows") == [(3,)]
    assert read(serving, "select build_id from audit.publish_info") == [(second.build_id,)]
    assert sorted(p.name for p in (serving.parent / "parquet" / "fct_trade_flows").iterdir()) == [
        "year=2023",
        "year=2024",
        "year=2025",
    ]
    assert (serving.parent / "builds" / first.build_id).is_dir(), "the previous build stays for open readers"


def test_a_failed_publish_leaves_the_previous_build_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", [2024])
    serving = tmp_path / "serving" / "ree.duckdb"
    first = publish(warehouse, serving)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_module, "_verify", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(make_warehouse(tmp_path / "w2.duckdb", [2020, 2021]), serving)
    assert os.readlink(serving.parent / "current") == f"builds/{first.build_id}"
    assert read(serving, "select count(*) from marts.fct_trade_flows") == [(1,)]
    assert [p.name for p in (serving.parent / "builds").iterdir()] == [first.build_id], "no partial left"


def test_old_builds_are_pruned(tmp_path: Path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", [2024])
    serving = tmp_path / "serving" / "ree.duckdb"
    ids = [publish(warehouse, serving).build_id for _ in range(BUILDS_KEPT + 2)]
    kept = sorted(p.name for p in (serving.parent / "builds").iterdir())
    assert kept == sorted(ids)[-BUILDS_KEPT:] and ids[-1] in kept


def test_empty_fact_is_published_unpartitioned(tmp_path: Path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", [])
    serving = tmp_path / "serving" / "ree.duckdb"
    publish(warehouse, serving)
    folder = serving.parent / "parquet" / "fct_trade_flows"
    assert [p.name for p in folder.iterdir()] == ["data_0.parquet"]
    assert read(serving, "select count(*) from marts.fct_trade_flows") == [(0,)]
