"""Publish: copy the marts (and the audit tables) into a new build of the serving area, check it,
and switch BI to it in one atomic step.

Layout of `$REE_DATA_DIR/serving/` (what BI tools open, read-only):

    builds/<build_id>/ree.duckdb       schemas `marts` and `audit`, DuckDB storage version v1.0.0
    builds/<build_id>/parquet/<table>/ every mart and dimension as Parquet (facts partitioned by year)
    builds/<build_id>/parquet/audit/<table>/
    builds/<build_id>/manifest.json    tables, row counts, column types, build time, source loads
    current      -> builds/<build_id>  the one switch: replaced with os.replace of a symlink
    ree.duckdb   -> current/ree.duckdb
    parquet      -> current/parquet
    manifest.json -> current/manifest.json

A reader that opens `ree.duckdb`, `parquet/` or `manifest.json` resolves `current` once, at open,
and so sees one complete build: never a DuckDB file from one build beside Parquet from another,
never a half-built mart. A reader that holds an old build open keeps it (the last few builds are
kept on disk). A failure at any point before the switch leaves the previous build current.

The marts sit in a real schema `marts`, so `marts.<table>` resolves when the file is opened under
any name but `marts.duckdb` (a catalog `marts` with a schema `marts` is ambiguous in DuckDB), and
`<alias>.marts.<table>` when it is attached under any alias. The file is written in storage
version v1.0.0: measured (docs/bi.md) as the oldest that keeps every mart's types and comments and
that every DuckDB client from 1.0 to 2.x reads with identical rows.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.lib.faults import pause_point
from dagster_project.lib.sql import identifier, literal
from dagster_project.lib.storage import write_atomic

SERVING_FILE = "ree.duckdb"
STORAGE_VERSION = "v1.0.0"
PUBLISHED_SCHEMAS = ("marts", "audit")
# Facts with a `year` column are written one Parquet folder per year (hive layout, the column kept
# in the files too, so its type is the mart's whatever the reader's partition inference does).
PARTITIONED_BY_YEAR = ("fct_trade_flows", "fct_element_flows", "fct_prices")
BUILDS_KEPT = 3
# The name of the serving file before the schema `marts` existed; removed so that no tool keeps
# reading a file that is no longer refreshed.
LEGACY_SERVING_FILE = "marts.duckdb"


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    published_at: datetime.datetime
    build_id: str

    @property
    def parquet_dir(self) -> Path:
        return self.path.parent / "parquet"

    @property
    def manifest_path(self) -> Path:
        return self.path.parent / "manifest.json"


def parquet_folder(root: Path, schema: str, table: str) -> Path:
    return root / table if schema == "marts" else root / schema / table


def remove_stale_partials(serving_dir: Path) -> None:
    """Work folders of a publish that crashed (and files of the layout before builds existed)."""
    for partial in serving_dir.glob(".marts-*.duckdb.partial*"):
        partial.unlink(missing_ok=True)
    for partial in serving_dir.glob(".current-*"):
        partial.unlink(missing_ok=True)
    builds = serving_dir / "builds"
    if builds.is_dir():
        for partial in builds.glob(".*.partial"):
            shutil.rmtree(partial, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(Path(folder) / name, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _point(link: Path, target: str) -> None:
    """Make `link` a symlink to `target`, atomically (a new link renamed over the old one)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.exists() and not link.is_symlink() and link.is_dir():
        raise RuntimeError(
            f"{link} is a folder, not the link publish manages; move it away and publish again"
        )
    fresh = link.parent / f".current-{uuid.uuid4().hex}"
    os.symlink(target, fresh)
    os.replace(fresh, link)


def _copy_tables(con: duckdb.DuckDBPyConnection, build: Path) -> tuple[dict[str, int], list[dict]]:
    listing = con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = 'warehouse' and schema_name in ('marts', 'audit') order by 1, 2"
    ).fetchall()
    if not any(schema == "marts" for schema, _, _ in listing):
        raise RuntimeError("the warehouse has no marts: run dbt build first")
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"create schema serving.{identifier(schema)}")
    tables: dict[str, int] = {}
    manifest: list[dict] = []
    parquet_root = build / "parquet"
    for schema, table, comment in listing:
        source = f"warehouse.{identifier(schema)}.{identifier(table)}"
        name = f"serving.{identifier(schema)}.{identifier(table)}"
        con.execute(f"create table {name} as select * from {source}")  # noqa: S608 (validated identifiers)
        if comment:
            con.execute(f"comment on table {name} is {literal(comment)}")
        columns = con.execute(
            "select column_name, data_type, comment from duckdb_columns() where database_name = "
            "'warehouse' and schema_name = ? and table_name = ? order by column_index",
            [schema, table],
        ).fetchall()
        for column, _, column_comment in columns:
            if column_comment:
                con.execute(f"comment on column {name}.{identifier(column)} is {literal(column_comment)}")
        rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]  # noqa: S608 (validated)
        tables[f"{schema}.{table}"] = rows
        folder = parquet_folder(parquet_root, schema, table)
        folder.parent.mkdir(parents=True, exist_ok=True)
        partitioned = (
            rows > 0 and table in PARTITIONED_BY_YEAR and any(column == "year" for column, _, _ in columns)
        )
        if partitioned:
            options = "format parquet, partition_by (year), write_partition_columns true"
            con.execute(f"copy (select * from {name}) to {literal(str(folder))} ({options})")  # noqa: S608
        else:
            folder.mkdir()
            target = literal(str(folder / "data_0.parquet"))
            con.execute(f"copy (select * from {name}) to {target} (format parquet)")  # noqa: S608
        manifest.append(
            {
                "schema": schema,
                "table": table,
                "rows": rows,
                "columns": [{"name": column, "type": kind} for column, kind, _ in columns],
                "parquet": str(folder.relative_to(build)),
                "partitioned_by": ["year"] if partitioned else [],
                "comment": comment,
            }
        )
    return tables, manifest


def _source_loads(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The loads the build holds (from audit.load_log), for the manifest."""
    wanted = ("load_id", "source", "source_file", "status", "rows_read", "loaded_at")
    result = con.execute("select * from serving.audit.load_log order by load_id")
    names = [column[0] for column in result.description]
    loads = []
    for row in result.fetchall():
        record = dict(zip(names, row, strict=True))
        loads.append(
            {
                name: (value.isoformat() if hasattr(value, "isoformat") else value)
                for name, value in record.items()
                if name in wanted
            }
        )
    return loads


def publish(warehouse_path: Path, serving_path: Path) -> PublishResult:
    """Build a new serving version from the warehouse and make it current. `serving_path` is the
    stable name BI opens (`serving/ree.duckdb`); its folder holds builds/ and the links."""
    serving_dir = serving_path.parent
    serving_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(serving_dir)
    builds = serving_dir / "builds"
    builds.mkdir(exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    published_at = now.replace(microsecond=0)
    # Build ids sort in publish order (microseconds), so pruning by name keeps the newest.
    build_id = f"{now:%Y%m%dT%H%M%S.%fZ}-{uuid.uuid4().hex[:6]}"
    work = builds / f".{build_id}.partial"
    work.mkdir()
    try:
        database = work / serving_path.name
        con = duckdb.connect()
        try:
            con.execute(f"attach {literal(str(warehouse_path))} as warehouse (read_only)")
            con.execute(
                f"attach {literal(str(database))} as serving (storage_version {literal(STORAGE_VERSION)})"
            )
            tables, manifest_tables = _copy_tables(con, work)
            con.execute(
                "create table serving.audit.publish_info as select ?::timestamp as published_at, "
                "?::varchar as warehouse_file, ?::bigint as table_count, ?::varchar as build_id, "
                "?::varchar as storage_version",
                [published_at, str(warehouse_path), len(tables), build_id, STORAGE_VERSION],
            )
            source_loads = _source_loads(con)
            con.execute("detach warehouse")
            con.execute("checkpoint serving")
            con.execute("detach serving")
        finally:
            con.close()
        manifest = {
            "build_id": build_id,
            "published_at": published_at.isoformat(),
            "duckdb_file": database.name,
            "duckdb_storage_version": STORAGE_VERSION,
            "warehouse_file": str(warehouse_path),
            "tables": manifest_tables,
            "source_loads": source_loads,
        }
        write_atomic(work / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
        _verify(work, database, tables)
        pause_point("publish")
        _fsync_tree(work)
        final = builds / build_id
        os.replace(work, final)
        _fsync_dir(builds)
        # The switch: one rename of a symlink. Everything below it only creates the stable names once.
        _point(serving_dir / "current", f"builds/{build_id}")
        _point(serving_path, f"current/{serving_path.name}")
        _point(serving_dir / "parquet", "current/parquet")
        _point(serving_dir / "manifest.json", "current/manifest.json")
        (serving_dir / LEGACY_SERVING_FILE).unlink(missing_ok=True)
        Path(f"{serving_dir / LEGACY_SERVING_FILE}.wal").unlink(missing_ok=True)
        _fsync_dir(serving_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    _prune(builds, keep=build_id)
    return PublishResult(path=serving_path, tables=tables, published_at=published_at, build_id=build_id)


def _prune(builds: Path, keep: str) -> None:
    """Keep the newest builds (a reader that holds an old one open keeps its files anyway)."""
    finished = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True
    )
    for old in finished[BUILDS_KEPT:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def _verify(build: Path, database: Path, expected: dict[str, int]) -> None:
    """Reopen the new file read-only, as a BI tool would, and recount every table, in the DuckDB
    file and in its Parquet copy."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        for qualified, rows in expected.items():
            schema, table = qualified.split(".")
            published = f"{identifier(schema)}.{identifier(table)}"
            found = con.execute(f"select count(*) from {published}").fetchall()[0][0]  # noqa: S608
            if found != rows:
                raise RuntimeError(f"published {qualified} has {found} rows, expected {rows}")
            files = literal(str(parquet_folder(build / "parquet", schema, table) / "**" / "*.parquet"))
            in_parquet = con.execute(
                f"select count(*) from read_parquet({files}, hive_partitioning = false)"  # noqa: S608
            ).fetchall()[0][0]
            if in_parquet != rows:
                raise RuntimeError(f"Parquet copy of {qualified} has {in_parquet} rows, expected {rows}")
    finally:
        con.close()
