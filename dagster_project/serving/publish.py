"""Publish: copy the marts (and the audit load log) into a new DuckDB file, check it, and swap it
into `serving/marts.duckdb` atomically.

BI tools open only the serving file, read-only, and query `marts.<table>` and
`audit.load_log`. Because the new version is a separate file that
replaces the old one with `os.replace`, a reader never sees a half-built mart, and a reader that
holds the old file open never blocks the pipeline (it keeps the old version until it reopens).
A failure at any point before the swap leaves the previous serving file untouched.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.lib.faults import pause_point

# Where each warehouse schema goes in the serving file. The marts go to the file's default schema
# `main`: the file is called marts.duckdb, so its catalog is `marts`, and `marts.fct_trade_flows`
# then resolves (catalog marts, schema main) on a plain `duckdb.connect(path, read_only=True)`.
# A schema named `marts` inside a catalog named `marts` makes every `marts.<table>` ambiguous in
# DuckDB ("Binder Error: Ambiguous reference to catalog or schema"), so it is deliberately absent.
PUBLISHED_SCHEMAS = {"marts": "main", "audit": "audit"}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    published_at: datetime.datetime


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"refusing to publish a table with an unexpected name: {name!r}")
    return f'"{name}"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def remove_stale_partials(serving_dir: Path) -> None:
    for partial in serving_dir.glob(".marts-*.duckdb.partial*"):
        partial.unlink(missing_ok=True)


def publish(warehouse_path: Path, serving_path: Path) -> PublishResult:
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(serving_path.parent)
    partial = serving_path.parent / f".marts-{uuid.uuid4().hex}.duckdb.partial"
    published_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect(str(partial))
        try:
            con.execute(f"attach {_literal(str(warehouse_path))} as warehouse (read_only)")
            listing = con.execute(
                "select schema_name, table_name, comment from duckdb_tables() "
                "where database_name = 'warehouse' and schema_name in ('marts', 'audit') "
                "order by 1, 2"
            ).fetchall()
            if not any(schema == "marts" for schema, _, _ in listing):
                raise RuntimeError(f"{warehouse_path} has no marts: run dbt build first")
            for schema in PUBLISHED_SCHEMAS.values():
                con.execute(f"create schema if not exists {_identifier(schema)}")
            for schema, table, comment in listing:
                source = f"warehouse.{_identifier(schema)}.{_identifier(table)}"
                name = f"{_identifier(PUBLISHED_SCHEMAS[schema])}.{_identifier(table)}"
                con.execute(f"create table {name} as select * from {source}")  # noqa: S608 (validated identifiers)
                if comment:
                    con.execute(f"comment on table {name} is {_literal(comment)}")
                columns = con.execute(
                    "select column_name, comment from duckdb_columns() where database_name = "
                    "'warehouse' and schema_name = ? and table_name = ? and comment is not null",
                    [schema, table],
                ).fetchall()
                for column, column_comment in columns:
                    con.execute(
                        f"comment on column {name}.{_identifier(column)} is {_literal(column_comment)}"
                    )
                count_sql = f"select count(*) from {name}"  # noqa: S608 (validated identifiers)
                tables[f"{schema}.{table}"] = con.execute(count_sql).fetchall()[0][0]
            con.execute(
                "create table audit.publish_info as select ?::timestamp as published_at, "
                "?::varchar as warehouse_file, ?::bigint as table_count",
                [published_at, str(warehouse_path), len(tables)],
            )
            con.execute("detach warehouse")
            con.execute("checkpoint")
        finally:
            con.close()
        _verify(partial, tables)
        pause_point("publish")
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, serving_path)
        directory = os.open(serving_path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        partial.unlink(missing_ok=True)
        Path(f"{partial}.wal").unlink(missing_ok=True)
    return PublishResult(path=serving_path, tables=tables, published_at=published_at)


def _verify(path: Path, expected: dict[str, int]) -> None:
    """Reopen the new file read-only, as a BI tool would, and recount every table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        for qualified, rows in expected.items():
            schema, table = qualified.split(".")
            published = f"{_identifier(PUBLISHED_SCHEMAS[schema])}.{_identifier(table)}"
            count_sql = f"select count(*) from {published}"  # noqa: S608 (validated identifiers)
            found = con.execute(count_sql).fetchall()[0][0]
            if found != rows:
                raise RuntimeError(f"published {qualified} has {found} rows, expected {rows}")
    finally:
        con.close()
